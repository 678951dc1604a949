//! `FPRound`: round an exact value to a format and pack it.

use crate::{Format, Fp, Rounding, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC};

/// An exact nonzero real: (-1)^sign * (m + t) * 2^e, where t = 0 if !sticky, else 0 < t < 1.
///
/// When `sticky` is set, `m` must carry at least two bits below the result's last place, so that
/// the sticky part can only influence the "below half" decision.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exact {
    pub sign: bool,
    pub m: u128,
    pub e: i32,
    pub sticky: bool,
}

/// Controls of one rounding step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RoundCfg {
    pub rm: Rounding,
    /// Flush tiny results to zero (FZ/FZ16 as applicable).
    pub flush: bool,
    /// Pack as Arm alternative half precision (conversions with FPCR.AHP).
    pub ahp: bool,
}

impl Fp {
    /// Arithmetic rounding config for `fmt` with rounding mode `rm`.
    pub(crate) fn cfg(&self, fmt: Format, rm: Rounding) -> RoundCfg {
        RoundCfg {
            rm,
            flush: self.fz(fmt),
            ahp: false,
        }
    }

    /// `FPRound` with the FPCR rounding mode.
    pub(crate) fn round(&mut self, fmt: Format, x: Exact) -> u64 {
        let cfg = self.cfg(fmt, self.rounding());
        self.round_cfg(fmt, x, cfg)
    }

    /// `FPRound` / `FPRoundCV`. Underflow is detected before rounding, as the pseudocode does
    /// for FPCR.AH == 0: the unrounded value is below 2^Emin and the result is inexact.
    pub(crate) fn round_cfg(&mut self, fmt: Format, x: Exact, cfg: RoundCfg) -> u64 {
        if x.m == 0 {
            // Callers pass nonzero values; keep a defined answer for robustness.
            return fmt.zero(x.sign);
        }
        let f = fmt.frac_bits() as i32;
        let min_exp = fmt.min_exp();
        let msb = 127 - x.m.leading_zeros() as i32;
        let exponent = x.e + msb;
        if cfg.flush && exponent < min_exp {
            // Flush-to-zero never generates a trapped exception: UFC only, no IXC.
            self.raise(FPSR_UFC);
            return fmt.zero(x.sign);
        }
        let mut biased = (exponent - min_exp + 1).max(0);
        let lsb = exponent.max(min_exp) - f;
        let shift = lsb - x.e;
        // q: integer mantissa truncated; half: the bit just below; rest: anything lower.
        let (mut q, half, rest) = if shift <= 0 {
            debug_assert!(!x.sticky, "sticky value without guard bits");
            (x.m << (-shift).min(127), false, x.sticky)
        } else if shift > 128 {
            (0, false, true)
        } else if shift == 128 {
            (0, x.m >> 127 != 0, x.m & (u128::MAX >> 1) != 0 || x.sticky)
        } else {
            let below = x.m & ((1u128 << shift) - 1);
            let half_bit = 1u128 << (shift - 1);
            (
                x.m >> shift,
                below & half_bit != 0,
                below & (half_bit - 1) != 0 || x.sticky,
            )
        };
        let inexact = half || rest;
        if biased == 0 && inexact {
            self.raise(FPSR_UFC);
        }
        let (round_up, overflow_to_inf) = match cfg.rm {
            Rounding::TieEven => (half && (rest || q & 1 != 0), true),
            Rounding::TieAway => (half, true),
            Rounding::PosInf => (inexact && !x.sign, !x.sign),
            Rounding::NegInf => (inexact && x.sign, x.sign),
            Rounding::Zero | Rounding::Odd => (false, false),
        };
        if round_up {
            q += 1;
            if biased == 0 && q == 1 << f {
                biased = 1;
            } else if q == 1 << (f + 1) {
                biased += 1;
                q >>= 1;
            }
        }
        if cfg.rm == Rounding::Odd && inexact {
            q |= 1;
        }
        let emax = (1 << fmt.exp_bits()) - 1;
        if !cfg.ahp {
            if biased >= emax {
                self.raise(FPSR_OFC | FPSR_IXC);
                return if overflow_to_inf {
                    fmt.infinity(x.sign)
                } else {
                    fmt.max_normal(x.sign)
                };
            }
        } else if biased > emax {
            self.raise(FPSR_IOC);
            return fmt.signed(x.sign, fmt.mask() >> 1);
        }
        if inexact {
            self.raise(FPSR_IXC);
        }
        let mag = ((biased as u64) << f) | (q as u64 & fmt.frac_mask());
        fmt.signed(x.sign, mag)
    }
}
