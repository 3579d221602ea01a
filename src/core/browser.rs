//! What differs between browser engines, decided from the user agent: pure
//! functions, so each quirk's rule is a table test.

/// The engine a page runs in, as far as the library cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Chromium and its browsers (Chrome, Edge, Opera, ...).
    Blink,
    /// Firefox.
    Gecko,
    /// Safari, every browser on iOS, and WebKitGTK.
    WebKit,
    /// Anything else (or no user agent at all).
    Other,
}

/// The engine behind `user_agent` (`navigator.userAgent`).
pub fn engine_of(user_agent: &str) -> Engine {
    let has = |token: &str| user_agent.contains(token);
    if has("Gecko/") && has("Firefox/") && !has("AppleWebKit/") {
        Engine::Gecko
    } else if has("AppleWebKit/") && (has("Chrome/") || has("Chromium/")) {
        // iOS browsers say "CriOS/", "EdgiOS/", "FxiOS/": WebKit underneath.
        Engine::Blink
    } else if has("AppleWebKit/") {
        Engine::WebKit
    } else {
        Engine::Other
    }
}

/// Whether the file is read (each storage body's first byte) just before each
/// storage request is sent.
///
/// WebKit's XHR never finishes a request whose file-backed body changed on disk after
/// the file was picked (it never reaches readyState 4), while a read fails at once
/// with `NotFoundError`: so a changed file is `FILE_READ` before anything is sent. A
/// file that changes after the check stalls its request; the stall timeout abandons
/// it and the retry's check fails. The bodies themselves stay slices of the file,
/// streamed from disk: read into memory instead (until 2026-11-24) they grew WebKit
/// by +469 to +569 MiB while uploading at the defaults (`bench/memory.mjs`).
pub fn check_file_before_send(engine: Engine) -> bool {
    engine == Engine::WebKit
}

/// Whether a read's `ArrayBuffer` is detached (`transfer(0)`) once its bytes are
/// copied out, instead of being left to the garbage collector.
///
/// Measured with `bench/reads.mjs` (1 GiB, 2 workers): WebKit's stream chunks copied
/// into one reused buffer grew the browser by +290 MiB, detached after the copy +99
/// MiB. Chromium is the other way round: detaching whole-segment reads grew it from
/// +356 to +1,064 MiB (its wrapper keeps the memory until collected, and the
/// collector, told less is held, runs later); Chromium and Firefox read through BYOB
/// readers into reused buffers and make no such garbage.
pub fn detach_read_buffers(engine: Engine) -> bool {
    engine == Engine::WebKit
}

/// Whether a `Blob`'s stream reads ahead of its reader with no bound, so that one
/// stream of a whole file holds as much of it in memory as the disk gives faster than
/// the hashing takes it.
///
/// WebKit's `Blob.stream()` is not a byte stream and fills its queue from the network
/// process as fast as the file is read: one stream over a 512 MiB file grew WebKitGTK
/// by +595 to +672 MiB while uploading at the defaults (`bench/memory.mjs`, web
/// process +400, network process +200), against +80 to +99 with one slice per segment.
/// Chromium's and Firefox's are byte streams, read as the reader asks.
pub fn blob_streams_read_ahead(engine: Engine) -> bool {
    engine == Engine::WebKit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_by_user_agent() {
        let table = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", Engine::Blink),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", Engine::Blink),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0", Engine::Gecko),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15", Engine::WebKit),
            ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", Engine::WebKit),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15", Engine::WebKit),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", Engine::WebKit),
            ("", Engine::Other),
            ("curl/8.5.0", Engine::Other),
        ];
        for (agent, engine) in table {
            assert_eq!(engine_of(agent), engine, "{agent}");
        }
    }

    #[test]
    fn only_webkit_checks_the_file_before_sending_detaches_read_buffers_and_reads_ahead() {
        // (engine, check the file before sending, detach read buffers, streams read ahead)
        let table = [
            (Engine::Blink, false, false, false),
            (Engine::Gecko, false, false, false),
            (Engine::WebKit, true, true, true),
            (Engine::Other, false, false, false),
        ];
        for (engine, check, detach, ahead) in table {
            assert_eq!(check_file_before_send(engine), check, "{engine:?}");
            assert_eq!(detach_read_buffers(engine), detach, "{engine:?}");
            assert_eq!(blob_streams_read_ahead(engine), ahead, "{engine:?}");
        }
    }
}
