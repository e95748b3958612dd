//! `berth-agent`: the discovery agent of Berth's micro image. Reads the
//! kernel command line, reports the hardware, then serves commands until
//! Berth powers the machine off. Logs go to stderr (the console).

use std::process::ExitCode;

use berth::agent::{read_kernel_args, run, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    let started = Settings::from_env().and_then(|s| read_kernel_args(&s).map(|a| (s, a)));
    let debug = started.as_ref().is_ok_and(|(_, a)| a.debug);
    let filter = std::env::var("RUST_LOG")
        .unwrap_or_else(|_| if debug { "debug" } else { "info" }.to_string());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let result = match started {
        Ok((settings, args)) => {
            tracing::info!(version = berth::agent::VERSION, root = %settings.root.display(), "berth-agent starting");
            run(settings, args).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("berth-agent stopped: {e}");
            eprintln!("berth-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
