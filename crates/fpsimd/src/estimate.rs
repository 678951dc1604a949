//! FRECPE (`FPRecipEstimate`) and FRSQRTE (`FPRSqrtEstimate`) with Arm's 8-bit estimates.

use crate::unpack::Kind;
use crate::{Format, Fp, Rounding, FPSR_DZC, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC};

/// `RecipEstimate(a)` for a in 256..512: 1/x of a fixed-point x in [0.5, 1), in [1, 2).
const fn recip_estimate(a: u32) -> u32 {
    let a = a * 2 + 1; // round to nearest
    let b = (1 << 19) / a;
    b.div_ceil(2) // (b + 1) DIV 2: round to nearest
}

/// `RecipSqrtEstimate(a)` for a in 128..512: 1/sqrt(x) of a fixed-point x in [0.25, 1).
const fn rsqrt_estimate(a: u32) -> u32 {
    let a = if a < 256 {
        a * 2 + 1
    } else {
        ((a >> 1) << 1) * 2 + 2
    };
    let mut b: u32 = 512;
    while a * (b + 1) * (b + 1) < (1 << 28) {
        b += 1;
    }
    b.div_ceil(2) // (b + 1) DIV 2: round to nearest
}

const fn table(rsqrt: bool) -> [u16; 512] {
    let mut t = [0u16; 512];
    let mut i = if rsqrt { 128 } else { 256 };
    while i < 512 {
        t[i] = if rsqrt {
            rsqrt_estimate(i as u32)
        } else {
            recip_estimate(i as u32)
        } as u16;
        i += 1;
    }
    t
}

static RECIP: [u16; 512] = table(false);
static RSQRT: [u16; 512] = table(true);

/// Fraction left-aligned to 52 bits, as the pseudocode's `fraction` variable.
fn fraction52(fmt: Format, bits: u64) -> u64 {
    (bits & fmt.frac_mask()) << (52 - fmt.frac_bits())
}

fn biased_exp(fmt: Format, bits: u64) -> i32 {
    ((bits & fmt.exp_mask()) >> fmt.frac_bits()) as i32
}

impl Fp {
    /// FRECPE (`FPRecipEstimate`).
    pub fn recpe(&mut self, fmt: Format, a: u64) -> u64 {
        let u = self.unpack_arith(fmt, a);
        let bias = fmt.bias();
        match u.kind {
            Kind::QNaN | Kind::SNaN => return self.process_nan(fmt, &u),
            Kind::Inf => return fmt.zero(u.sign),
            Kind::Zero => {
                self.raise(FPSR_DZC);
                return fmt.infinity(u.sign);
            }
            Kind::Finite => {}
        }
        // value = m * 2^e; its exponent (position of the leading one) decides the cases.
        let vexp = u.e + 63 - u.m.leading_zeros() as i32;
        if vexp < -(bias + 1) {
            // |value| < 2^-(bias+1): the reciprocal overflows.
            let to_inf = match self.rounding() {
                Rounding::PosInf => !u.sign,
                Rounding::NegInf => u.sign,
                Rounding::Zero | Rounding::Odd => false,
                Rounding::TieEven | Rounding::TieAway => true,
            };
            self.raise(FPSR_OFC | FPSR_IXC);
            return if to_inf {
                fmt.infinity(u.sign)
            } else {
                fmt.max_normal(u.sign)
            };
        }
        if self.fz(fmt) && vexp >= bias - 1 {
            // The result would be tiny: flushed to zero of the correct sign.
            self.raise(FPSR_UFC);
            return fmt.zero(u.sign);
        }
        let mut fraction = fraction52(fmt, u.bits);
        let mut exp = biased_exp(fmt, u.bits);
        if exp == 0 {
            if fraction >> 51 == 0 {
                exp = -1;
                fraction = (fraction << 2) & ((1 << 52) - 1);
            } else {
                fraction = (fraction << 1) & ((1 << 52) - 1);
            }
        }
        let scaled = 256 | (fraction >> 44) as usize;
        let estimate = u64::from(RECIP[scaled]);
        let mut result_exp = 2 * bias - 1 - exp;
        let mut frac = (estimate & 0xFF) << 44;
        if result_exp == 0 {
            frac = (1 << 51) | (frac >> 1);
        } else if result_exp == -1 {
            frac = (1 << 50) | (frac >> 2);
            result_exp = 0;
        }
        let mag = ((result_exp as u64) << fmt.frac_bits()) | (frac >> (52 - fmt.frac_bits()));
        fmt.signed(u.sign, mag & (fmt.mask() >> 1))
    }

    /// FRSQRTE (`FPRSqrtEstimate`).
    pub fn rsqrte(&mut self, fmt: Format, a: u64) -> u64 {
        let u = self.unpack_arith(fmt, a);
        match u.kind {
            Kind::QNaN | Kind::SNaN => return self.process_nan(fmt, &u),
            Kind::Zero => {
                self.raise(FPSR_DZC);
                return fmt.infinity(u.sign);
            }
            _ if u.sign => {
                self.raise(FPSR_IOC);
                return fmt.default_nan();
            }
            Kind::Inf => return fmt.zero(false),
            Kind::Finite => {}
        }
        let mut fraction = fraction52(fmt, u.bits);
        let mut exp = biased_exp(fmt, u.bits);
        if exp == 0 {
            // Denormal (fraction != 0 because the operand is Finite).
            while fraction >> 51 == 0 {
                fraction <<= 1;
                exp -= 1;
            }
            fraction = (fraction << 1) & ((1 << 52) - 1);
        }
        let scaled = if exp & 1 == 0 {
            256 | (fraction >> 44) as usize
        } else {
            128 | (fraction >> 45) as usize
        };
        let result_exp = (3 * fmt.bias() - 1 - exp).div_euclid(2);
        let estimate = u64::from(RSQRT[scaled]) & 0xFF;
        ((result_exp as u64) << fmt.frac_bits()) | (estimate << (fmt.frac_bits() - 8))
    }
}

/// URECPE (`UnsignedRecipEstimate`) on one 32-bit lane: no FP flags.
pub fn urecpe(x: u32) -> u32 {
    if x >> 31 == 0 {
        return u32::MAX;
    }
    u32::from(RECIP[(x >> 23) as usize]) << 23
}

/// URSQRTE (`UnsignedRSqrtEstimate`) on one 32-bit lane: no FP flags.
pub fn ursqrte(x: u32) -> u32 {
    if x >> 30 == 0 {
        return u32::MAX;
    }
    u32::from(RSQRT[(x >> 23) as usize]) << 23
}

impl Fp {
    /// FRECPX (`FPRecpX`): sign kept, exponent inverted, fraction cleared.
    pub fn recpx(&mut self, fmt: Format, a: u64) -> u64 {
        let u = self.unpack_arith(fmt, a);
        if u.is_nan() {
            return self.process_nan(fmt, &u);
        }
        let exp = biased_exp(fmt, u.bits) as u64;
        let emax = (1u64 << fmt.exp_bits()) - 1;
        // Zeros and denormals give the largest finite exponent; others the inverted exponent.
        let e = if exp == 0 { emax - 1 } else { !exp & emax };
        fmt.signed(u.sign, e << fmt.frac_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_tables_stay_in_range() {
        assert!(RECIP[256..].iter().all(|&r| (256..512).contains(&r)));
        assert!(RSQRT[128..].iter().all(|&r| (256..512).contains(&r)));
    }
}
