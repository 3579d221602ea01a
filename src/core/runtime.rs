//! What every upload and call of one client shares: slots that bound the storage
//! requests, the uploads sending at once and the files hashing at once (taken in
//! arrival order), a gate that holds every API request while the API asks the
//! client to slow down (429), and one access-token fetch at a time.
//!
//! Single-threaded (wasm): `Cell`/`RefCell` and wakers, no locks.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::http::{Http, Tokens};
use super::retry::elapsed_ms;
use super::Error;

/// Storage requests open at once across a client's uploads, by default.
pub const DEFAULT_CONCURRENCY: usize = 6;
/// Uploads sending at once, by default; the others wait their turn in order.
pub const DEFAULT_MAX_ACTIVE_UPLOADS: usize = 3;
/// A storage request with no upload progress for this long is abandoned and retried.
pub const DEFAULT_STALL_TIMEOUT_MS: u64 = 30_000;
/// Files hashed at once: the next files are hashed while the current ones are sent,
/// in the order they were given.
pub const HASHING_AHEAD: usize = 2;

/// A first-in-first-out counting semaphore: `acquire` waits for one of `count`
/// slots; the [`Permit`] gives it back when dropped, straight to the longest waiter.
pub struct Slots {
    state: RefCell<SlotState>,
}

struct SlotState {
    free: usize,
    next_id: u64,
    /// Oldest first (a list, not a `VecDeque`: less code in the package).
    waiting: Vec<Waiter>,
}

struct Waiter {
    id: u64,
    waker: Option<Waker>,
    granted: bool,
}

impl Slots {
    /// `count` slots (at least one).
    pub fn new(count: usize) -> Self {
        Self {
            state: RefCell::new(SlotState {
                free: count.max(1),
                next_id: 0,
                waiting: Vec::new(),
            }),
        }
    }

