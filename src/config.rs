//! Command line and environment configuration (RULES §1).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// `mlte-graphql [serve|print-schema] [flags]`; every flag also reads its env variable.
#[derive(Debug, Parser)]
#[command(name = "mlte-graphql", version, about = "MLTE's user and access service, as GraphQL")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the GraphQL schema (SDL) and exit.
    PrintSchema,
    /// Apply the database migrations and exit (0, also when there was nothing to do).
    Migrate,
    /// Manage users directly in the database (for operators; no server needed).
    #[command(subcommand)]
    User(UserCommand),
    /// Read the audit log directly in the database (no server needed).
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// Reading the audit log (RULES §9) on the database named by `DATABASE_URL`.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Print events, newest first.
    List {
        /// Only events at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only events made by this user.
        #[arg(long)]
        actor: Option<String>,
        /// Most events printed.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
        /// One JSON object per line, with the fields of `auditLog`.
        #[arg(long)]
        json: bool,
    },
}

/// Operator commands on the database named by `DATABASE_URL`. Passwords are read
/// from standard input.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a user; its password is read from stdin.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Regular)]
        role: RoleArg,
    },
    /// Set a user's password (read from stdin); its tokens stop working and its
    /// failed-login lock is lifted.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Disable a user (not the last enabled admin).
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Regular,
}

