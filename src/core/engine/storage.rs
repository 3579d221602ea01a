//! One storage request: retried on 5xx, 429 and network errors, abandoned when it
//! makes no progress for the client's stall timeout.

use std::cell::Cell;
use std::pin::pin;

use futures_util::future::{select, Either};

use super::Client;
use crate::core::api::http_error;
use crate::core::error::{redact_url, truncate_body};
use crate::core::http::{Http, Request, Response, Target, Tokens};
use crate::core::protocol;
use crate::core::retry::{
    classify, elapsed_ms, rate_limit_wait_secs, storage_backoff, Class, STORAGE_ATTEMPTS,
};
use crate::core::Error;

impl<H: Http, T: Tokens> Client<'_, H, T> {
    /// One storage request, retried on 5xx, 429 and network errors; an expiry comes
    /// back as [`Error::Expired`] for the caller to renew the instructions.
    pub(super) async fn storage(
        &self,
        request: Request,
        progress: &dyn Fn(u64),
    ) -> Result<Response, Error> {
        protocol::check_storage_url(&request.url, self.options.allow_insecure_storage)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = {
                let _slot = self.shared.storage.acquire().await;
                self.send_watched(request.clone(), progress).await
            };
            let response = match sent {
                Ok(response) => response,
                Err(Error::Network { .. }) if attempt < STORAGE_ATTEMPTS => {
                    let wait = storage_backoff(attempt, None, self.http.jitter());
                    self.http.sleep(wait).await?;
                    continue;
                }
                Err(error) => return Err(error),
            };
            match classify(Target::Storage, response.status, &response.body) {
                Class::Success => return Ok(response),
                Class::Expired => return Err(Error::Expired(truncate_body(&response.body))),
                Class::Retryable | Class::RateLimited if attempt < STORAGE_ATTEMPTS => {
                    let retry_after = rate_limit_wait_secs(
                        response.header("retry-after"),
                        None,
                        response.header("date"),
                        self.http.wall_clock_ms() / 1000,
                    );
                    let wait = storage_backoff(attempt, retry_after, self.http.jitter());
                    self.http.sleep(wait).await?;
                }
                _ => {
                    let now_secs = self.http.wall_clock_ms() / 1000;
                    return Err(http_error(
                        request.method,
                        &request.url,
                        &response,
                        now_secs,
                    ));
                }
            }
        }
    }

    /// Sends `request`; with no upload progress for the client's stall timeout it is
    /// abandoned (dropping it aborts it) and fails as a network error, to be retried.
    pub(super) async fn send_watched(
        &self,
        request: Request,
        progress: &dyn Fn(u64),
    ) -> Result<Response, Error> {
        let timeout = self.shared.limits.stall_timeout_ms;
        if timeout == 0 {
            return self.http.send(request, progress).await;
        }
        // When progress last moved, and how far it had got.
        let moved = Cell::new((self.http.now_ms(), 0u64));
        let watched = |sent: u64| {
            if sent > moved.get().1 {
                moved.set((self.http.now_ms(), sent));
            }
            progress(sent);
        };
        let (method, url) = (request.method, redact_url(&request.url));
        let sending = pin!(self.http.send(request, &watched));
        let watchdog = pin!(async {
            loop {
                let idle = elapsed_ms(moved.get().0, self.http.now_ms());
                if idle >= timeout {
                    return Ok(());
                }
                self.http.sleep(timeout - idle).await?;
            }
        });
        match select(sending, watchdog).await {
            Either::Left((response, _)) => response,
            Either::Right((Ok(()), _)) => Err(Error::Network {
                method: method.as_str(),
                url,
                message: format!("stalled: no upload progress for {timeout} ms"),
                cause: None,
            }),
            Either::Right((Err(error), _)) => Err(error),
        }
    }
}
