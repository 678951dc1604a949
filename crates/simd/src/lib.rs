//! AdvSIMD integer semantics (Armv8.0-A): the data-processing half of the vector instructions.
//!
//! This crate knows nothing about decoding or CPU state. A vector register is a `u128` whose
//! element `i` of `esize` bits occupies bits `[i*esize +: esize]`, exactly as `Elem[]` in the
//! Arm ARM. Each function takes the register values it reads (including the destination when the
//! instruction reads it: MLA, BSL, INS, SRA, SLI, TBX, the "2" narrowing forms...) plus the
//! element size, the Q bit (64- or 128-bit datasize) and any immediate, and returns the *whole*
//! new value of the destination register: for 64-bit datasizes the upper half is zero, as
//! `V[d] = result` does in the pseudocode.
//!
//! Element-size/Q combinations and immediates that the architecture marks reserved return
//! [`SimdError`], so the decoder can raise UNDEFINED. Saturating operations OR their sticky
//! saturation flag into a `qc: &mut bool` (FPSR.QC is cumulative: the caller sets bit 27 when it
//! comes back true; the functions never clear it).
//!
//! The narrowing and widening instructions take `part` instead of `q`: it is the Q bit, which
//! for them selects the "2" form (high half of the narrow operand or result).
//!
//! # Instruction to function
//! | instructions | function |
//! |---|---|
//! | DUP (element, general), INS (element, general), UMOV, SMOV | [`dup_element`], [`dup_general`], [`ins_element`], [`ins_general`], [`umov`], [`smov`] |
//! | MOVI, MVNI, ORR/BIC (vector, immediate), FMOV (vector, immediate) | [`modified_imm`] (raw `Q`, `op`, `cmode`, `imm8`), [`expand_imm`] |
//! | AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF; NOT | [`logic`], [`not`] |
//! | CMEQ/CMGE/CMGT/CMHI/CMHS/CMTST; CMEQ/CMGE/CMGT/CMLE/CMLT #0 | [`compare`], [`compare_zero`] |
//! | ADD, SUB, MUL, UABD/SABD, UMAX/UMIN/SMAX/SMIN, UHADD/SHADD/URHADD/SRHADD/UHSUB/SHSUB | [`binary`] |
//! | MLA, MLS, UABA, SABA | [`accumulate`] |
//! | NEG, ABS, CNT, CLZ, CLS, RBIT, REV16/REV32/REV64 | [`unary`] |
//! | UQADD/SQADD/UQSUB/SQSUB (vector, scalar) | [`saturating`], [`saturating_scalar`] |
//! | SQABS/SQNEG, SUQADD/USQADD | [`sat_unary`], [`sat_accumulate`] |
//! | ADDP/UMAXP/UMINP/SMAXP/SMINP (vector), ADDP (scalar) | [`pairwise`], [`addp_scalar`] |
//! | ADDV/UMAXV/UMINV/SMAXV/SMINV/UADDLV/SADDLV | [`across`] |
//! | UADDLP/SADDLP/UADALP/SADALP | [`add_long_pairwise`] |
//! | SHL; USHR/SSHR/URSHR/SRSHR/USRA/SSRA/URSRA/SRSRA; SLI; SRI | [`shift_left`], [`shift_right`], [`sli`], [`sri`] |
//! | USHLL/SSHLL (UXTL/SXTL), SHRN/RSHRN (+2) | [`shift_left_long`], [`shift_right_narrow`] |
//! | USHL/SSHL/URSHL/SRSHL | [`shift_reg`] |
//! | SQSHL/UQSHL/SQSHLU (immediate), SQSHL/UQSHL/SQRSHL/UQRSHL (register) | [`sat_shift_left`], [`sat_shift_reg`] |
//! | SQSHRN/SQRSHRN/UQSHRN/UQRSHRN/SQSHRUN/SQRSHRUN (+2) | [`sat_shift_right_narrow`] |
//! | XTN/SQXTN/UQXTN/SQXTUN (+2) | [`narrow`] |
//! | UADDL..SSUBW, UMULL/SMULL, UMLAL..SMLSL, UABDL/SABDL/UABAL/SABAL (+2) | [`long`] |
//! | ADDHN/RADDHN/SUBHN/RSUBHN (+2) | [`high_narrow`] |
//! | SQDMULH/SQRDMULH; SQDMULL/SQDMLAL/SQDMLSL (+2) | [`sqdmulh`], [`doubling_long`] |
//! | PMUL, PMULL/PMULL2 (8-bit and the 64-bit FEAT_PMULL form) | [`pmul`], [`pmull`] |
//! | EXT, ZIP1/ZIP2/UZP1/UZP2/TRN1/TRN2, TBL/TBX | [`ext`], [`permute`], [`tbl`] |
//! | scalar forms; by-element forms | [`scalar`]; [`by_element`] |
//!
//! Everything here is checked against qemu-aarch64 by `tests/qemu_oracle.rs` (differential,
//! fixed seed) and its reserved encodings against the GNU assembler.