/// Everything the server needs to start.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// `sqlite://FILE` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://mlte.db", value_parser = parse_database_url,
          global = true)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "MLTE_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: SocketAddr,

    /// HS256 signing key, at least 32 bytes; unset: a random key per process.
    #[arg(long, env = "MLTE_JWT_SECRET", hide_env_values = true, value_parser = parse_jwt_secret, global = true)]
    pub jwt_secret: Option<Secret>,

    /// Token lifetime in seconds.
    #[arg(long, env = "MLTE_TOKEN_TTL_SECS", default_value_t = 7200,
          value_parser = clap::value_parser!(u32).range(1..=2_147_483_647), global = true)]
    pub token_ttl_secs: u32,

    /// Longest a session lives, in seconds from its login: refreshed tokens never
    /// outlive it (RULES §8).
    #[arg(long, env = "MLTE_SESSION_MAX_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u32).range(1..=2_147_483_647), global = true)]
    pub session_max_secs: u32,

    /// Days the audit log keeps an event; older ones are never shown and are deleted
    /// in small batches.
    #[arg(long, env = "MLTE_AUDIT_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub audit_retention_days: u32,

    /// Do not apply migrations at start: refuse (exit 1, naming them) a database with
    /// pending ones. For deployments that run `mlte-graphql migrate` first.
    #[arg(long, env = "MLTE_NO_MIGRATE", global = true)]
    pub no_migrate: bool,

    /// Unnamed statements, each unit of work in one transaction: for PostgreSQL behind
    /// PgBouncer in transaction pooling mode. Costs round trips; implies --no-migrate.
    #[arg(long, env = "MLTE_UNNAMED_STATEMENTS", global = true)]
    pub unnamed_statements: bool,

    /// Seconds a stopping process answers `GET /health` with 503 "draining" while
    /// serving everything else, so that a load balancer stops sending it requests.
    #[arg(long, env = "MLTE_SHUTDOWN_GRACE_SECS", default_value_t = 0, global = true)]
    pub shutdown_grace_secs: u64,

    /// Password for the `admin` user created on an empty database; unset: random,
    /// printed once. Only from `MLTE_ADMIN_PASSWORD`: a command line shows in `ps`.
    #[arg(skip)]
    pub admin_password: Option<Secret>,

    /// Largest request body in bytes (413 beyond, chunked bodies included).
    #[arg(long, env = "MLTE_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Deepest selection nesting of a query.
    #[arg(long, env = "MLTE_MAX_QUERY_DEPTH", default_value_t = 16, global = true)]
    pub max_query_depth: usize,

    /// Most a query may ask for, counted through fragments: a field counts one, a list
    /// field ten times its selection (RULES §11).
    #[arg(long, env = "MLTE_MAX_QUERY_COMPLEXITY", default_value_t = 20_000, global = true)]
    pub max_query_complexity: usize,

    /// Deepest nesting the parser follows (selections, lists and objects in values);
    /// GraphiQL's schema query needs 17.
    #[arg(long, env = "MLTE_MAX_RECURSION_DEPTH", default_value_t = 32, global = true)]
    pub max_recursion_depth: usize,

    /// Most directives on one field.
    #[arg(long, env = "MLTE_MAX_DIRECTIVES", default_value_t = 8, global = true)]
    pub max_directives: usize,

    /// Bytes this process keeps of automatic persisted queries (queries over 8 KiB
    /// run but are not kept); past it, the least recently used are forgotten.
    #[arg(long, env = "MLTE_APQ_MAX_BYTES", default_value_t = 8 * 1024 * 1024, global = true)]
    pub apq_max_bytes: usize,

    /// Most bytes of JSON one answer may have; past it the request ends with
    /// RESPONSE_TOO_LARGE (RULES §11).
    #[arg(long, env = "MLTE_MAX_RESPONSE_BYTES", default_value_t = 64 * 1024 * 1024, global = true)]
    pub max_response_bytes: usize,

    /// Memory that requests listing every user may take at once; past it they wait for
    /// their turn (RULES §11). One larger than it runs alone.
    #[arg(long, env = "MLTE_HEAVY_MEMORY_BYTES", default_value_t = 192 * 1024 * 1024, global = true)]
    pub heavy_memory_bytes: usize,

    /// Verified tokens this process remembers (a request with one skips checking its
    /// signature again); past it the least used are forgotten.
    #[arg(long, env = "MLTE_TOKEN_CACHE_ENTRIES", default_value_t = 50_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000_000), global = true)]
    pub token_cache_entries: usize,

    /// Users whose groups this process remembers while no group, permission or
    /// membership changes; past it the least used are forgotten.
    #[arg(long, env = "MLTE_GROUPS_CACHE_ENTRIES", default_value_t = 50_000,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000_000), global = true)]
    pub groups_cache_entries: usize,

    /// Parsed documents (query texts up to 8 KiB) this process remembers; past it the
    /// least used are forgotten.
    #[arg(long, env = "MLTE_DOCUMENT_CACHE_ENTRIES", default_value_t = 1024,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000), global = true)]
    pub document_cache_entries: usize,

    /// Most aliased fields in one document.
    #[arg(long, env = "MLTE_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,

    /// Most root fields in one operation.
    #[arg(long, env = "MLTE_MAX_ROOT_FIELDS", default_value_t = 20, global = true)]
    pub max_root_fields: usize,

    /// Turns off introspection and field suggestions.
    #[arg(long, env = "MLTE_DISABLE_INTROSPECTION", global = true)]
    pub disable_introspection: bool,

    /// Seconds one request may take before it is answered 503.
    #[arg(long, env = "MLTE_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub request_timeout_secs: u64,

    /// Seconds a client has to send a request's headers, and then its body.
    #[arg(long, env = "MLTE_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub read_timeout_secs: u64,

    /// Argon2 computations run at once; default: one per core.
    #[arg(long, env = "MLTE_ARGON2_CONCURRENCY", global = true)]
    pub argon2_concurrency: Option<usize>,

    /// Logins and password changes that may wait for Argon2; beyond, RATE_LIMITED.
    #[arg(long, env = "MLTE_ARGON2_MAX_WAITING", default_value_t = 1000, global = true)]
    pub argon2_max_waiting: usize,

    /// Origins (comma-separated, as browsers send them: scheme://host[:port]) whose
    /// pages may call the API from a browser, or `*` for any; none by default.
    #[arg(long = "cors-origin", env = "MLTE_CORS_ORIGINS", default_value = "", hide_default_value = true,
          value_parser = CorsOrigins::parse, global = true)]
    pub cors_origins: CorsOrigins,

    /// More request headers (comma-separated names) that browsers may send, beyond
    /// those RULES §1 names.
    #[arg(long, env = "MLTE_CORS_ALLOW_HEADERS", value_delimiter = ',', value_parser = parse_header_name, global = true)]
    pub cors_allow_headers: Vec<String>,

    /// Log lines as `pretty` text or `json`; the filter follows `RUST_LOG` (default info).
    #[arg(long, env = "MLTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Most database connections this process opens; default: 10 on PostgreSQL, three
    /// per core (at most 10) on SQLite.
    #[arg(long, env = "MLTE_DB_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub db_max_connections: Option<u32>,

    /// Seconds a request waits for a database connection before it fails.
    #[arg(long, env = "MLTE_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub db_acquire_timeout_secs: u64,

    /// Consecutive failed logins after which a username is locked (1 s, doubling).
    #[arg(long, env = "MLTE_LOGIN_MAX_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures: u32,

    /// The first lock of a username, in seconds; each further failure doubles it.
    #[arg(long, env = "MLTE_LOGIN_FIRST_LOCK_SECS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_first_lock_secs: u64,

    /// The longest lock of a username, in seconds.
    #[arg(long, env = "MLTE_LOGIN_MAX_LOCK_SECS", default_value_t = 900, global = true)]
    pub login_max_lock_secs: u64,

    /// Failed logins from one address within the window beyond which it is refused.
    #[arg(long, env = "MLTE_LOGIN_ADDRESS_MAX_FAILURES", default_value_t = 100, global = true)]
    pub login_address_max_failures: u32,

    /// The window of the per-address limit, in seconds.
    #[arg(long, env = "MLTE_LOGIN_ADDRESS_WINDOW_SECS", default_value_t = 600, global = true)]
    pub login_address_window_secs: u64,

    /// Proxies (comma-separated CIDRs or addresses) whose `X-Forwarded-For` names the
    /// client: the right-most address in it that is not one of them. None by default.
    #[arg(long, env = "MLTE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<IpNet>,

    /// Seconds after its last failure that a username's failure count is forgotten
    /// (never while it is locked).
    #[arg(long, env = "MLTE_LOGIN_USER_WINDOW_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub login_user_window_secs: u64,
}

