use std::io::IsTerminal;

use clap::Parser;
use mlte_graphql::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::PrintSchema) => {
            print!("{}", mlte_graphql::schema_sdl());
            return Ok(());
        }
        Some(Command::User(command)) => {
            println!("{}", mlte_graphql::admin::run(command, &cli.config, std::io::stdin()).await?);
            return Ok(());
        }
        Some(Command::Serve) | None => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    mlte_graphql::app::serve(&cli.config).await
}
