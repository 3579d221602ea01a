//! MD5 of four equally long byte streams at once, one stream per lane of a 4 × 32-bit
//! vector: wasm SIMD (`simd128`) on the web, plain arrays elsewhere (and in native
//! tests). One MD5 stream is a strict chain of dependent steps that no vector can
//! shorten; four independent ones fill the vector, for about four times the MD5
//! throughput of one thread.
//!
//! Indexing here is into fixed-size blocks and lanes at constant or block-stepped
//! offsets, and the two `expect`s convert 64- and 16-byte slices cut at such
//! offsets to arrays; the lengths all this depends on are asserted on entry (equal
//! streams, whole blocks; the callers check every read's length first), never taken
//! from JS or the network unchecked. The hot loop stays free of extra branches.
#![allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::expect_used
)]

/// Four 32-bit lanes.
#[derive(Clone, Copy, Debug)]
struct Lanes(imp::Vector);

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    pub type Vector = v128;

    #[inline(always)]
    pub fn splat(value: u32) -> Vector {
        u32x4_splat(value)
    }
    #[inline(always)]
    pub fn to_array(v: Vector) -> [u32; 4] {
        [
            u32x4_extract_lane::<0>(v),
            u32x4_extract_lane::<1>(v),
            u32x4_extract_lane::<2>(v),
            u32x4_extract_lane::<3>(v),
        ]
    }
    #[inline(always)]
    pub fn add(a: Vector, b: Vector) -> Vector {
        u32x4_add(a, b)
    }
    #[inline(always)]
    pub fn or(a: Vector, b: Vector) -> Vector {
        v128_or(a, b)
    }
    #[inline(always)]
    pub fn xor(a: Vector, b: Vector) -> Vector {
        v128_xor(a, b)
    }
    #[inline(always)]
    pub fn not(a: Vector) -> Vector {
        v128_not(a)
    }
    /// Bits of `a` where `mask` is set, of `b` elsewhere: one instruction.
    #[inline(always)]
    pub fn select(mask: Vector, a: Vector, b: Vector) -> Vector {
        v128_bitselect(a, b, mask)
    }
    #[inline(always)]
    pub fn rotl(a: Vector, n: u32) -> Vector {
        v128_or(u32x4_shl(a, n), u32x4_shr(a, 32 - n))
    }

    /// The 16 message words of four blocks, word `j` of every lane in vector `j`:
    /// 16-byte loads and a 4 × 4 transpose per group of four words.
    #[inline(always)]
    pub fn gather(blocks: [&[u8; 64]; 4]) -> [Vector; 16] {
        let load = |block: &[u8; 64], quarter: usize| {
            let bytes: &[u8; 16] = block[16 * quarter..16 * quarter + 16]
                .try_into()
                .expect("16 of 64 bytes");
            // SAFETY: an unaligned 16-byte load from a 16-byte array.
            unsafe { v128_load(bytes.as_ptr().cast()) }
        };
        let mut words = [u32x4_splat(0); 16];
        for quarter in 0..4 {
            let [l0, l1, l2, l3] = blocks.map(|block| load(block, quarter));
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(l0, l1);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(l0, l1);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(l2, l3);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(l2, l3);
            words[4 * quarter] = i64x2_shuffle::<0, 2>(t0, t2);
            words[4 * quarter + 1] = i64x2_shuffle::<1, 3>(t0, t2);
            words[4 * quarter + 2] = i64x2_shuffle::<0, 2>(t1, t3);
            words[4 * quarter + 3] = i64x2_shuffle::<1, 3>(t1, t3);
        }
        words
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    pub type Vector = [u32; 4];

    #[inline(always)]
    fn map2(a: Vector, b: Vector, f: impl Fn(u32, u32) -> u32) -> Vector {
        [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])]
    }
    #[inline(always)]
    pub fn splat(value: u32) -> Vector {
        [value; 4]
    }
    #[inline(always)]
    pub fn to_array(v: Vector) -> [u32; 4] {
        v
    }
    #[inline(always)]
    pub fn add(a: Vector, b: Vector) -> Vector {
        map2(a, b, u32::wrapping_add)
    }
    #[inline(always)]
    pub fn and(a: Vector, b: Vector) -> Vector {
        map2(a, b, |x, y| x & y)
    }
    #[inline(always)]
    pub fn or(a: Vector, b: Vector) -> Vector {
        map2(a, b, |x, y| x | y)
    }
    #[inline(always)]
    pub fn xor(a: Vector, b: Vector) -> Vector {
        map2(a, b, |x, y| x ^ y)
    }
    #[inline(always)]
    pub fn not(a: Vector) -> Vector {
        a.map(|x| !x)
    }
    /// Bits of `a` where `mask` is set, of `b` elsewhere.
    #[inline(always)]
    pub fn select(mask: Vector, a: Vector, b: Vector) -> Vector {
        or(and(mask, a), and(not(mask), b))
    }
    #[inline(always)]
    pub fn rotl(a: Vector, n: u32) -> Vector {
        a.map(|x| x.rotate_left(n))
    }

    /// The 16 message words of four blocks, word `j` of every lane in vector `j`.
    #[inline(always)]
    pub fn gather(blocks: [&[u8; 64]; 4]) -> [Vector; 16] {
        let word = |block: &[u8; 64], j: usize| {
            u32::from_le_bytes([
                block[4 * j],
                block[4 * j + 1],
                block[4 * j + 2],
                block[4 * j + 3],
            ])
        };
        std::array::from_fn(|j| blocks.map(|block| word(block, j)))
    }
}

