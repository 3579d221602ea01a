//! `procore-sandbox`: see `procore-sandbox --help`.

use clap::Parser;
use procore_sandbox::{start, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let sandbox = start(config).await?;
    // Tests read these two lines to find the servers.
    println!("api: {}", sandbox.api_url);
    println!("storage: {}", sandbox.storage_url);
    stopped().await?;
    // Dropping it removes the embedded store's temporary folder: tests stop the
    // sandbox with SIGTERM, and a killed process would leave gigabytes behind.
    drop(sandbox);
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
