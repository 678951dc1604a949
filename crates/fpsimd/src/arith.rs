//! `FPAdd`, `FPSub`, `FPMul`, `FPMulX`, `FPDiv`, `FPSqrt`, `FPMulAdd`, `FPRecipStepFused`,
//! `FPRSqrtStepFused` and the sign-manipulating wrappers (FABS, FNEG, FNMUL, FABD, FNMADD...).

use crate::round::Exact;
use crate::unpack::{Kind, Unp};
use crate::{Format, Fp, Rounding, FPSR_DZC, FPSR_IOC};

/// A signed exact term (-1)^sign * m * 2^e; m == 0 means a zero.
#[derive(Clone, Copy, Debug)]
struct Term {
    sign: bool,
    m: u128,
    e: i32,
}

impl Term {
    fn of(u: &Unp) -> Term {
        Term {
            sign: u.sign,
            m: u128::from(u.m),
            e: u.e,
        }
    }

    /// Normalise so that the most significant bit is bit 125 (m must be nonzero, < 2^126).
    fn normalized(self) -> Term {
        let msb = 127 - self.m.leading_zeros() as i32;
        let sh = 125 - msb;
        if sh >= 0 {
            Term {
                m: self.m << sh,
                e: self.e - sh,
                ..self
            }
        } else {
            // Not reached (products have at most 106 bits). If it were, jamming the lost bits
            // into the lowest bit keeps rounding exact: 125 bits leave far more than the two
            // guard bits any format needs.
            let lost = self.m & ((1u128 << -sh) - 1) != 0;
            Term {
                m: (self.m >> -sh) | u128::from(lost),
                e: self.e - sh,
                ..self
            }
        }
    }
}

/// Exact sum a + b, or None if it is exactly zero.
fn add_exact(a: Term, b: Term) -> Option<Exact> {
    if a.m == 0 && b.m == 0 {
        return None;
    }
    if a.m == 0 || b.m == 0 {
        let t = if a.m == 0 { b } else { a };
        return Some(Exact {
            sign: t.sign,
            m: t.m,
            e: t.e,
            sticky: false,
        });
    }
    let (a, b) = (a.normalized(), b.normalized());
    let (big, small) = if (a.e, a.m) >= (b.e, b.m) {
        (a, b)
    } else {
        (b, a)
    };
    let d = (big.e - small.e) as u32;
    if d <= 1 {
        let bm = big.m << d;
        let (sign, m) = if big.sign == small.sign {
            (big.sign, bm + small.m)
        } else if bm >= small.m {
            (big.sign, bm - small.m)
        } else {
            (small.sign, small.m - bm)
        };
        return (m != 0).then_some(Exact {
            sign,
            m,
            e: small.e,
            sticky: false,
        });
    }
    let (shifted, sticky) = if d >= 128 {
        (0, true)
    } else {
        (small.m >> d, small.m & ((1u128 << d) - 1) != 0)
    };
    let m = if big.sign == small.sign {
        big.m + shifted
    } else {
        big.m - shifted - u128::from(sticky)
    };
    Some(Exact {
        sign: big.sign,
        m,
        e: big.e,
        sticky,
    })
}

