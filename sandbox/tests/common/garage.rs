//! A throwaway single-node Garage (a real S3 server) for the storage tests.
//!
//! Needs the `garage` binary: `GARAGE_BIN`, else `~/.cargo/bin/garage` (installed by
//! scripts/bootstrap). Its absence fails the test: these checks are not optional.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use url::Url;

pub struct Garage {
    child: Child,
    _dir: tempfile::TempDir,
    pub endpoint: Url,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("GARAGE_BIN") {
        return PathBuf::from(path);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let path = PathBuf::from(home).join(".cargo/bin/garage");
    assert!(
        path.exists(),
        "the Garage tests need the garage binary: set GARAGE_BIN or run scripts/bootstrap (it installs garage 2.5.0)"
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Garage {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (s3_port, rpc_port) = (free_port(), free_port());
        let region = "garage".to_string();
        let config = format!(
            r#"
metadata_dir = "{path}/meta"
data_dir = "{path}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{region}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"
"#,
            path = dir.path().display(),
            secret = "0".repeat(64),
        );
        let config_path = dir.path().join("garage.toml");
        std::fs::write(&config_path, config).unwrap();
        let (access_key, secret_key) = ("GK0123456789abcdef01234567".to_string(), "5".repeat(64));
        let bucket = "procore-uploads".to_string();
        let log = std::fs::File::create(dir.path().join("garage.log")).unwrap();
        let child = Command::new(binary())
            .arg("-c")
            .arg(&config_path)
            .args(["server", "--single-node", "--default-bucket"])
            .env("GARAGE_DEFAULT_ACCESS_KEY", &access_key)
            .env("GARAGE_DEFAULT_SECRET_KEY", &secret_key)
            .env("GARAGE_DEFAULT_BUCKET", &bucket)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("garage starts");
        let garage = Self {
            child,
            endpoint: Url::parse(&format!("http://127.0.0.1:{s3_port}/")).unwrap(),
            bucket,
            region,
            access_key,
            secret_key,
            _dir: dir,
        };
        garage.wait_ready().await;
        garage
    }

    /// Waits until the default bucket answers a signed HEAD.
    async fn wait_ready(&self) {
        let client = procore_sandbox::s3_client::S3Client::new(
            self.endpoint.clone(),
            self.bucket.clone(),
            procore_sandbox::s3_client::Credentials {
                access_key: self.access_key.clone(),
                secret_key: self.secret_key.clone(),
                region: self.region.clone(),
            },
        )
        .unwrap();
        for _ in 0..300 {
            if client.head_object("probe").await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(self._dir.path().join("garage.log")).unwrap_or_default();
        panic!("garage did not become ready in 30 s; its log:\n{log}");
    }
}