impl Lanes {
    #[inline(always)]
    fn splat(value: u32) -> Self {
        Self(imp::splat(value))
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Self(imp::add(self.0, other.0))
    }
}

/// Per-step left rotations (RFC 1321).
const SHIFTS: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// Per-step constants: floor(|sin(i + 1)| · 2^32) (RFC 1321).
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// Four MD5 computations over four streams that always grow by the same length.
#[derive(Clone, Debug)]
pub struct Md5x4 {
    state: [Lanes; 4],
    /// Bytes hashed per stream.
    length: u64,
}

impl Default for Md5x4 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5x4 {
    /// Four fresh MD5s.
    pub fn new() -> Self {
        Self {
            state: [
                Lanes::splat(0x6745_2301),
                Lanes::splat(0xefcd_ab89),
                Lanes::splat(0x98ba_dcfe),
                Lanes::splat(0x1032_5476),
            ],
            length: 0,
        }
    }

    /// Hashes the next bytes of each stream; all four have the same length, a
    /// multiple of 64 except in the last call (see [`Md5x4::finalize`]).
    ///
    /// # Panics
    /// When the four lengths differ or a non-final call is not block-aligned: a
    /// caller's bug, never data-dependent.
    pub fn update_blocks(&mut self, streams: [&[u8]; 4]) {
        let len = streams[0].len();
        assert!(
            streams.iter().all(|s| s.len() == len),
            "Md5x4: lanes must advance together"
        );
        assert!(len % 64 == 0, "Md5x4: only whole blocks before finalize");
        for offset in (0..len).step_by(64) {
            self.compress([
                &streams[0][offset..offset + 64],
                &streams[1][offset..offset + 64],
                &streams[2][offset..offset + 64],
                &streams[3][offset..offset + 64],
            ]);
        }
        self.length += len as u64;
    }

    /// Hashes each stream's last bytes (`tails`, equally long, shorter than a chunk but
    /// any length) and pads: the four digests.
    pub fn finalize(mut self, tails: [&[u8]; 4]) -> [[u8; 16]; 4] {
        let len = tails[0].len();
        assert!(
            tails.iter().all(|t| t.len() == len),
            "Md5x4: lanes must end together"
        );
        let whole = len - len % 64;
        self.update_blocks([
            &tails[0][..whole],
            &tails[1][..whole],
            &tails[2][..whole],
            &tails[3][..whole],
        ]);
        let rest = len - whole;
        let bits = (self.length + rest as u64).wrapping_mul(8);
        // The last one or two blocks of each stream: rest, 0x80, zeros, bit length.
        let blocks = if rest < 56 { 1 } else { 2 };
        let mut padded = [[0u8; 128]; 4];
        for (lane, tail) in padded.iter_mut().zip(tails) {
            lane[..rest].copy_from_slice(&tail[whole..]);
            lane[rest] = 0x80;
            lane[blocks * 64 - 8..blocks * 64].copy_from_slice(&bits.to_le_bytes());
        }
        for block in 0..blocks {
            let range = block * 64..block * 64 + 64;
            self.compress([
                &padded[0][range.clone()],
                &padded[1][range.clone()],
                &padded[2][range.clone()],
                &padded[3][range],
            ]);
        }
        let words: [[u32; 4]; 4] = self.state.map(|lanes| imp::to_array(lanes.0));
        let mut digests = [[0u8; 16]; 4];
        for (lane, digest) in digests.iter_mut().enumerate() {
            for (i, word) in words.iter().enumerate() {
                digest[i * 4..i * 4 + 4].copy_from_slice(&word[lane].to_le_bytes());
            }
        }
        digests
    }