#![forbid(unsafe_code)]

mod arith;
mod lanes;
mod logic;
mod mov;
mod perm;
mod poly;
mod reduce;
mod saturate;
mod shift;
mod widen;

pub use arith::{
    accumulate, binary, saturating, saturating_scalar, unary, Accumulate, Binary, Saturating, Unary,
};
pub use logic::{compare, compare_zero, logic, not, Compare, CompareZero, Logic};
pub use mov::{
    dup_element, dup_general, expand_imm, ins_element, ins_general, modified_imm, smov, umov,
};
pub use perm::{ext, permute, tbl, Permute};
pub use poly::{pmul, pmull};
pub use reduce::{across, add_long_pairwise, addp_scalar, pairwise, Across, Pairwise};
pub use saturate::{
    doubling_long, sat_accumulate, sat_shift_left, sat_shift_reg, sat_shift_right_narrow,
    sat_unary, sqdmulh, DoublingLong, SatShiftLeft, SatShiftNarrow, SatShiftReg, SatUnary,
};
pub use shift::{
    shift_left, shift_left_long, shift_reg, shift_right, shift_right_narrow, sli, sri, ShiftReg,
    ShiftRight,
};
pub use widen::{high_narrow, long, narrow, HighNarrow, Long, Narrow};

/// FPSR.QC, the cumulative saturation bit, for callers folding `qc` into FPSR.
pub const FPSR_QC: u32 = 1 << 27;

/// Vector element size: the instruction's `size` field (or the lowest set bit of `imm5`/`immh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Esize {
    /// 8-bit elements (`size == 0`).
    B,
    /// 16-bit elements (`size == 1`).
    H,
    /// 32-bit elements (`size == 2`).
    S,
    /// 64-bit elements (`size == 3`).
    D,
}

impl Esize {
    /// All sizes, smallest first.
    pub const ALL: [Esize; 4] = [Esize::B, Esize::H, Esize::S, Esize::D];

    /// The element size for a two-bit `size` field; `None` above 3.
    pub const fn from_size(size: u32) -> Option<Esize> {
        match size {
            0 => Some(Esize::B),
            1 => Some(Esize::H),
            2 => Some(Esize::S),
            3 => Some(Esize::D),
            _ => None,
        }
    }

    /// The `size` field value (log2 of the byte count).
    pub const fn size(self) -> u32 {
        match self {
            Esize::B => 0,
            Esize::H => 1,
            Esize::S => 2,
            Esize::D => 3,
        }
    }

    /// Element width in bits.
    pub const fn bits(self) -> u32 {
        8 << self.size()
    }

    /// The size twice as wide, if any.
    pub const fn wider(self) -> Option<Esize> {
        Esize::from_size(self.size() + 1)
    }
}

/// A reserved encoding: the decoder must raise UNDEFINED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimdError {
    /// The element size and Q bit form a reserved arrangement (for example `.1d` for ADD).
    #[error("{op}: {esize}-bit elements with Q={q} are a reserved arrangement")]
    Arrangement {
        /// Instruction mnemonic.
        op: &'static str,
        /// Element size in bits.
        esize: u32,
        /// The Q bit.
        q: bool,
    },
    /// An index, shift or other immediate outside the encodable range.
    #[error("{op}: immediate {value} is out of range")]
    Immediate {
        /// Instruction mnemonic.
        op: &'static str,
        /// The offending value.
        value: u32,
    },
}

/// Keep only element 0 of `v` (zeroing the rest of the register).
///
/// The scalar forms of the vector instructions (`ADD Dd, Dn, Dm`, `CMGE Dd, Dn, #0`,
/// `USHR Dd, Dn, #s`, `SQADD Bd, Bn, Bm`, `SQXTN Bd, Hn`, `SQDMULH Hd, Hn, Hm`...) are computed
/// as `scalar(es, vector_op(es, true, scalar(es, n), scalar(es, m)))`: with every other lane
/// zero no lane but element 0 can saturate, and the final `scalar` zeroes what the vector
/// operation left in the other lanes (for narrowing forms, pass the narrow size to the outer
/// call and the wide size to the inner ones). The decoder still enforces which sizes each
/// scalar encoding allows (D only for ADD/SUB/CM*/shift-by-immediate/USHL...).
pub fn scalar(es: Esize, v: u128) -> u128 {
    v & u128::from(lanes::mask(es.bits()))
}

/// The by-element operand: element `index` of `m` broadcast to all 128 bits.
///
/// By-element instructions (`MUL Vd.4S, Vn.4S, Vm.S[i]`, `UMLAL2`, `SQDMULH` ... by element)
/// are the vector operation with `Vm` replaced by `by_element(es, m, index)`. The decoder
/// forms `index` from H:L:M and restricts `Vm` to V0-V15 for H elements.
pub fn by_element(es: Esize, m: u128, index: u32) -> Result<u128> {
    mov::dup_element(es, true, m, index)
}

/// Result of an operation that may be a reserved encoding.
pub type Result<T> = core::result::Result<T, SimdError>;
