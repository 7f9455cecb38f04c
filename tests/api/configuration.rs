//! RULES §1: every flag and environment value is checked before the database is
//! touched, in every subcommand; a bad one ends the process with status 2 and a
//! message naming its flag (where it has one) and its variable.

use crate::helpers::server_command;

/// Runs `mlte-graphql <args>` on a SQLite file that does not exist yet, with `env`;
/// its status, its stderr, and whether the file was created.
async fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("mlte.db");
    let output = server_command()
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", database.display()))
        .env("MLTE_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned(), database.exists())
}

#[tokio::test]
async fn a_bad_value_in_any_subcommand_exits_2_naming_flag_and_variable_and_creates_nothing() {
    let bad: [(&str, &str, &str); 8] = [
        ("MLTE_TOKEN_TTL_SECS", "abc", "--token-ttl-secs"),
        ("MLTE_TOKEN_TTL_SECS", "0", "--token-ttl-secs"),
        ("MLTE_JWT_SECRET", "too-short", "--jwt-secret"),
        ("MLTE_JWT_SECRET", "", "--jwt-secret"),
        ("DATABASE_URL", "", "--database-url"),
        ("DATABASE_URL", "mysql://localhost/x", "--database-url"),
        ("MLTE_TRUSTED_PROXIES", "10.0.0.0/33", "--trusted-proxies"),
        ("MLTE_LISTEN", "not-an-address", "--listen"),
    ];
    for args in [&["serve"][..], &["migrate"], &["user", "disable", "--username", "bob"], &["audit", "list"]] {
        for (variable, value, flag) in bad {
            let (status, stderr, created) = run(args, &[(variable, value)]).await;
            assert_eq!(status, Some(2), "{args:?} {variable}={value:?}: {stderr}");
            assert!(stderr.contains(flag) && stderr.contains(variable), "{args:?} {variable}={value:?}: {stderr}");
            assert!(!created, "{args:?} {variable}={value:?} created the database");
        }
    }
}

#[tokio::test]
async fn an_admin_password_that_breaks_the_rules_is_refused_whether_or_not_it_would_be_used() {
    for (args, password) in [(&["serve"][..], "short"), (&["migrate"][..], "has\u{7f}control")] {
        let (status, stderr, created) = run(args, &[("MLTE_ADMIN_PASSWORD", password)]).await;
        assert_eq!(status, Some(2), "{stderr}");
        assert!(stderr.contains("MLTE_ADMIN_PASSWORD"), "{stderr}");
        assert!(!created);
    }
    // It has no flag: a command line shows in `ps`.
    let (status, stderr, _) = run(&["serve", "--admin-password", "long-enough-password"], &[]).await;
    assert_eq!(status, Some(2), "{stderr}");
}

#[tokio::test]
async fn an_empty_value_is_unset_and_an_unknown_variable_is_a_warning() {
    let (status, stderr, created) =
        run(&["migrate"], &[("MLTE_TOKEN_TTL_SECS", ""), ("MLTE_ADMIN_PASSWORD", ""), ("MLTE_NO_SUCH_THING", "1")])
            .await;
    assert_eq!(status, Some(0), "{stderr}");
    assert!(created, "migrated");
    assert!(stderr.contains("MLTE_NO_SUCH_THING"), "{stderr}");
}
