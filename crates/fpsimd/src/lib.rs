//! Bit-exact Arm (AArch64) floating-point arithmetic.
//!
//! This crate is the arithmetic half of the FP and AdvSIMD instructions: it knows nothing about
//! decoding or CPU state. Every operation takes raw bit patterns (half, single or double precision
//! held in the low bits of a `u64`, or the `u16`/`u32`/`u64` wrappers in [`typed`]), applies the
//! controls of an [`Fp`] context's FPCR and ORs the cumulative exception flags into its FPSR,
//! exactly as the Arm ARM pseudocode (`FPAdd`, `FPMulAdd`, `FPRound`, `FPToFixed`, ...) does with
//! `FPCR.AH == 0` (no FEAT_AFP).
//!
//! The implementation is an integer soft float: operands are unpacked into an integer significand
//! and exponent, the operation is computed exactly (or exactly up to a sticky bit) on `u128`, and
//! `FPRound` rounds and packs. Host floating point is never used.
//!
//! Lane use: vector instructions call the same functions once per element with the same context;
//! the flags accumulate in `fpsr` like the architecture's cumulative bits.
//!
//! # Rules worth knowing (all checked against qemu-aarch64 by `tests/qemu_oracle.rs`)
//! - Underflow (UFC) is detected *before* rounding: a result that is tiny before rounding and
//!   inexact sets UFC even if it rounds up to the smallest normal (`FPRound` with AH == 0).
//! - FZ flushes single/double denormal inputs (setting IDC) and tiny results (setting UFC only,
//!   no IXC). FZ16 does the same for half-precision arithmetic but never sets IDC. Conversions
//!   (FCVT) ignore FZ16 entirely; FZ still applies to their single/double side.
//! - NaNs: the first signalling NaN in operand order wins (quietened, IOC), else the first quiet
//!   NaN; DN substitutes the default NaN. For FMADD-family the addend is the first operand, and
//!   a quiet-NaN addend with infinity times zero gives the default NaN with IOC.
//! - FNMUL/FABD/FMSUB... negate or take the absolute value of NaNs too (`FPNeg`, `FPAbs`).
//!
//! # Why not Berkeley SoftFloat (softfloat-wrapper)
//! Its default specialisation is 8086-SSE (x86 NaN rules); the ARM-VFPv2 one gets two-operand
//! NaN propagation right but not the FMADD addend rule, it has no flush-to-zero (FZ/FZ16/IDC) or
//! AHP, its rounding mode, tininess mode and flags are C global state rather than a context, and
//! `FPToFixed`, `FPRecipEstimate`, FMAXNM or FRECPS semantics would be ours anyway. The integer
//! soft float here is under a thousand lines of code, has no C build and no global state.

mod arith;
mod cmp;
mod convert;
mod estimate;
mod reduce;
mod round;
pub mod typed;
mod unpack;

pub use cmp::NZCV_UNORDERED;
pub use convert::expand_imm;
pub use estimate::{urecpe, ursqrte};

/// FPCR.AHP: alternative half-precision format for conversions.
pub const FPCR_AHP: u32 = 1 << 26;
/// FPCR.DN: default NaN mode.
pub const FPCR_DN: u32 = 1 << 25;
/// FPCR.FZ: flush-to-zero for single and double precision.
pub const FPCR_FZ: u32 = 1 << 24;
/// FPCR.RMode shift (bits 23:22).
pub const FPCR_RMODE_SHIFT: u32 = 22;
/// FPCR.FZ16: flush-to-zero for half-precision arithmetic.
pub const FPCR_FZ16: u32 = 1 << 19;

/// FPSR.IOC: invalid operation.
pub const FPSR_IOC: u32 = 1 << 0;
/// FPSR.DZC: divide by zero.
pub const FPSR_DZC: u32 = 1 << 1;
/// FPSR.OFC: overflow.
pub const FPSR_OFC: u32 = 1 << 2;
/// FPSR.UFC: underflow (also set when an output is flushed to zero).
pub const FPSR_UFC: u32 = 1 << 3;
/// FPSR.IXC: inexact.
pub const FPSR_IXC: u32 = 1 << 4;
/// FPSR.IDC: input denormal (set when FZ flushes a single/double input).
pub const FPSR_IDC: u32 = 1 << 7;
/// FPSR.QC: cumulative saturation (AdvSIMD integer saturation; not set by this crate).
pub const FPSR_QC: u32 = 1 << 27;

/// A floating-point format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// IEEE half precision (or the Arm alternative half precision when FPCR.AHP applies).
    Half,
    /// IEEE single precision.
    Single,
    /// IEEE double precision.
    Double,
}