impl Config {
    /// The configuration with every default, for a given database: what tests start from.
    /// The environment is not read: a developer's `MLTE_*` never reaches a test.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let command = Cli::command().mut_args(|arg| arg.env(None));
        let matches = command.get_matches_from(["mlte-graphql"]);
        let cli = Cli::from_arg_matches(&matches).expect("the defaults parse");
        Config { database_url: database_url.into(), ..cli.config }
    }
}

/// The variables whose empty value is a bad value rather than unset (RULES §1).
const MUST_NOT_BE_EMPTY: [&str; 2] = ["DATABASE_URL", "MLTE_JWT_SECRET"];

/// The variables this program reads, beyond those of its flags.
const OTHER_VARIABLES: [&str; 1] = ["MLTE_ADMIN_PASSWORD"];

impl Cli {
    /// The command line and environment, every value checked before anything starts
    /// (RULES §1): a bad one ends the process with status 2 and a message naming its
    /// flag and variable. An empty variable is unset, but for `DATABASE_URL` and
    /// `MLTE_JWT_SECRET`; an unknown `MLTE_*` variable is a warning.
    pub fn load() -> Cli {
        // An empty variable is unset: its flag does not read it (but for the two where
        // an empty value is a deployment mistake, not a wish for the default).
        let command = Cli::command().mut_args(|arg| {
            let variable = arg.get_env().and_then(|env| env.to_str()).map(str::to_owned);
            match variable {
                Some(variable)
                    if !MUST_NOT_BE_EMPTY.contains(&variable.as_str())
                        && std::env::var_os(&variable).is_some_and(|value| value.is_empty()) =>
                {
                    arg.env(None)
                }
                _ => arg,
            }
        });
        let matches = command.try_get_matches().unwrap_or_else(|error| exit_naming_the_variable(error));
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| exit_naming_the_variable(error));
        match std::env::var("MLTE_ADMIN_PASSWORD") {
            Ok(password) if !password.is_empty() => {
                if let Err(error) = crate::domain::validate::password(&password) {
                    eprintln!("error: invalid value for MLTE_ADMIN_PASSWORD: {error}");
                    std::process::exit(2);
                }
                cli.config.admin_password = Some(Secret::new(password));
            }
            _ => {}
        }
        let known: Vec<String> = Cli::command()
            .get_arguments()
            .filter_map(|arg| arg.get_env().and_then(|env| env.to_str()).map(str::to_owned))
            .chain(OTHER_VARIABLES.map(str::to_owned))
            .collect();
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("MLTE_") && !name.starts_with("MLTE_TEST_") && !known.iter().any(|k| *k == *name) {
                eprintln!("warning: unknown variable {name} (ignored)");
            }
        }
        cli
    }
}

/// Prints clap's error with the variable of the flag it names, and exits: clap names
/// the flag only, though the value may have come from the environment.
fn exit_naming_the_variable(error: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue};
    let flag = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(flag)) => flag.split_whitespace().next().map(str::to_owned),
        _ => None,
    };
    let variable = flag.and_then(|flag| {
        let command = Cli::command();
        let arg = command.get_arguments().find(|arg| arg.get_long().is_some_and(|long| flag == format!("--{long}")))?;
        arg.get_env().and_then(|env| env.to_str()).map(str::to_owned)
    });
    match variable {
        Some(variable) if !error.to_string().contains(&variable) => {
            eprint!("{}", error.render());
            eprintln!("(the flag's environment variable is {variable})");
            std::process::exit(2);
        }
        _ => error.exit(),
    }
}

