//! The rest of the saturating integer group: SQABS/SQNEG, SUQADD/USQADD, SQSHL/UQSHL/SQSHLU
//! (immediate), SQSHL/UQSHL/SQRSHL/UQRSHL (register), SQSHRN/UQSHRN/SQRSHRN/UQRSHRN/SQSHRUN/
//! SQRSHRUN, and the doubling multiplies SQDMULH/SQRDMULH/SQDMULL/SQDMLAL/SQDMLSL. All set
//! `*qc` when any element saturates.

use crate::lanes::{
    check, check_imm, count, int, map1, map2, put_half, sat_signed, sat_unsigned, set, sext, Allow,
};
use crate::{Esize, Result, SimdError};

/// Saturate `x` to `bits`, signed or unsigned, folding the flag into `qc`.
fn sat(x: i128, bits: u32, signed: bool, qc: &mut bool) -> u64 {
    let (v, s) = if signed {
        sat_signed(x, bits)
    } else {
        sat_unsigned(x, bits)
    };
    *qc |= s;
    v
}

/// `x << shift` on unbounded integers for `|x| < 2^64`, with any shift of 64 or more standing
/// in for "too large for every element size" (only the saturated result matters then).
fn shl_unbounded(x: i128, shift: u32) -> i128 {
    if shift < 64 {
        x << shift
    } else if x == 0 {
        0
    } else if x > 0 {
        i128::MAX >> 1
    } else {
        i128::MIN >> 1
    }
}

/// `(x + round_const) >> shift` as in the Arm pseudocode, clamped so that i128 suffices.
fn shr_unbounded(x: i128, shift: u32, round: bool) -> i128 {
    let s = shift.min(65);
    let rc = if round && s > 0 { 1i128 << (s - 1) } else { 0 };
    (x + rc) >> s
}

/// Saturating one-operand operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SatUnary {
    /// SQABS.
    Sqabs,
    /// SQNEG.
    Sqneg,
}

impl SatUnary {
    /// Every operation.
    pub const ALL: [SatUnary; 2] = [SatUnary::Sqabs, SatUnary::Sqneg];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            SatUnary::Sqabs => "sqabs",
            SatUnary::Sqneg => "sqneg",
        }
    }
}

/// SQABS/SQNEG (vector; `.1d` reserved).
pub fn sat_unary(op: SatUnary, es: Esize, q: bool, n: u128, qc: &mut bool) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    Ok(map1(es, q, n, |a| {
        let x = i128::from(sext(a, bits));
        let v = match op {
            SatUnary::Sqabs => x.abs(),
            SatUnary::Sqneg => -x,
        };
        sat(v, bits, true, qc)
    }))
}

/// SUQADD (`unsigned == false`: signed `Vd` plus unsigned `Vn`, signed saturation) and USQADD
/// (unsigned `Vd` plus signed `Vn`, unsigned saturation). `.1d` reserved.
pub fn sat_accumulate(
    unsigned: bool,
    es: Esize,
    q: bool,
    d: u128,
    n: u128,
    qc: &mut bool,
) -> Result<u128> {
    check(
        if unsigned { "usqadd" } else { "suqadd" },
        es,
        q,
        Allow::Not1D,
    )?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..count(es, q) {
        let v = int(d, bits, i, !unsigned) + int(n, bits, i, unsigned);
        set(&mut r, bits, i, sat(v, bits, !unsigned, qc));
    }
    Ok(r)
}

/// Saturating left shifts by immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SatShiftLeft {
    /// SQSHL: signed to signed.
    Sqshl,
    /// UQSHL: unsigned to unsigned.
    Uqshl,
    /// SQSHLU: signed to unsigned.
    Sqshlu,
}

impl SatShiftLeft {
    /// Every operation.
    pub const ALL: [SatShiftLeft; 3] = [
        SatShiftLeft::Sqshl,
        SatShiftLeft::Uqshl,
        SatShiftLeft::Sqshlu,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            SatShiftLeft::Sqshl => "sqshl",
            SatShiftLeft::Uqshl => "uqshl",
            SatShiftLeft::Sqshlu => "sqshlu",
        }
    }
}

