use std::io::IsTerminal;

use clap::Parser;
use mlte_graphql::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    return_large_blocks_to_the_system();
    tokio::runtime::Runtime::new()?.block_on(run())
}

/// Argon2 takes 19 MiB per hash on whichever blocking thread runs it. glibc raises
/// its mmap threshold after the first such block is freed and from then on keeps
/// them in per-thread arenas, so memory grows with every thread that ever hashed
/// (800 MB under a login burst). A fixed threshold hands large blocks back on free.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

async fn run() -> anyhow::Result<()> {
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
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.config.log_format {
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Pretty => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    mlte_graphql::app::serve(&cli.config).await
}