fn parse_database_url(value: &str) -> Result<String, String> {
    let supported = ["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| value.starts_with(scheme));
    if supported {
        Ok(value.to_owned())
    } else {
        Err(format!("{value:?} is not sqlite://… or postgres://… (--database-url / DATABASE_URL)"))
    }
}

fn parse_jwt_secret(value: &str) -> Result<Secret, String> {
    if value.len() < crate::domain::validate::JWT_SECRET_MIN_BYTES {
        return Err(format!(
            "the key must be at least {} bytes (--jwt-secret / MLTE_JWT_SECRET)",
            crate::domain::validate::JWT_SECRET_MIN_BYTES
        ));
    }
    Ok(Secret::new(value))
}

/// Which browser origins may call the API (RULES §1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// None: no CORS headers at all.
    #[default]
    None,
    /// `*`: any origin (no credentials mode; bearer tokens still work).
    Any,
    /// These exact origins, echoed when they ask.
    Exact(Vec<String>),
}

impl CorsOrigins {
    /// A comma-separated list of origins exactly as browsers send them
    /// (`scheme://host[:port]`: lowercase, no default port, no path, no trailing
    /// slash), or `*` alone; spaces around items are ignored, and empty is none.
    pub fn parse(value: &str) -> Result<Self, String> {
        let items: Vec<&str> = value.split(',').map(str::trim).filter(|item| !item.is_empty()).collect();
        if items.is_empty() {
            return Ok(CorsOrigins::None);
        }
        if items.contains(&"*") {
            return if items.len() == 1 {
                Ok(CorsOrigins::Any)
            } else {
                Err("`*` stands alone (--cors-origin / MLTE_CORS_ORIGINS)".to_owned())
            };
        }
        for item in &items {
            let as_sent = url::Url::parse(item).ok().map(|url| url.origin().ascii_serialization());
            if as_sent.as_deref() != Some(*item) {
                return Err(format!(
                    "{item:?} is not an origin as browsers send it: scheme://host[:port], lowercase, \
                     no default port, no path, no trailing slash (--cors-origin / MLTE_CORS_ORIGINS)"
                ));
            }
        }
        Ok(CorsOrigins::Exact(items.into_iter().map(str::to_owned).collect()))
    }
}

/// A request header name for `--cors-allow-headers`, lowercased.
fn parse_header_name(value: &str) -> Result<String, String> {
    let name = value.trim().to_ascii_lowercase();
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid {
        Ok(name)
    } else {
        Err(format!("{value:?} is not a header name (--cors-allow-headers / MLTE_CORS_ALLOW_HEADERS)"))
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address, spaces around it ignored.
fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{value:?} is not a CIDR or an IP address"))
}

/// A string that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut config = Config::for_database("sqlite://x.db");
        config.jwt_secret = Some(Secret::new("very-secret-value-of-enough-length"));
        assert!(!format!("{config:?}").contains("very-secret"));
    }

    #[test]
    fn cors_origins_are_exact_origins_or_a_lone_star() {
        assert_eq!(CorsOrigins::parse(""), Ok(CorsOrigins::None));
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            CorsOrigins::parse(" https://mlte.example.org , http://localhost:3000"),
            Ok(CorsOrigins::Exact(vec!["https://mlte.example.org".into(), "http://localhost:3000".into()]))
        );
        for bad in [
            "http://localhost:3000/",
            "localhost:3000",
            "http://Localhost:3000",
            "https://mlte.example.org:443",
            "http://x.org/path",
            "*, http://x.org",
            "null",
        ] {
            let error = CorsOrigins::parse(bad).unwrap_err();
            assert!(error.contains("MLTE_CORS_ORIGINS"), "{bad}: {error}");
        }
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let cli = Cli::try_parse_from(["mlte-graphql", "--trusted-proxies", "10.0.0.0/8, 127.0.0.1,::1"]).unwrap();
        let proxies: Vec<String> = cli.config.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(proxies, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert!(Cli::try_parse_from(["mlte-graphql", "--trusted-proxies", "10.0.0.0/33"]).is_err());
        assert!(Cli::try_parse_from(["mlte-graphql", "--trusted-proxies", "proxy.local"]).is_err());
    }

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let cli = Cli::try_parse_from(["mlte-graphql", "serve", "--listen", "127.0.0.1:9"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert_eq!(cli.config.listen.port(), 9);
        let cli = Cli::try_parse_from(["mlte-graphql", "--token-ttl-secs", "5"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.config.token_ttl_secs, 5);
    }

    #[test]
    fn the_test_configuration_ignores_the_environment() {
        // SAFETY: no other test of this binary reads or writes these variables.
        unsafe {
            std::env::set_var("MLTE_TOKEN_TTL_SECS", "5");
            std::env::set_var("MLTE_ADMIN_PASSWORD", "from-the-developer-shell");
        }
        let config = Config::for_database("sqlite://x.db");
        assert_eq!(config.token_ttl_secs, 7200);
        assert!(config.admin_password.is_none());
    }
}