/// SQSHL/UQSHL/SQSHLU (immediate): `shift` in `0..esize`; `.1d` reserved.
pub fn sat_shift_left(
    op: SatShiftLeft,
    es: Esize,
    q: bool,
    n: u128,
    shift: u32,
    qc: &mut bool,
) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    check_imm(op.mnemonic(), shift, 0, es.bits() - 1)?;
    let bits = es.bits();
    let src_signed = op != SatShiftLeft::Uqshl;
    let dst_signed = op == SatShiftLeft::Sqshl;
    let mut r = 0;
    for i in 0..count(es, q) {
        let v = int(n, bits, i, src_signed) << shift;
        set(&mut r, bits, i, sat(v, bits, dst_signed, qc));
    }
    Ok(r)
}

/// Saturating shifts by register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SatShiftReg {
    /// SQSHL (register).
    Sqshl,
    /// UQSHL (register).
    Uqshl,
    /// SQRSHL: rounding on right shifts.
    Sqrshl,
    /// UQRSHL: rounding on right shifts.
    Uqrshl,
}

impl SatShiftReg {
    /// Every operation.
    pub const ALL: [SatShiftReg; 4] = [
        SatShiftReg::Sqshl,
        SatShiftReg::Uqshl,
        SatShiftReg::Sqrshl,
        SatShiftReg::Uqrshl,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            SatShiftReg::Sqshl => "sqshl",
            SatShiftReg::Uqshl => "uqshl",
            SatShiftReg::Sqrshl => "sqrshl",
            SatShiftReg::Uqrshl => "uqrshl",
        }
    }
}

/// SQSHL/UQSHL/SQRSHL/UQRSHL (register): shift by `SInt(Vm element<7:0>)` and saturate.
/// `.1d` reserved.
pub fn sat_shift_reg(
    op: SatShiftReg,
    es: Esize,
    q: bool,
    n: u128,
    m: u128,
    qc: &mut bool,
) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    let signed = matches!(op, SatShiftReg::Sqshl | SatShiftReg::Sqrshl);
    let round = matches!(op, SatShiftReg::Sqrshl | SatShiftReg::Uqrshl);
    Ok(map2(es, q, n, m, |a, b| {
        let shift = sext(b & 0xFF, 8);
        let x = if signed {
            i128::from(sext(a, bits))
        } else {
            i128::from(a)
        };
        let v = if shift >= 0 {
            shl_unbounded(x, shift.unsigned_abs() as u32)
        } else {
            shr_unbounded(x, shift.unsigned_abs() as u32, round)
        };
        sat(v, bits, signed, qc)
    }))
}

/// Saturating narrowing right shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SatShiftNarrow {
    /// SQSHRN: signed to signed.
    Sqshrn,
    /// SQRSHRN: rounding.
    Sqrshrn,
    /// UQSHRN: unsigned to unsigned.
    Uqshrn,
    /// UQRSHRN: rounding.
    Uqrshrn,
    /// SQSHRUN: signed to unsigned.
    Sqshrun,
    /// SQRSHRUN: rounding.
    Sqrshrun,
}

impl SatShiftNarrow {
    /// Every operation.
    pub const ALL: [SatShiftNarrow; 6] = [
        SatShiftNarrow::Sqshrn,
        SatShiftNarrow::Sqrshrn,
        SatShiftNarrow::Uqshrn,
        SatShiftNarrow::Uqrshrn,
        SatShiftNarrow::Sqshrun,
        SatShiftNarrow::Sqrshrun,
    ];

    /// The mnemonic (without the "2").
    pub const fn mnemonic(self) -> &'static str {
        match self {
            SatShiftNarrow::Sqshrn => "sqshrn",
            SatShiftNarrow::Sqrshrn => "sqrshrn",
            SatShiftNarrow::Uqshrn => "uqshrn",
            SatShiftNarrow::Uqrshrn => "uqrshrn",
            SatShiftNarrow::Sqshrun => "sqshrun",
            SatShiftNarrow::Sqrshrun => "sqrshrun",
        }
    }
}

