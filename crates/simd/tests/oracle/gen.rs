//! Fixed-seed input generation: random bits plus edge lanes.

use super::Regs;

/// xorshift64* generator.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero-ized seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A coin flip.
    pub fn bit(&mut self) -> bool {
        self.next() & 1 != 0
    }
}

/// FNV-1a of a string, to give each variant its own stream.
pub fn seed_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Low `w` ones.
pub fn mask(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1 << w) - 1
    }
}

fn sext(x: u64, w: u32) -> u64 {
    let sh = 64 - w;
    (((x << sh) as i64) >> sh) as u64
}

/// The edge lanes: 0, 1, all-ones, 0x80.., 0x7f...
pub fn edges(w: u32) -> [u64; 5] {
    [0, 1, mask(w), 1 << (w - 1), mask(w - 1)]
}

/// One lane of `w` bits: edges, values at the boundary of a narrower width, or random bits.
pub fn lane(rng: &mut Rng, w: u32) -> u64 {
    let k = 1 + rng.below(u64::from(w)) as u32;
    let v = match rng.below(12) {
        0..=4 => edges(w)[rng.below(5) as usize],
        5 => {
            let x = rng.next() & mask(k);
            if rng.bit() {
                sext(x, k)
            } else {
                x
            }
        }
        6 => {
            let h = 1u64 << (k - 1);
            [
                h,
                h - 1,
                mask(k),
                h.wrapping_neg(),
                h.wrapping_neg().wrapping_sub(1),
                h + 1,
            ][rng.below(6) as usize]
        }
        _ => rng.next(),
    };
    v & mask(w)
}

/// A register of `w`-bit lanes.
pub fn vector(rng: &mut Rng, w: u32) -> u128 {
    if rng.below(8) == 0 {
        return u128::from(rng.next()) | (u128::from(rng.next()) << 64);
    }
    let mut v = 0u128;
    for i in 0..128 / w {
        v |= u128::from(lane(rng, w)) << (i * w);
    }
    v
}

/// All lanes equal to `x`.
pub fn splat(x: u64, w: u32) -> u128 {
    (0..128 / w).fold(0, |v, i| v | (u128::from(x & mask(w)) << (i * w)))
}

/// A random set of registers; Vm often shares lanes with Vn (so equality compares hit).
pub fn regs(rng: &mut Rng, w: u32) -> Regs {
    let mut r = Regs::default();
    for v in &mut r.v {
        *v = vector(rng, w);
    }
    if rng.below(4) == 0 {
        for i in 0..128 / w {
            if rng.bit() {
                let m = u128::from(mask(w)) << (i * w);
                r.v[2] = (r.v[2] & !m) | (r.v[1] & m);
            }
        }
    }
    r.x = if rng.bit() { lane(rng, 64) } else { rng.next() };
    r
}

/// Shift counts for `w`-bit elements: the low byte mostly in `-(w+2)..=w+2`.
pub fn shift_counts(rng: &mut Rng, w: u32) -> u128 {
    let mut v = 0u128;
    for i in 0..128 / w {
        let low = if rng.below(4) == 0 {
            rng.next() & 0xFF
        } else {
            let span = 2 * u64::from(w) + 5;
            (rng.below(span) as i64 - (i64::from(w) + 2)) as u64 & 0xFF
        };
        let x = (rng.next() & !0xFF & mask(w)) | low;
        v |= u128::from(x) << (i * w);
    }
    v
}

/// TBL indices mostly within (or just past) a table of `len` registers.
pub fn indices(rng: &mut Rng, len: u32) -> u128 {
    let mut v = 0u128;
    for i in 0..16 {
        let x = if rng.below(4) == 0 {
            rng.next() & 0xFF
        } else {
            rng.below(u64::from(len) * 16 + 8)
        };
        v |= u128::from(x) << (8 * i);
    }
    v
}
