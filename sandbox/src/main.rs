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
    tokio::signal::ctrl_c().await?;
    drop(sandbox);
    Ok(())
}
