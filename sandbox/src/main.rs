//! `procore-sandbox`: see `procore-sandbox --help`.

use clap::Parser;
use procore_sandbox::{start, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let sandbox = start(config).await?;
    // Listening before the URLs are printed: a test that reads them and at once sends
    // SIGTERM must find the handler in place, not the default (which kills).
    let stop = stopped()?;
    // Tests read these two lines to find the servers.
    println!("api: {}", sandbox.api_url);
    println!("storage: {}", sandbox.storage_url);
    stop.await?;
    // Dropping it removes the embedded store's temporary folder: tests stop the
    // sandbox with SIGTERM, and a killed process would leave gigabytes behind.
    drop(sandbox);
    Ok(())
}

/// Listens for Ctrl-C (SIGINT) and, on Unix, SIGTERM from now on; the future resolves
/// on the first of them.
fn stopped() -> std::io::Result<impl std::future::Future<Output = std::io::Result<()>>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => Ok(()),
                _ = terminate.recv() => Ok(()),
            }
        })
    }
    #[cfg(not(unix))]
    Ok(tokio::signal::ctrl_c())
}
