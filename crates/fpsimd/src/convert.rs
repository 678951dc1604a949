//! `FPConvert` (FCVT), `FPToFixed` (FCVT*S/U), `FixedToFP` (SCVTF/UCVTF), `FPRoundInt`
//! (FRINT*) and `VFPExpandImm` (FMOV immediate).

use crate::round::{Exact, RoundCfg};
use crate::unpack::{Kind, Mode};
use crate::{Format, Fp, Rounding, FPSR_IOC, FPSR_IXC};

/// `VFPExpandImm`: the FMOV (immediate) 8-bit encoding expanded to `fmt`.
pub const fn expand_imm(fmt: Format, imm8: u8) -> u64 {
    let e = fmt.exp_bits();
    let f = fmt.frac_bits();
    let imm = imm8 as u64;
    let b6 = (imm >> 6) & 1;
    let top = (b6 ^ 1) << (e - 1);
    let reps = if b6 == 1 {
        ((1 << (e - 3)) - 1) << 2
    } else {
        0
    };
    let exp = top | reps | ((imm >> 4) & 3);
    let frac = (imm & 0xF) << (f - 4);
    ((imm >> 7) << (e + f)) | (exp << f) | frac
}

/// Integer magnitude of m * 2^shift, with the "half" bit and "anything below" of the fraction.
fn int_part(m: u64, shift: i32) -> (u128, bool, bool) {
    let m = u128::from(m);
    if shift >= 0 {
        // Callers bound shift to < 64, so m << shift < 2^117.
        return (m << shift.min(70), false, false);
    }
    let s = -shift;
    if s >= 128 {
        return (0, false, m != 0);
    }
    let below = m & ((1u128 << s) - 1);
    let half = 1u128 << (s - 1);
    (m >> s, below & half != 0, below & (half - 1) != 0)
}

/// Whether an integer rounding of magnitude `q` with fraction (half, rest) rounds away from zero.
fn int_round_up(rm: Rounding, sign: bool, q: u128, half: bool, rest: bool) -> bool {
    let inexact = half || rest;
    match rm {
        Rounding::TieEven => half && (rest || q & 1 != 0),
        Rounding::TieAway => half,
        Rounding::PosInf => inexact && !sign,
        Rounding::NegInf => inexact && sign,
        Rounding::Zero | Rounding::Odd => false,
    }
}

/// `FPConvertNaN`: keep sign and the top payload bits, set the quiet bit.
fn convert_nan(from: Format, to: Format, a: u64) -> u64 {
    let sign = a & from.sign_bit() != 0;
    // Left-align the payload (fraction without its quiet bit) in 51 bits, as the pseudocode does.
    let payload = (a & (from.quiet_bit() - 1)) << (52 - from.frac_bits());
    let frac = payload >> (52 - to.frac_bits());
    to.signed(sign, to.exp_mask() | to.quiet_bit() | frac)
}

impl Fp {
    /// FCVT between formats with the FPCR rounding mode (`FPConvert`); FPCR.AHP selects the
    /// alternative half-precision format for a half source or destination.
    pub fn convert(&mut self, from: Format, to: Format, a: u64) -> u64 {
        self.convert_rounding(from, to, a, self.rounding())
    }

    /// `FPConvert` with an explicit rounding mode (FCVTXN uses [`Rounding::Odd`]).
    pub fn convert_rounding(&mut self, from: Format, to: Format, a: u64, rm: Rounding) -> u64 {
        let u = self.unpack(from, a, Mode::Convert);
        let alt_hp = to == Format::Half && self.ahp();
        match u.kind {
            Kind::QNaN | Kind::SNaN => {
                if u.kind == Kind::SNaN || alt_hp {
                    self.raise(FPSR_IOC);
                }
                if alt_hp {
                    to.zero(u.sign)
                } else if self.dn() {
                    to.default_nan()
                } else {
                    convert_nan(from, to, u.bits)
                }
            }
            Kind::Inf if alt_hp => {
                self.raise(FPSR_IOC);
                to.signed(u.sign, to.mask() >> 1)
            }
            Kind::Inf => to.infinity(u.sign),
            Kind::Zero => to.zero(u.sign),
            Kind::Finite => {
                // FPRoundCV: FZ16 never applies to conversions.
                let flush = to != Format::Half && self.fz(to);
                let x = Exact {
                    sign: u.sign,
                    m: u128::from(u.m),
                    e: u.e,
                    sticky: false,
                };
                self.round_cfg(
                    to,
                    x,
                    RoundCfg {
                        rm,
                        flush,
                        ahp: alt_hp,
                    },
                )
            }
        }
    }

