//! `FPCompare`, `FPCompareEQ/GE/GT`, `FPMax`, `FPMin`, `FPMaxNum`, `FPMinNum`.

use core::cmp::Ordering;

use crate::unpack::{Kind, Unp};
use crate::{Format, Fp, FPSR_IOC};

/// NZCV flag values returned by [`Fp::compare`] (bit 3 = N, 2 = Z, 1 = C, 0 = V).
pub const NZCV_UNORDERED: u32 = 0b0011;

/// Order two non-NaN unpacked operands by value (±0 compare equal).
fn order(fmt: Format, a: &Unp, b: &Unp) -> Ordering {
    let key = |u: &Unp| -> i128 {
        // Infinities and finite values are ordered by their magnitude bits; flushed
        // denormals are zeros.
        let mag = match u.kind {
            Kind::Zero => 0,
            _ => i128::from(u.bits & !fmt.sign_bit()),
        };
        if u.sign {
            -mag
        } else {
            mag
        }
    };
    key(a).cmp(&key(b))
}

impl Fp {
    /// FCMP / FCMPE (`FPCompare`): returns NZCV in bits 3:0. Unordered gives 0b0011; IOC is
    /// raised for a signalling NaN, or for any NaN when `signal_nans` (FCMPE).
    pub fn compare(&mut self, fmt: Format, a: u64, b: u64, signal_nans: bool) -> u32 {
        let ua = self.unpack_arith(fmt, a);
        let ub = self.unpack_arith(fmt, b);
        if ua.is_nan() || ub.is_nan() {
            if ua.kind == Kind::SNaN || ub.kind == Kind::SNaN || signal_nans {
                self.raise(FPSR_IOC);
            }
            return NZCV_UNORDERED;
        }
        match order(fmt, &ua, &ub) {
            Ordering::Equal => 0b0110,
            Ordering::Less => 0b1000,
            Ordering::Greater => 0b0010,
        }
    }

    fn compare_pred(&mut self, fmt: Format, a: u64, b: u64, quiet: bool) -> Option<Ordering> {
        let ua = self.unpack_arith(fmt, a);
        let ub = self.unpack_arith(fmt, b);
        if ua.is_nan() || ub.is_nan() {
            if !quiet || ua.kind == Kind::SNaN || ub.kind == Kind::SNaN {
                self.raise(FPSR_IOC);
            }
            return None;
        }
        Some(order(fmt, &ua, &ub))
    }

    /// FCMEQ (`FPCompareEQ`): quiet, IOC only for signalling NaNs.
    pub fn cmeq(&mut self, fmt: Format, a: u64, b: u64) -> bool {
        self.compare_pred(fmt, a, b, true) == Some(Ordering::Equal)
    }

    /// FCMGE (`FPCompareGE`): signalling, IOC for any NaN. FCMLE #0 is `cmge(0, a)`.
    pub fn cmge(&mut self, fmt: Format, a: u64, b: u64) -> bool {
        matches!(
            self.compare_pred(fmt, a, b, false),
            Some(Ordering::Greater | Ordering::Equal)
        )
    }

    /// FCMGT (`FPCompareGT`): signalling, IOC for any NaN. FCMLT #0 is `cmgt(0, a)`.
    pub fn cmgt(&mut self, fmt: Format, a: u64, b: u64) -> bool {
        self.compare_pred(fmt, a, b, false) == Some(Ordering::Greater)
    }

    /// FACGE: `FPCompareGE(FPAbs(a), FPAbs(b))`.
    pub fn acge(&mut self, fmt: Format, a: u64, b: u64) -> bool {
        self.cmge(fmt, fmt.abs(a), fmt.abs(b))
    }

    /// FACGT: `FPCompareGT(FPAbs(a), FPAbs(b))`.
    pub fn acgt(&mut self, fmt: Format, a: u64, b: u64) -> bool {
        self.cmgt(fmt, fmt.abs(a), fmt.abs(b))
    }

    fn max_min(&mut self, fmt: Format, a: u64, b: u64, is_max: bool) -> u64 {
        let ua = self.unpack_arith(fmt, a);
        let ub = self.unpack_arith(fmt, b);
        if let Some(r) = self.process_nans(fmt, &[&ua, &ub]) {
            return r;
        }
        let first = match order(fmt, &ua, &ub) {
            Ordering::Greater => is_max,
            Ordering::Less => !is_max,
            Ordering::Equal => false,
        };
        let pick = if first { &ua } else { &ub };
        match pick.kind {
            Kind::Zero => {
                // Max of zeros is +0 unless both are -0; min is -0 if either is.
                let sign = if is_max {
                    ua.sign && ub.sign
                } else {
                    ua.sign || ub.sign
                };
                fmt.zero(sign)
            }
            Kind::Inf => fmt.infinity(pick.sign),
            // A finite operand is already representable: FPRound returns it unchanged.
            _ => pick.bits,
        }
    }

    /// FMAX (`FPMax`).
    pub fn max(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.max_min(fmt, a, b, true)
    }

    /// FMIN (`FPMin`).
    pub fn min(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        self.max_min(fmt, a, b, false)
    }

    /// Replace a lone quiet NaN by an infinity that loses (`FPMaxNum`/`FPMinNum`).
    fn num_operands(fmt: Format, a: u64, b: u64, is_max: bool) -> (u64, u64) {
        let quiet = |x: u64| fmt.is_nan(x) && x & fmt.quiet_bit() != 0;
        let loser = fmt.infinity(is_max);
        match (quiet(a & fmt.mask()), quiet(b & fmt.mask())) {
            (true, false) => (loser, b),
            (false, true) => (a, loser),
            _ => (a, b),
        }
    }

    /// FMAXNM (`FPMaxNum`): a single quiet NaN operand is ignored.
    pub fn maxnm(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        let (a, b) = Self::num_operands(fmt, a, b, true);
        self.max_min(fmt, a, b, true)
    }

    /// FMINNM (`FPMinNum`): a single quiet NaN operand is ignored.
    pub fn minnm(&mut self, fmt: Format, a: u64, b: u64) -> u64 {
        let (a, b) = Self::num_operands(fmt, a, b, false);
        self.max_min(fmt, a, b, false)
    }
}
