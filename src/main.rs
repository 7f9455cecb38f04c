use std::io::IsTerminal;

use mlte_graphql::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    mlte_graphql::memory::return_large_blocks_on_free();
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::load();
    match &cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", mlte_graphql::schema_sdl());
            return Ok(());
        }
        Some(Command::Migrate) => {
            let settings = mlte_graphql::store::PoolSettings {
                migrate: true,
                ..mlte_graphql::store::PoolSettings::from_config(&cli.config)
            };
            mlte_graphql::store::Db::connect(&cli.config.database_url, &settings).await?;
            println!("the database is migrated");
            return Ok(());
        }
        Some(Command::Audit(command)) => {
            print!("{}", mlte_graphql::operator::audit(command, &cli.config).await?);
            return Ok(());
        }
        Some(Command::User(command)) => {
            println!("{}", mlte_graphql::operator::run(command, &cli.config, std::io::stdin()).await?);
            return Ok(());
        }
        Some(Command::Serve) | None => {}
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.config.log_format {
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Pretty => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    mlte_graphql::app::serve(&cli.config).await
}
