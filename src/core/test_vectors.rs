//! Known-answer vectors shared by the native and the browser tests.
//!
//! Public only so that `tests/` can use them; not part of the API.

/// `(input, sha256 hex, md5 hex)`: FIPS 180-2 / NIST for SHA-256, RFC 1321 for MD5.
pub const SHORT: &[(&[u8], &str, &str)] = &[
    (
        b"",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "d41d8cd98f00b204e9800998ecf8427e",
    ),
    (
        b"abc",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "900150983cd24fb0d6963f7d28e17f72",
    ),
    (
        b"message digest",
        "f7846f55cf23e14eebeab5b4e1550cad5b509e3348fbc4efa3a1413d393cb650",
        "f96b697d7cb7938d525a2f31aaf161d0",
    ),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        "8215ef0796a20bcaaae116d3876c664a",
    ),
    (
        b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
        "f371bc4a311f2b009eef952dd83ca80e2b60026c8e935592d0f9c308453c813e",
        "57edf4a22be3c955ac49da2e2107b67a",
    ),
];

/// One million bytes of `a` (FIPS 180-2, RFC 1321 test suite).
pub const MILLION_A: (u8, usize, &str, &str) = (
    b'a',
    1_000_000,
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    "7707d6ae4e027c70eea2a935c2296f21",
);

/// Length of [`lcg_bytes`] input whose digests are [`LCG_SHA256`] and [`LCG_MD5`]:
/// 9 MiB + 1, so it crosses the default 4 MiB read twice and ends mid-block.
pub const LCG_LEN: usize = 9 * 1024 * 1024 + 1;
/// SHA-256 of `lcg_bytes(LCG_LEN)`, computed by `openssl dgst` and Python's hashlib.
pub const LCG_SHA256: &str = "ec33989b4558c99b61db487cd99e9eebade926e607ae1e3a8e78e266ff5a7fde";
/// MD5 of `lcg_bytes(LCG_LEN)`, likewise.
pub const LCG_MD5: &str = "303d5ad64135bb5cece850d34dfb9b92";

/// `n` bytes from the 32-bit LCG `s = s * 1664525 + 1013904223` (from `s = 1`),
/// each the state's top byte. Simple to reproduce elsewhere:
/// `s=(s*1664525+1013904223)&0xffffffff; out[i]=s>>24` in Python.
pub fn lcg_bytes(n: usize) -> Vec<u8> {
    let mut state: u32 = 1;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}
