//! procore-sandbox: a local stand-in for Procore's upload API and its S3 storage.
//!
//! [`start`] runs both on 127.0.0.1 (free ports by default) and returns their URLs;
//! the binary prints them. See the crate README for the endpoints and flags.

pub mod api;
pub mod config;
pub mod documents;
pub mod post_policy;
pub mod s3_client;
pub mod state;
pub mod storage;
pub mod store;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

pub use config::{Config, Faults};

/// A running sandbox; dropping it stops both servers.
pub struct Sandbox {
    /// Base URL of the Procore API (and of `/_sandbox/`).
    pub api_url: Url,
    /// Base URL of the storage the instructions point at.
    pub storage_url: Url,
    /// The client the API side reaches that storage with (for tests that check the
    /// storage itself).
    pub storage: s3_client::S3Client,
    tasks: Vec<JoinHandle<()>>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the API and (unless `--storage-endpoint`) the embedded store.
pub async fn start(config: Config) -> Result<Sandbox> {
    let mut tasks = Vec::new();
    let mut data_dir = None;
    let (s3, storage) = match &config.storage_endpoint {
        Some(endpoint) => {
            let credentials = s3_client::Credentials {
                access_key: config.storage_access_key.clone().unwrap_or_default(),
                secret_key: config.storage_secret_key.clone().unwrap_or_default(),
                region: config.storage_region.clone(),
            };
            let s3 = s3_client::S3Client::new(
                endpoint.clone(),
                config.storage_bucket.clone(),
                credentials,
            )?;
            s3.ensure_bucket()
                .await
                .context("reaching --storage-endpoint")?;
            s3.allow_browser_uploads(!config.hide_etag)
                .await
                .context("setting the bucket's CORS rules (PutBucketCors)")?;
            (s3, None)
        }
        None => {
            let root = match &config.data_dir {
                Some(dir) => dir.clone(),
                None => {
                    let dir = tempfile::tempdir().context("creating a temporary store folder")?;
                    let path = dir.path().to_path_buf();
                    data_dir = Some(dir);
                    path
                }
            };
            let credentials = s3_client::Credentials {
                access_key: "SANDBOXACCESSKEY".into(),
                secret_key: random_secret(),
                region: config.storage_region.clone(),
            };
            let (listener, addr) = storage::bind(config.host, config.storage_port).await?;
            let endpoint = Url::parse(&format!("http://{addr}/"))?;
            let service = storage::s3_service(
                &root,
                &config.storage_bucket,
                &credentials.access_key,
                &credentials.secret_key,
            )?;
            let s3 =
                s3_client::S3Client::new(endpoint, config.storage_bucket.clone(), credentials)?;
            (s3, Some((listener, service)))
        }
    };
    let storage_url = s3.bucket_url();
    let state = state::AppState::new(config.clone(), s3.clone());
    if let Some((listener, service)) = storage {
        tasks.push(tokio::spawn(storage::serve(
            listener,
            state.clone(),
            service,
        )));
    }
    let listener = TcpListener::bind((config.host, config.port))
        .await
        .context("binding the API port")?;
    let api_url = Url::parse(&format!("http://{}/", listener.local_addr()?))?;
    let app = api::router(state);
    tasks.push(tokio::spawn(api::serve(listener, app)));
    Ok(Sandbox {
        api_url,
        storage_url,
        storage: s3,
        tasks,
        _data_dir: data_dir,
    })
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}