    /// FCVT{N,A,P,M,Z}{S,U} and the fixed-point FCVTZS/FCVTZU (`FPToFixed`): convert to a
    /// `int_bits`-bit (32 or 64) integer with `fbits` fraction bits, saturating with IOC.
    /// The result is zero-extended to 64 bits.
    pub fn to_fixed(
        &mut self,
        fmt: Format,
        a: u64,
        fbits: u32,
        unsigned: bool,
        int_bits: u32,
        rm: Rounding,
    ) -> u64 {
        let int_bits = int_bits.clamp(1, 64);
        let mask = u64::MAX >> (64 - int_bits);
        let u = self.unpack_arith(fmt, a);
        let saturate = |neg: bool| -> u64 {
            match (unsigned, neg) {
                (true, true) => 0,
                (true, false) => mask,
                (false, true) => (1u64 << (int_bits - 1)) & mask,
                (false, false) => mask >> 1,
            }
        };
        let (m, e) = match u.kind {
            Kind::QNaN | Kind::SNaN => {
                self.raise(FPSR_IOC);
                return 0;
            }
            Kind::Inf => {
                self.raise(FPSR_IOC);
                return saturate(u.sign);
            }
            Kind::Zero => return 0,
            Kind::Finite => (u.m, u.e),
        };
        let shift = e + fbits.min(128) as i32;
        if shift >= 64 {
            self.raise(FPSR_IOC);
            return saturate(u.sign);
        }
        let (q, half, rest) = int_part(m, shift);
        let q = q + u128::from(int_round_up(rm, u.sign, q, half, rest));
        let limit: u128 = match (unsigned, u.sign) {
            (true, true) => 0,
            (true, false) => u128::from(mask),
            (false, true) => 1u128 << (int_bits - 1),
            (false, false) => u128::from(mask >> 1),
        };
        if q > limit {
            self.raise(FPSR_IOC);
            return saturate(u.sign);
        }
        if half || rest {
            self.raise(FPSR_IXC);
        }
        let q = q as u64;
        (if u.sign { q.wrapping_neg() } else { q }) & mask
    }

    /// FCVT*S/U to an integer with the given rounding mode (no fraction bits).
    pub fn to_int(
        &mut self,
        fmt: Format,
        a: u64,
        unsigned: bool,
        int_bits: u32,
        rm: Rounding,
    ) -> u64 {
        self.to_fixed(fmt, a, 0, unsigned, int_bits, rm)
    }

    /// SCVTF/UCVTF (`FixedToFP`): the low `int_bits` (32 or 64) of `value` as a signed or
    /// unsigned fixed-point number with `fbits` fraction bits, rounded with `rm`.
    pub fn from_fixed(
        &mut self,
        fmt: Format,
        value: u64,
        int_bits: u32,
        signed: bool,
        fbits: u32,
        rm: Rounding,
    ) -> u64 {
        let int_bits = int_bits.clamp(1, 64);
        let v = value & (u64::MAX >> (64 - int_bits));
        let neg = signed && (v >> (int_bits - 1)) & 1 != 0;
        let mag = if neg {
            (v | !(u64::MAX >> (64 - int_bits))).wrapping_neg()
        } else {
            v
        };
        if mag == 0 {
            return fmt.zero(false);
        }
        let x = Exact {
            sign: neg,
            m: u128::from(mag),
            e: -(fbits.min(128) as i32),
            sticky: false,
        };
        let cfg = self.cfg(fmt, rm);
        self.round_cfg(fmt, x, cfg)
    }

    /// SCVTF/UCVTF with FPCR rounding and no fraction bits.
    pub fn from_int(&mut self, fmt: Format, value: u64, int_bits: u32, signed: bool) -> u64 {
        self.from_fixed(fmt, value, int_bits, signed, 0, self.rounding())
    }

    /// FRINT* (`FPRoundInt`): round to an integral value with `rm`; `exact` (FRINTX) raises IXC
    /// when the value changes.
    pub fn round_int(&mut self, fmt: Format, a: u64, rm: Rounding, exact: bool) -> u64 {
        let u = self.unpack_arith(fmt, a);
        match u.kind {
            Kind::QNaN | Kind::SNaN => self.process_nan(fmt, &u),
            Kind::Inf => fmt.infinity(u.sign),
            Kind::Zero => fmt.zero(u.sign),
            Kind::Finite if u.e >= 0 => u.bits,
            Kind::Finite => {
                let (q, half, rest) = int_part(u.m, u.e);
                let q = q + u128::from(int_round_up(rm, u.sign, q, half, rest));
                let r = if q == 0 {
                    fmt.zero(u.sign)
                } else {
                    let x = Exact {
                        sign: u.sign,
                        m: q,
                        e: 0,
                        sticky: false,
                    };
                    let cfg = self.cfg(fmt, Rounding::Zero);
                    self.round_cfg(fmt, x, cfg)
                };
                if exact && (half || rest) {
                    self.raise(FPSR_IXC);
                }
                r
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_imm_gives_one_and_minus_two() {
        assert_eq!(expand_imm(Format::Double, 0x70), 0x3FF0_0000_0000_0000);
        assert_eq!(expand_imm(Format::Single, 0x70), 0x3F80_0000);
        assert_eq!(expand_imm(Format::Half, 0x70), 0x3C00);
        assert_eq!(expand_imm(Format::Single, 0x80), 0xC000_0000);
    }
}