    /// One 64-byte block from each stream (RFC 1321's four rounds, lane-wise).
    #[inline(always)]
    fn compress(&mut self, blocks: [&[u8]; 4]) {
        let m =
            imp::gather(blocks.map(|block| block.try_into().expect("callers pass 64-byte blocks")));
        let [mut a, mut b, mut c, mut d] = self.state.map(|lanes| lanes.0);
        // One step: a ← b + rotl(a + f + K[i] + m[g], s), then the names rotate. Four
        // loops of constant length, one per round, so that each unrolls fully.
        macro_rules! steps {
            ($range:expr, |$i:ident| $g:expr, |$x:ident, $y:ident, $z:ident| $f:expr) => {
                for $i in $range {
                    let ($x, $y, $z) = (b, c, d);
                    let f = $f;
                    let sum = imp::add(imp::add(imp::add(a, f), imp::splat(K[$i])), m[$g]);
                    let next = imp::add(b, imp::rotl(sum, SHIFTS[$i]));
                    a = d;
                    d = c;
                    c = b;
                    b = next;
                }
            };
        }
        // F = (x & y) | (!x & z) and G = (x & z) | (y & !z) are bit selections.
        steps!(0..16, |i| i, |x, y, z| imp::select(x, y, z));
        steps!(16..32, |i| (5 * i + 1) % 16, |x, y, z| imp::select(z, x, y));
        steps!(32..48, |i| (3 * i + 5) % 16, |x, y, z| imp::xor(
            imp::xor(x, y),
            z
        ));
        steps!(48..64, |i| (7 * i) % 16, |x, y, z| imp::xor(
            y,
            imp::or(x, imp::not(z))
        ));
        self.state = [
            self.state[0].add(Lanes(a)),
            self.state[1].add(Lanes(b)),
            self.state[2].add(Lanes(c)),
            self.state[3].add(Lanes(d)),
        ];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    fn reference(data: &[u8]) -> [u8; 16] {
        Md5::digest(data).into()
    }

    fn streams(len: usize) -> [Vec<u8>; 4] {
        std::array::from_fn(|lane| {
            (0..len)
                .map(|i| (i * 31 + lane * 7 + i / 251) as u8)
                .collect()
        })
    }

    #[test]
    fn equals_md5_for_every_tail_length() {
        for len in [
            0,
            1,
            55,
            56,
            57,
            63,
            64,
            65,
            119,
            120,
            127,
            128,
            129,
            1000,
            4096 + 3,
        ] {
            let data = streams(len);
            let whole = len - len % 64;
            let mut md5 = Md5x4::new();
            md5.update_blocks([&data[0][..0], &data[1][..0], &data[2][..0], &data[3][..0]]);
            let digests = md5.finalize([&data[0][..], &data[1][..], &data[2][..], &data[3][..]]);
            for lane in 0..4 {
                assert_eq!(
                    digests[lane],
                    reference(&data[lane]),
                    "length {len}, lane {lane} (whole {whole})"
                );
            }
        }
    }

    #[test]
    fn equals_md5_across_updates() {
        let data = streams(64 * 100 + 17);
        let mut md5 = Md5x4::new();
        for chunk in 0..10 {
            let range = chunk * 640..chunk * 640 + 640;
            md5.update_blocks([
                &data[0][range.clone()],
                &data[1][range.clone()],
                &data[2][range.clone()],
                &data[3][range],
            ]);
        }
        let digests = md5.finalize([
            &data[0][6400..],
            &data[1][6400..],
            &data[2][6400..],
            &data[3][6400..],
        ]);
        for lane in 0..4 {
            assert_eq!(digests[lane], reference(&data[lane]), "lane {lane}");
        }
    }

    #[test]
    fn rfc_1321_vectors_in_every_lane() {
        let inputs: [&[u8]; 4] = [b"abc", b"abc", b"abc", b"abc"];
        let digests = Md5x4::new().finalize(inputs);
        for digest in digests {
            assert_eq!(
                crate::core::hash::to_hex(&digest),
                "900150983cd24fb0d6963f7d28e17f72"
            );
        }
    }
}
