//! `gatehouse`: see `gatehouse --help`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;

/// mimalloc: allocation showed up as about an eighth of the Flag API's profile with the
/// system allocator (bench/flags).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use gatehouse_server::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Err(e) = gatehouse_server::config::load_config_file(&args) {
        eprintln!("gatehouse: {e}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(cli::Command::Serve));
    // Held to the end of main, after the runtime (declared later, dropped first): dropping it
    // sends the spans still buffered (NFR-MON-001). Only `serve` exports: the commands have
    // no request spans, and a script's exit should not wait on a collector.
    let _telemetry = gatehouse_server::telemetry::init(
        &cli.settings.log,
        cli.settings.log_format,
        !serving,
        cli.settings.otlp_endpoint.as_deref().filter(|_| serving),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gatehouse: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "gatehouse failed");
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}