/// SQSHRN ... SQRSHRUN (and the "2" forms with `part`): shift each double-width element right
/// by `1..=esize`, saturate to `es` (D reserved).
pub fn sat_shift_right_narrow(
    op: SatShiftNarrow,
    es: Esize,
    part: bool,
    d: u128,
    n: u128,
    shift: u32,
    qc: &mut bool,
) -> Result<u128> {
    check(op.mnemonic(), es, part, Allow::NoD)?;
    check_imm(op.mnemonic(), shift, 1, es.bits())?;
    let bits = es.bits();
    let (src_signed, dst_signed) = match op {
        SatShiftNarrow::Sqshrn | SatShiftNarrow::Sqrshrn => (true, true),
        SatShiftNarrow::Uqshrn | SatShiftNarrow::Uqrshrn => (false, false),
        SatShiftNarrow::Sqshrun | SatShiftNarrow::Sqrshrun => (true, false),
    };
    let round = matches!(
        op,
        SatShiftNarrow::Sqrshrn | SatShiftNarrow::Uqrshrn | SatShiftNarrow::Sqrshrun
    );
    let mut r = 0;
    for i in 0..64 / bits {
        let v = shr_unbounded(int(n, 2 * bits, i, src_signed), shift, round);
        set(&mut r, bits, i, sat(v, bits, dst_signed, qc));
    }
    Ok(put_half(d, part, r))
}

fn check_hs(op: &'static str, es: Esize, q: bool) -> Result<()> {
    if matches!(es, Esize::H | Esize::S) {
        Ok(())
    } else {
        Err(SimdError::Arrangement {
            op,
            esize: es.bits(),
            q,
        })
    }
}

/// SQDMULH (`round == false`) and SQRDMULH: the high half of `2 * n * m` (plus
/// `1 << (esize - 1)` when rounding), saturated. H and S elements only.
pub fn sqdmulh(round: bool, es: Esize, q: bool, n: u128, m: u128, qc: &mut bool) -> Result<u128> {
    check_hs(if round { "sqrdmulh" } else { "sqdmulh" }, es, q)?;
    let bits = es.bits();
    Ok(map2(es, q, n, m, |a, b| {
        let p = 2 * i128::from(sext(a, bits)) * i128::from(sext(b, bits));
        let rc = if round { 1i128 << (bits - 1) } else { 0 };
        sat((p + rc) >> bits, bits, true, qc)
    }))
}

/// The saturating doubling long multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DoublingLong {
    /// SQDMULL: `2 * n * m`.
    Sqdmull,
    /// SQDMLAL: `d + 2 * n * m`.
    Sqdmlal,
    /// SQDMLSL: `d - 2 * n * m`.
    Sqdmlsl,
}

impl DoublingLong {
    /// Every operation.
    pub const ALL: [DoublingLong; 3] = [
        DoublingLong::Sqdmull,
        DoublingLong::Sqdmlal,
        DoublingLong::Sqdmlsl,
    ];

    /// The mnemonic (without the "2").
    pub const fn mnemonic(self) -> &'static str {
        match self {
            DoublingLong::Sqdmull => "sqdmull",
            DoublingLong::Sqdmlal => "sqdmlal",
            DoublingLong::Sqdmlsl => "sqdmlsl",
        }
    }
}

/// SQDMULL/SQDMLAL/SQDMLSL (and "2" with `part`): the doubled product saturates to twice the
/// element size first, then the accumulation saturates again. `es` is the narrow size (H or S).
pub fn doubling_long(
    op: DoublingLong,
    es: Esize,
    part: bool,
    d: u128,
    n: u128,
    m: u128,
    qc: &mut bool,
) -> Result<u128> {
    check_hs(op.mnemonic(), es, part)?;
    let bits = es.bits();
    let (n, m) = (crate::lanes::half(n, part), crate::lanes::half(m, part));
    let mut r = 0;
    for i in 0..64 / bits {
        let p = 2 * int(n, bits, i, true) * int(m, bits, i, true);
        let p = i128::from(sext(sat(p, 2 * bits, true, qc), 2 * bits));
        let acc = int(d, 2 * bits, i, true);
        let v = match op {
            DoublingLong::Sqdmull => p,
            DoublingLong::Sqdmlal => acc + p,
            DoublingLong::Sqdmlsl => acc - p,
        };
        set(&mut r, 2 * bits, i, sat(v, 2 * bits, true, qc));
    }
    Ok(r)
}