/// Integer square root: (floor(sqrt(n)), remainder != 0).
fn isqrt(mut n: u128) -> (u128, bool) {
    let mut res: u128 = 0;
    let mut bit: u128 = 1 << 126;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if n >= res + bit {
            n -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    (res, n != 0)
}

impl Format {
    /// `FPNeg`: flip the sign bit (also of NaNs).
    pub const fn neg(self, a: u64) -> u64 {
        (a ^ self.sign_bit()) & self.mask()
    }

    /// `FPAbs`: clear the sign bit (also of NaNs).
    pub const fn abs(self, a: u64) -> u64 {
        a & !self.sign_bit() & self.mask()
    }

    /// The value 2.0 with the given sign (`FPTwo`).
    pub(crate) const fn two(self, sign: bool) -> u64 {
        self.signed(sign, ((self.bias() as u64) + 1) << self.frac_bits())
    }

    /// The value 1.5 (`FPOnePointFive`).
    pub(crate) const fn one_point_five(self) -> u64 {
        ((self.bias() as u64) << self.frac_bits()) | self.quiet_bit()
    }
}

impl Fp {
    fn invalid_default(&mut self, fmt: Format) -> u64 {
        self.raise(FPSR_IOC);
        fmt.default_nan()
    }

    /// Round an exact sum, giving the rounding-mode-signed zero when it cancels exactly.
    fn round_sum(&mut self, fmt: Format, sum: Option<Exact>) -> u64 {
        match sum {
            None => fmt.zero(self.rounding() == Rounding::NegInf),
            Some(x) => self.round(fmt, x),
        }
    }

    fn add_sub(&mut self, fmt: Format, a: u64, b: u64, subtract: bool) -> u64 {
        let ua = self.unpack_arith(fmt, a);
        let mut ub = self.unpack_arith(fmt, b);
        if let Some(r) = self.process_nans(fmt, &[&ua, &ub]) {
            return r;
        }
        ub.sign ^= subtract;
        match (ua.kind, ub.kind) {
            (Kind::Inf, Kind::Inf) if ua.sign != ub.sign => self.invalid_default(fmt),
            (Kind::Inf, _) => fmt.infinity(ua.sign),
            (_, Kind::Inf) => fmt.infinity(ub.sign),
            (Kind::Zero, Kind::Zero) if ua.sign == ub.sign => fmt.zero(ua.sign),
            _ => {
                let sum = add_exact(Term::of(&ua), Term::of(&ub));
                self.round_sum(fmt, sum)
            }
        }
    }

    /// FADD (`FPAdd`).
    pub fn add(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.add_sub(fmt, a, b, false)
    }

    /// FSUB (`FPSub`).
    pub fn sub(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.add_sub(fmt, a, b, true)
    }

    /// FABD: `FPAbs(FPSub(a, b))`.
    pub fn abd(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        let r = self.sub(fmt, a, b);
        fmt.abs(r)
    }

    fn mul_common(&mut self, fmt: Format, a: u64, b: u64, mulx: bool) -> u64 {
        let ua = self.unpack_arith(fmt, a);
        let ub = self.unpack_arith(fmt, b);
        if let Some(r) = self.process_nans(fmt, &[&ua, &ub]) {
            return r;
        }
        let sign = ua.sign != ub.sign;
        match (ua.kind, ub.kind) {
            (Kind::Inf, Kind::Zero) | (Kind::Zero, Kind::Inf) => {
                if mulx {
                    fmt.two(sign)
                } else {
                    self.invalid_default(fmt)
                }
            }
            (Kind::Inf, _) | (_, Kind::Inf) => fmt.infinity(sign),
            (Kind::Zero, _) | (_, Kind::Zero) => fmt.zero(sign),
            _ => {
                let m = u128::from(ua.m) * u128::from(ub.m);
                self.round(
                    fmt,
                    Exact {
                        sign,
                        m,
                        e: ua.e + ub.e,
                        sticky: false,
                    },
                )
            }
        }
    }

    /// FMUL (`FPMul`).
    pub fn mul(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.mul_common(fmt, a, b, false)
    }

    /// FMULX (`FPMulX`): infinity times zero gives ±2.0 without IOC.
    pub fn mulx(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.mul_common(fmt, a, b, true)
    }

    /// FNMUL: `FPNeg(FPMul(a, b))` (the sign of a NaN result is flipped too).
    pub fn nmul(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        let r = self.mul(fmt, a, b);
        fmt.neg(r)
    }

    /// FDIV (`FPDiv`).
    pub fn div(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        let ua = self.unpack_arith(fmt, a);
        let ub = self.unpack_arith(fmt, b);
        if let Some(r) = self.process_nans(fmt, &[&ua, &ub]) {
            return r;
        }
        let sign = ua.sign != ub.sign;
        match (ua.kind, ub.kind) {
            (Kind::Inf, Kind::Inf) | (Kind::Zero, Kind::Zero) => self.invalid_default(fmt),
            (Kind::Inf, _) => fmt.infinity(sign),
            (_, Kind::Zero) => {
                self.raise(FPSR_DZC);
                fmt.infinity(sign)
            }
            (Kind::Zero, _) | (_, Kind::Inf) => fmt.zero(sign),
            _ => {
                let sa = ua.m.leading_zeros() as i32;
                let sb = ub.m.leading_zeros() as i32;
                let na = u128::from(ua.m << sa) << 64;
                let nb = u128::from(ub.m << sb);
                let (q, r) = (na / nb, na % nb);
                let e = (ua.e - sa) - (ub.e - sb) - 64;
                self.round(
                    fmt,
                    Exact {
                        sign,
                        m: q,
                        e,
                        sticky: r != 0,
                    },
                )
            }
        }
    }

    /// FSQRT (`FPSqrt`).
    pub fn sqrt(&mut self, fmt: Format, a: u64) -> u64 {
        let ua = self.unpack_arith(fmt, a);
        match ua.kind {
            Kind::QNaN | Kind::SNaN => self.process_nan(fmt, &ua),
            Kind::Zero => fmt.zero(ua.sign),
            _ if ua.sign => self.invalid_default(fmt),
            Kind::Inf => fmt.infinity(false),
            Kind::Finite => {
                let msb = 63 - ua.m.leading_zeros() as i32;
                let mut s = 124 - msb;
                if (ua.e - s) & 1 != 0 {
                    s += 1;
                }
                let (root, inexact) = isqrt(u128::from(ua.m) << s);
                let e = (ua.e - s) / 2;
                self.round(
                    fmt,
                    Exact {
                        sign: false,
                        m: root,
                        e,
                        sticky: inexact,
                    },
                )
            }
        }
    }

    /// `FPMulAdd(addend, op1, op2)`: addend + op1 * op2 with a single rounding.
    pub fn muladd(&mut self, fmt: Format, addend: u64, op1: u64, op2: u64) -> u64 {
        let ua = self.unpack_arith(fmt, addend);
        let u1 = self.unpack_arith(fmt, op1);
        let u2 = self.unpack_arith(fmt, op2);
        let inf_times_zero = matches!(
            (u1.kind, u2.kind),
            (Kind::Inf, Kind::Zero) | (Kind::Zero, Kind::Inf)
        );
        if let Some(r) = self.process_nans(fmt, &[&ua, &u1, &u2]) {
            if ua.kind == Kind::QNaN && inf_times_zero {
                return self.invalid_default(fmt);
            }
            return r;
        }
        let sign_p = u1.sign != u2.sign;
        let inf_p = u1.kind == Kind::Inf || u2.kind == Kind::Inf;
        let zero_p = u1.kind == Kind::Zero || u2.kind == Kind::Zero;
        let inf_a = ua.kind == Kind::Inf;
        if inf_times_zero || (inf_a && inf_p && ua.sign != sign_p) {
            return self.invalid_default(fmt);
        }
        if inf_a {
            return fmt.infinity(ua.sign);
        }
        if inf_p {
            return fmt.infinity(sign_p);
        }
        if ua.kind == Kind::Zero && zero_p && ua.sign == sign_p {
            return fmt.zero(ua.sign);
        }
        let product = if zero_p {
            Term {
                sign: sign_p,
                m: 0,
                e: 0,
            }
        } else {
            Term {
                sign: sign_p,
                m: u128::from(u1.m) * u128::from(u2.m),
                e: u1.e + u2.e,
            }
        };
        let sum = add_exact(Term::of(&ua), product);
        self.round_sum(fmt, sum)
    }

    /// FMADD Rd = Ra + Rn * Rm.
    pub fn fmadd(&mut self, fmt: Format, n: u64, m: u64, a: u64) -> u64 {
        self.muladd(fmt, a, n, m)
    }

    /// FMSUB Rd = Ra - Rn * Rm (`FPMulAdd(a, FPNeg(n), m)`).
    pub fn fmsub(&mut self, fmt: Format, n: u64, m: u64, a: u64) -> u64 {
        self.muladd(fmt, a, fmt.neg(n), m)
    }

    /// FNMADD Rd = -Ra - Rn * Rm (`FPMulAdd(FPNeg(a), FPNeg(n), m)`).
    pub fn fnmadd(&mut self, fmt: Format, n: u64, m: u64, a: u64) -> u64 {
        self.muladd(fmt, fmt.neg(a), fmt.neg(n), m)
    }

    /// FNMSUB Rd = -Ra + Rn * Rm (`FPMulAdd(FPNeg(a), n, m)`).
    pub fn fnmsub(&mut self, fmt: Format, n: u64, m: u64, a: u64) -> u64 {
        self.muladd(fmt, fmt.neg(a), n, m)
    }

    /// Shared body of FRECPS and FRSQRTS: (c + (-a) * b) / 2^halve, fused.
    fn step_fused(&mut self, fmt: Format, a: u64, b: u64, rsqrt: bool) -> u64 {
        let u1 = self.unpack_arith(fmt, fmt.neg(a));
        let u2 = self.unpack_arith(fmt, b);
        if let Some(r) = self.process_nans(fmt, &[&u1, &u2]) {
            return r;
        }
        let sign = u1.sign != u2.sign;
        match (u1.kind, u2.kind) {
            (Kind::Inf, Kind::Zero) | (Kind::Zero, Kind::Inf) => {
                if rsqrt {
                    fmt.one_point_five()
                } else {
                    fmt.two(false)
                }
            }
            (Kind::Inf, _) | (_, Kind::Inf) => fmt.infinity(sign),
            _ => {
                let product = Term {
                    sign,
                    m: u128::from(u1.m) * u128::from(u2.m),
                    e: u1.e + u2.e,
                };
                let c = if rsqrt {
                    Term {
                        sign: false,
                        m: 3,
                        e: -1,
                    }
                } else {
                    Term {
                        sign: false,
                        m: 1,
                        e: 1,
                    }
                };
                let product = if rsqrt {
                    Term {
                        e: product.e - 1,
                        ..product
                    }
                } else {
                    product
                };
                let sum = add_exact(c, product);
                self.round_sum(fmt, sum)
            }
        }
    }

    /// FRECPS (`FPRecipStepFused`): 2.0 - a * b.
    pub fn recps(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.step_fused(fmt, a, b, false)
    }

    /// FRSQRTS (`FPRSqrtStepFused`): (3.0 - a * b) / 2.
    pub fn rsqrts(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.step_fused(fmt, a, b, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isqrt_of_squares_is_exact() {
        assert_eq!(isqrt(1 << 124), (1 << 62, false));
        assert_eq!(isqrt((1 << 124) + 1), (1 << 62, true));
    }

    #[test]
    fn one_plus_one_is_two() {
        let mut fp = Fp::new(0);
        assert_eq!(
            fp.add(Format::Double, 0x3FF0_0000_0000_0000, 0x3FF0_0000_0000_0000),
            0x4000_0000_0000_0000
        );
        assert_eq!(fp.fpsr, 0);
    }
}
