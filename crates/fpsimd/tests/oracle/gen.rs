//! Deterministic operand generation: special values, boundary exponents, rounding-sensitive
//! fraction patterns and related operand pairs (cancellation, underflow/overflow thresholds).

use fpsimd::Format;

/// SplitMix64: small, fixed-seed, reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    pub fn bit(&mut self) -> bool {
        self.next() & 1 != 0
    }
}

/// Stable 64-bit FNV-1a hash, used to derive a per-operation seed from its name.
pub fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    })
}

fn pack(fmt: Format, sign: bool, exp: i64, frac: u64) -> u64 {
    let f = fmt.frac_bits();
    let emax = (1i64 << fmt.exp_bits()) - 1;
    let exp = exp.clamp(0, emax) as u64;
    (u64::from(sign) << (fmt.width() - 1)) | (exp << f) | (frac & ((1 << f) - 1))
}

fn bias(fmt: Format) -> i64 {
    (1i64 << (fmt.exp_bits() - 1)) - 1
}

/// Special and boundary values of a format, both signs.
pub fn specials(fmt: Format) -> Vec<u64> {
    let f = fmt.frac_bits();
    let fm = (1u64 << f) - 1;
    let emax = (1i64 << fmt.exp_bits()) - 1;
    let q = 1u64 << (f - 1);
    let b = bias(fmt);
    let mags: Vec<(i64, u64)> = vec![
        (0, 0),
        (emax, 0),
        (emax, q),
        (emax, q | 1),
        (emax, q | (fm >> 2)),
        (emax, 1),
        (emax, q - 1),
        (0, 1),
        (0, fm),
        (0, q),
        (1, 0),
        (1, 1),
        (emax - 1, fm),
        (emax - 1, 0),
        (b, 0),
        (b, 1),
        (b - 1, fm),
        (b + 1, 0),
        (b, q),
        (b + 1, q),
        (b - 1, 0),
    ];
    let mut v = Vec::new();
    for (e, fr) in mags {
        v.push(pack(fmt, false, e, fr));
        v.push(pack(fmt, true, e, fr));
    }
    v
}

/// A fraction likely to sit on or near a rounding boundary, or random.
fn frac(rng: &mut Rng, fmt: Format) -> u64 {
    let f = fmt.frac_bits();
    let fm = (1u64 << f) - 1;
    match rng.below(6) {
        0 => fm,
        1 => 1 << rng.below(u64::from(f)),
        2 => (fm >> rng.below(u64::from(f))) << rng.below(4),
        3 => rng.next() & !(rng.next() | rng.next()),
        _ => rng.next(),
    }
}

/// A value of `fmt` with biased exponent `exp` (clamped), random sign and interesting fraction.
pub fn with_exp(rng: &mut Rng, fmt: Format, exp: i64) -> u64 {
    let sign = rng.bit();
    let fr = frac(rng, fmt);
    pack(fmt, sign, exp, fr)
}

/// One operand, independent of others.
pub fn value(rng: &mut Rng, fmt: Format) -> u64 {
    let emax = (1i64 << fmt.exp_bits()) - 1;
    let b = bias(fmt);
    match rng.below(8) {
        0 | 1 => {
            let s = specials(fmt);
            s[rng.below(s.len() as u64) as usize]
        }
        2 => rng.next() & fmt.mask(),
        3 => {
            let e = rng.range(0, 3);
            with_exp(rng, fmt, e)
        }
        4 => {
            let e = rng.range(emax - 3, emax - 1);
            with_exp(rng, fmt, e)
        }
        5 | 6 => {
            let e = rng.range(b - 4, b + 4);
            with_exp(rng, fmt, e)
        }
        _ => {
            let e = rng.range(0, emax);
            with_exp(rng, fmt, e)
        }
    }
}

fn exp_of(fmt: Format, x: u64) -> i64 {
    ((x >> fmt.frac_bits()) & ((1 << fmt.exp_bits()) - 1)) as i64
}

/// A second operand related to `a`: close exponent (cancellation, sticky boundary), or an
/// exponent that puts a product or quotient near the underflow/overflow thresholds.
pub fn related(rng: &mut Rng, fmt: Format, a: u64) -> u64 {
    let ea = exp_of(fmt, a);
    let f = i64::from(fmt.frac_bits());
    let emax = (1i64 << fmt.exp_bits()) - 1;
    let b = bias(fmt);
    match rng.below(4) {
        0 => {
            // Addition: equal, adjacent, or about one significand apart.
            let d = [0, 1, 2, f, f + 1, f + 2, f + 3][rng.below(7) as usize];
            let e = if rng.bit() { ea + d } else { ea - d };
            with_exp(rng, fmt, e)
        }
        1 => {
            // Nearly equal magnitude: flip a few low bits of `a`.
            (a ^ (rng.below(8) | u64::from(rng.bit()) << (fmt.width() - 1))) & fmt.mask()
        }
        _ => {
            // Product near the smallest normal, the subnormal range, or the largest normal.
            let target = match rng.below(3) {
                0 => 1,
                1 => rng.range(1 - f, 0),
                _ => emax - 1,
            };
            let e = target - ea + b + rng.range(-1, 1);
            let e = if rng.bit() {
                e
            } else {
                ea - target + b + rng.range(-1, 1)
            };
            with_exp(rng, fmt, e)
        }
    }
}

/// An addend near the product a * b (for fused multiply-add cancellation).
pub fn addend(rng: &mut Rng, fmt: Format, a: u64, b: u64) -> u64 {
    let e = exp_of(fmt, a) + exp_of(fmt, b) - bias(fmt) + rng.range(-2, 2);
    with_exp(rng, fmt, e)
}

/// A floating-point operand for float-to-integer conversion: around 2^k for k near the
/// integer widths, halfway points, or general values.
pub fn to_int_value(rng: &mut Rng, fmt: Format) -> u64 {
    let b = bias(fmt);
    match rng.below(3) {
        0 => value(rng, fmt),
        1 => {
            let e = b + rng.range(-2, 66);
            with_exp(rng, fmt, e)
        }
        _ => {
            let k = [15, 16, 31, 32, 63, 64][rng.below(6) as usize] + rng.range(-1, 0);
            with_exp(rng, fmt, b + k)
        }
    }
}

/// An integer operand for integer-to-float conversion.
pub fn int_value(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => rng.below(1 << 12),
        1 => (rng.next() >> rng.below(64)).wrapping_neg(),
        2 => {
            let k = rng.below(64);
            (1u64 << k).wrapping_add(rng.below(8)).wrapping_sub(4)
        }
        3 => {
            let k = rng.below(64);
            ((1u64 << k) | (rng.next() & ((1u64 << k) - 1) & !0xF0)).wrapping_neg()
        }
        4 => [
            0,
            1,
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            1 << 31,
            (1 << 31) - 1,
            u64::from(u32::MAX),
        ][rng.below(8) as usize],
        _ => rng.next() >> rng.below(64),
    }
}

/// A random FPCR: rounding mode, FZ, DN, FZ16 and AHP.
pub fn fpcr(rng: &mut Rng) -> u32 {
    let controls = (1 << 26) | (1 << 25) | (1 << 24) | (3 << 22) | (1 << 19);
    rng.next() as u32 & controls
}