impl Format {
    /// The format selected by a scalar FP instruction's `ftype` field (bits 23:22):
    /// 00 single, 01 double, 11 half; 10 is unallocated.
    pub const fn from_ftype(ftype: u32) -> Option<Format> {
        match ftype & 3 {
            0 => Some(Format::Single),
            1 => Some(Format::Double),
            3 => Some(Format::Half),
            _ => None,
        }
    }

    /// Total width in bits.
    pub const fn width(self) -> u32 {
        match self {
            Format::Half => 16,
            Format::Single => 32,
            Format::Double => 64,
        }
    }

    /// Exponent field width (E).
    pub const fn exp_bits(self) -> u32 {
        match self {
            Format::Half => 5,
            Format::Single => 8,
            Format::Double => 11,
        }
    }

    /// Fraction field width (F).
    pub const fn frac_bits(self) -> u32 {
        self.width() - self.exp_bits() - 1
    }

    pub(crate) const fn bias(self) -> i32 {
        (1 << (self.exp_bits() - 1)) - 1
    }

    /// Exponent of the smallest normal number, `1 - bias`.
    pub(crate) const fn min_exp(self) -> i32 {
        1 - self.bias()
    }

    pub(crate) const fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }

    pub(crate) const fn frac_mask(self) -> u64 {
        (1 << self.frac_bits()) - 1
    }

    pub(crate) const fn exp_mask(self) -> u64 {
        ((1 << self.exp_bits()) - 1) << self.frac_bits()
    }

    pub(crate) const fn quiet_bit(self) -> u64 {
        1 << (self.frac_bits() - 1)
    }

    /// Mask of all bits of the format.
    pub const fn mask(self) -> u64 {
        if self.width() == 64 {
            u64::MAX
        } else {
            (1 << self.width()) - 1
        }
    }

    /// The default NaN (`FPDefaultNaN`): positive, quiet, zero payload.
    pub const fn default_nan(self) -> u64 {
        self.exp_mask() | self.quiet_bit()
    }

    /// Signed infinity.
    pub const fn infinity(self, sign: bool) -> u64 {
        self.signed(sign, self.exp_mask())
    }

    /// Signed zero.
    pub const fn zero(self, sign: bool) -> u64 {
        self.signed(sign, 0)
    }

    /// Largest finite magnitude with the given sign.
    pub const fn max_normal(self, sign: bool) -> u64 {
        self.signed(
            sign,
            self.exp_mask() - (1 << self.frac_bits()) + self.frac_mask(),
        )
    }

    pub(crate) const fn signed(self, sign: bool, magnitude: u64) -> u64 {
        if sign {
            magnitude | self.sign_bit()
        } else {
            magnitude
        }
    }

    /// True if `bits` is a NaN (quiet or signalling) in IEEE interpretation.
    pub const fn is_nan(self, bits: u64) -> bool {
        bits & self.exp_mask() == self.exp_mask() && bits & self.frac_mask() != 0
    }
}

/// A rounding mode (`FPRounding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Round to nearest, ties to even (RN).
    TieEven,
    /// Round towards plus infinity (RP).
    PosInf,
    /// Round towards minus infinity (RM).
    NegInf,
    /// Round towards zero (RZ).
    Zero,
    /// Round to nearest, ties away from zero (FCVTA*, FRINTA).
    TieAway,
    /// Round to odd (FCVTXN).
    Odd,
}

impl Rounding {
    /// Decode FPCR.RMode (bits 23:22).
    pub const fn from_fpcr(fpcr: u32) -> Rounding {
        match (fpcr >> FPCR_RMODE_SHIFT) & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }
}

/// The floating-point context: FPCR controls and the cumulative FPSR flags.
///
/// Methods never panic for any input bits; bits above a format's width are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fp {
    /// FPCR: AHP, DN, FZ, RMode and FZ16 are honoured; other bits are ignored.
    pub fpcr: u32,
    /// FPSR: exception flags are ORed in, never cleared.
    pub fpsr: u32,
}

impl Fp {
    /// A context with the given FPCR and a clear FPSR.
    pub const fn new(fpcr: u32) -> Fp {
        Fp { fpcr, fpsr: 0 }
    }

    /// The rounding mode selected by FPCR.RMode.
    pub const fn rounding(&self) -> Rounding {
        Rounding::from_fpcr(self.fpcr)
    }

    pub(crate) const fn dn(&self) -> bool {
        self.fpcr & FPCR_DN != 0
    }

    pub(crate) const fn ahp(&self) -> bool {
        self.fpcr & FPCR_AHP != 0
    }

    /// Flush-to-zero for arithmetic in `fmt`: FZ16 for half precision, FZ otherwise.
    pub(crate) const fn fz(&self, fmt: Format) -> bool {
        match fmt {
            Format::Half => self.fpcr & FPCR_FZ16 != 0,
            _ => self.fpcr & FPCR_FZ != 0,
        }
    }

    pub(crate) fn raise(&mut self, flags: u32) {
        self.fpsr |= flags;
    }
}
