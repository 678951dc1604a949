//! `FPUnpack` / `FPUnpackCV` and NaN processing (`FPProcessNaN`, `FPProcessNaNs`, `FPProcessNaNs3`).

use crate::{Format, Fp, FPSR_IDC, FPSR_IOC};

/// Operand class (`FPType`); denormals that are not flushed are `Finite`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Zero,
    Finite,
    Inf,
    QNaN,
    SNaN,
}

/// An unpacked operand: value = (-1)^sign * m * 2^e for `Finite` (m != 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unp {
    pub kind: Kind,
    pub sign: bool,
    pub m: u64,
    pub e: i32,
    /// The original bit pattern (masked to the format).
    pub bits: u64,
}

impl Unp {
    pub fn is_nan(&self) -> bool {
        matches!(self.kind, Kind::QNaN | Kind::SNaN)
    }
}

/// How an operand is unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Arithmetic (`FPUnpack`): FZ/FZ16 flush inputs, AHP ignored.
    Arith,
    /// Conversion (`FPUnpackCV`): FZ16 ignored, AHP honoured for half precision.
    Convert,
}

impl Fp {
    pub(crate) fn unpack(&mut self, fmt: Format, bits: u64, mode: Mode) -> Unp {
        let bits = bits & fmt.mask();
        let sign = bits & fmt.sign_bit() != 0;
        let exp = ((bits & fmt.exp_mask()) >> fmt.frac_bits()) as i32;
        let frac = bits & fmt.frac_mask();
        let f = fmt.frac_bits() as i32;
        let max_exp = (1 << fmt.exp_bits()) - 1;
        let ahp = mode == Mode::Convert && fmt == Format::Half && self.ahp();
        let mut u = Unp {
            kind: Kind::Zero,
            sign,
            m: 0,
            e: 0,
            bits,
        };
        if exp == 0 {
            if frac != 0 {
                let flush = match (fmt, mode) {
                    (Format::Half, Mode::Convert) => false,
                    _ => self.fz(fmt),
                };
                if flush {
                    // FZ16 flushing of half-precision inputs does not set IDC.
                    if fmt != Format::Half {
                        self.raise(FPSR_IDC);
                    }
                } else {
                    u.kind = Kind::Finite;
                    u.m = frac;
                    u.e = fmt.min_exp() - f;
                }
            }
        } else if exp == max_exp && !ahp {
            u.kind = if frac == 0 {
                Kind::Inf
            } else if frac & fmt.quiet_bit() != 0 {
                Kind::QNaN
            } else {
                Kind::SNaN
            };
        } else {
            u.kind = Kind::Finite;
            u.m = frac | (1 << f);
            u.e = exp - fmt.bias() - f;
        }
        u
    }

    pub(crate) fn unpack_arith(&mut self, fmt: Format, bits: u64) -> Unp {
        self.unpack(fmt, bits, Mode::Arith)
    }

    /// `FPProcessNaN`: quiet a signalling NaN (raising IOC), or the default NaN when DN.
    pub(crate) fn process_nan(&mut self, fmt: Format, op: &Unp) -> u64 {
        let mut r = op.bits;
        if op.kind == Kind::SNaN {
            self.raise(FPSR_IOC);
            r |= fmt.quiet_bit();
        }
        if self.dn() {
            fmt.default_nan()
        } else {
            r
        }
    }

    /// `FPProcessNaNs`: signalling NaNs first, then quiet NaNs, each in operand order.
    pub(crate) fn process_nans(&mut self, fmt: Format, ops: &[&Unp]) -> Option<u64> {
        if let Some(op) = ops.iter().find(|o| o.kind == Kind::SNaN) {
            return Some(self.process_nan(fmt, op));
        }
        if let Some(op) = ops.iter().find(|o| o.kind == Kind::QNaN) {
            return Some(self.process_nan(fmt, op));
        }
        None
    }
}