    /// Waits for a slot; dropped while waiting, it leaves the queue.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            slots: self,
            id: None,
            done: false,
        }
    }

    /// Slots not taken (for tests and reports).
    pub fn free(&self) -> usize {
        self.state.borrow().free
    }

    fn release(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            match state.waiting.iter_mut().find(|w| !w.granted) {
                Some(next) => {
                    next.granted = true;
                    next.waker.take()
                }
                None => {
                    state.free += 1;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A taken slot, given back when dropped.
pub struct Permit<'a> {
    slots: &'a Slots,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.slots.release();
    }
}

/// The future of [`Slots::acquire`].
pub struct Acquire<'a> {
    slots: &'a Slots,
    id: Option<u64>,
    done: bool,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let slots = self.slots;
        let mut state = slots.state.borrow_mut();
        match self.id {
            None if state.free > 0 && state.waiting.is_empty() => {
                state.free -= 1;
                drop(state);
                self.done = true;
                Poll::Ready(Permit { slots })
            }
            None => {
                let id = state.next_id;
                state.next_id += 1;
                state.waiting.push(Waiter {
                    id,
                    waker: Some(cx.waker().clone()),
                    granted: false,
                });
                drop(state);
                self.id = Some(id);
                Poll::Pending
            }
            Some(id) => {
                let Some(position) = state.waiting.iter().position(|w| w.id == id) else {
                    return Poll::Pending;
                };
                let granted = state.waiting.get(position).is_some_and(|w| w.granted);
                if granted {
                    state.waiting.remove(position);
                    drop(state);
                    self.done = true;
                    Poll::Ready(Permit { slots })
                } else {
                    if let Some(waiter) = state.waiting.get_mut(position) {
                        waiter.waker = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let (Some(id), false) = (self.id, self.done) else {
            return;
        };
        let granted = {
            let mut state = self.slots.state.borrow_mut();
            let position = state.waiting.iter().position(|w| w.id == id);
            position
                .map(|p| state.waiting.remove(p))
                .is_some_and(|w| w.granted)
        };
        // Granted but never taken: hand it on.
        if granted {
            self.slots.release();
        }
    }
}

/// Wakes whoever waits for a change of some cells (single-threaded): the waiter
/// states what it waits for as a condition, the changer calls [`Wakeup::wake_all`].
#[derive(Default)]
pub struct Wakeup {
    wakers: RefCell<Vec<Waker>>,
}

impl Wakeup {
    /// Wakes every waiter, to check its condition again.
    pub fn wake_all(&self) {
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    /// Waits until `ready()` holds, checked now and after each [`Wakeup::wake_all`].
    /// One instance for every condition (a `dyn` one): less code in the package.
    pub async fn until(&self, ready: &dyn Fn() -> bool) {
        std::future::poll_fn(|cx| {
            if ready() {
                return Poll::Ready(());
            }
            let mut wakers = self.wakers.borrow_mut();
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
    }
}

/// Gives way once: the futures polled beside this one run before it goes on.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// Holds every API request of a client while the API has asked it to wait (429).
#[derive(Default)]
pub struct ApiGate {
    /// Until when, on the transport's clock; 0 when open.
    closed_until: Cell<f64>,
}

impl ApiGate {
    /// Holds every request until `millis` from `now` (never shortens a hold).
    pub fn hold(&self, now: f64, millis: u64) {
        // Delays are far below 2^53 ms: f64 holds them exactly.
        #[allow(clippy::cast_precision_loss)]
        let until = now + millis as f64;
        if until > self.closed_until.get() {
            self.closed_until.set(until);
        }
    }

    /// Waits until the gate is open.
    pub async fn pass<H: Http>(&self, http: &H) -> Result<(), Error> {
        loop {
            let now = http.now_ms();
            let until = self.closed_until.get();
            if now >= until {
                return Ok(());
            }
            http.sleep(elapsed_ms(now, until).max(1)).await?;
        }
    }
}

/// Access tokens for many requests: one `token` call in flight at a time, its answer
/// shared by every request that waited for it; after a 401 one refresh serves every
/// request that was refused the same token.
pub struct SharedTokens<T> {
    source: T,
    fetching: Slots,
    /// The last token fetched, and how many fetches have completed.
    latest: RefCell<Option<String>>,
    fetched: Cell<u64>,
}

impl<T: Tokens> SharedTokens<T> {
    /// Shares `source`.
    pub fn new(source: T) -> Self {
        Self {
            source,
            fetching: Slots::new(1),
            latest: RefCell::new(None),
            fetched: Cell::new(0),
        }
    }

    /// Where the tokens come from.
    pub fn source(&self) -> &T {
        &self.source
    }

    /// Whether a refused token can be replaced.
    pub fn can_refresh(&self) -> bool {
        self.source.can_refresh()
    }

    /// A token for a request: the answer of the fetch in flight if there is one,
    /// else a new fetch (each request asks, so a source may hand out a newer one).
    pub async fn token(&self) -> Result<String, Error> {
        let before = self.fetched.get();
        let _turn = self.fetching.acquire().await;
        if self.fetched.get() != before {
            if let Some(token) = self.latest.borrow().clone() {
                return Ok(token);
            }
        }
        self.fetch(false).await
    }

    /// A token to replace `refused`: a refresh, unless another request already
    /// replaced that token.
    pub async fn replace(&self, refused: &str) -> Result<String, Error> {
        let _turn = self.fetching.acquire().await;
        if let Some(token) = self.latest.borrow().clone() {
            if token != refused {
                return Ok(token);
            }
        }
        self.fetch(true).await
    }

    async fn fetch(&self, refresh: bool) -> Result<String, Error> {
        let token = self.source.token(refresh).await?;
        *self.latest.borrow_mut() = Some(token.clone());
        self.fetched.set(self.fetched.get() + 1);
        Ok(token)
    }
}

/// Limits a client puts on all its uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Storage requests open at once.
    pub concurrency: usize,
    /// Uploads sending at once.
    pub max_active_uploads: usize,
    /// No progress for this long aborts a storage request (0: never).
    pub stall_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            max_active_uploads: DEFAULT_MAX_ACTIVE_UPLOADS,
            stall_timeout_ms: DEFAULT_STALL_TIMEOUT_MS,
        }
    }
}

/// Everything a client's uploads and calls share.
pub struct Shared<T> {
    /// Access tokens.
    pub tokens: SharedTokens<T>,
    /// The 429 hold on API requests.
    pub api_gate: ApiGate,
    /// Storage requests open at once.
    pub storage: Slots,
    /// Uploads sending at once.
    pub uploads: Slots,
    /// Files hashing at once.
    pub hashing: Slots,
    /// The limits these slots were made with.
    pub limits: Limits,
}

impl<T: Tokens> Shared<T> {
    /// Shared state for `limits`, with tokens from `tokens`.
    pub fn new(tokens: T, limits: Limits) -> Self {
        Self {
            tokens: SharedTokens::new(tokens),
            api_gate: ApiGate::default(),
            storage: Slots::new(limits.concurrency),
            uploads: Slots::new(limits.max_active_uploads),
            hashing: Slots::new(HASHING_AHEAD),
            limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn now<F: Future>(future: F) -> Option<F::Output> {
        future.now_or_never()
    }

    #[test]
    fn slots_are_given_in_arrival_order_and_returned_on_drop() {
        let slots = Slots::new(2);
        let a = now(slots.acquire()).expect("a free slot");
        let b = now(slots.acquire()).expect("a second free slot");
        let mut c = Box::pin(slots.acquire());
        let mut d = Box::pin(slots.acquire());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(c.as_mut().poll(&mut cx).is_pending());
        assert!(d.as_mut().poll(&mut cx).is_pending());
        drop(a);
        // The slot goes to c (first in line), not to d, nor to a newcomer.
        assert!(d.as_mut().poll(&mut cx).is_pending());
        assert!(
            now(slots.acquire()).is_none(),
            "a newcomer waits behind c and d"
        );
        let Poll::Ready(c_permit) = c.as_mut().poll(&mut cx) else {
            panic!("c was first in line")
        };
        drop(b);
        let Poll::Ready(_d_permit) = d.as_mut().poll(&mut cx) else {
            panic!("d was next")
        };
        drop(c_permit);
        assert_eq!(slots.free(), 1, "d still holds one");
    }

    #[test]
    fn a_waiter_that_gives_up_passes_its_slot_on() {
        let slots = Slots::new(1);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let held = now(slots.acquire()).expect("free");
        let mut quitter = Box::pin(slots.acquire());
        let mut patient = Box::pin(slots.acquire());
        assert!(quitter.as_mut().poll(&mut cx).is_pending());
        assert!(patient.as_mut().poll(&mut cx).is_pending());
        drop(held); // granted to the quitter, which never takes it
        drop(quitter);
        assert!(matches!(patient.as_mut().poll(&mut cx), Poll::Ready(_)));
        drop(patient);
        assert_eq!(slots.free(), 1, "nothing leaked");
    }

    struct Clock {
        now: Cell<f64>,
        sleeps: RefCell<Vec<u64>>,
    }

    impl Http for Clock {
        async fn send(
            &self,
            _: super::super::http::Request,
            _: &dyn Fn(u64),
        ) -> Result<super::super::http::Response, Error> {
            Err(Error::Aborted)
        }
        async fn sleep(&self, millis: u64) -> Result<(), Error> {
            self.sleeps.borrow_mut().push(millis);
            self.now.set(self.now.get() + millis as f64);
            Ok(())
        }
        fn now_ms(&self) -> f64 {
            self.now.get()
        }

        fn wall_clock_ms(&self) -> u64 {
            // A fixed epoch plus the test clock.
            1_800_000_000_000 + (self.now.get()) as u64
        }
    }

    #[test]
    fn the_api_gate_holds_until_the_latest_hold_ends() {
        let clock = Clock {
            now: Cell::new(1000.0),
            sleeps: RefCell::new(Vec::new()),
        };
        let gate = ApiGate::default();
        pollster::block_on(gate.pass(&clock)).expect("open");
        assert!(
            clock.sleeps.borrow().is_empty(),
            "an open gate does not wait"
        );
        gate.hold(1000.0, 2000);
        gate.hold(1000.0, 500); // a shorter hold does not shorten the first
        pollster::block_on(gate.pass(&clock)).expect("waits");
        assert_eq!(*clock.sleeps.borrow(), vec![2000]);
        assert_eq!(clock.now.get(), 3000.0);
    }

    /// Counts `token` calls; each answers `t<n>`, parked until released.
    struct Counting {
        calls: RefCell<Vec<bool>>,
    }

    impl Tokens for Counting {
        async fn token(&self, refresh: bool) -> Result<String, Error> {
            self.calls.borrow_mut().push(refresh);
            // Yield once so that other requests pile up behind this fetch.
            yield_now().await;
            Ok(format!("t{}", self.calls.borrow().len()))
        }
    }

    #[test]
    fn one_fetch_serves_every_waiting_request_and_one_refresh_every_refused_one() {
        let tokens = SharedTokens::new(Counting {
            calls: RefCell::new(Vec::new()),
        });
        let got = pollster::block_on(futures_util::future::join_all(
            (0..5).map(|_| tokens.token()),
        ));
        let got: Vec<String> = got.into_iter().map(|t| t.expect("token")).collect();
        assert_eq!(got, vec!["t1"; 5], "five requests, one fetch");
        assert_eq!(*tokens.source.calls.borrow(), vec![false]);
        // Three requests were refused t1: one refresh for all three.
        let replaced = pollster::block_on(futures_util::future::join_all(
            (0..3).map(|_| tokens.replace("t1")),
        ));
        let replaced: Vec<String> = replaced.into_iter().map(|t| t.expect("token")).collect();
        assert_eq!(replaced, vec!["t2"; 3]);
        assert_eq!(*tokens.source.calls.borrow(), vec![false, true]);
        // A later request asks again (the source may have a newer token by then).
        assert_eq!(pollster::block_on(tokens.token()).expect("token"), "t3");
    }
}
