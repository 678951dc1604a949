//! Shifts: SHL, USHR/SSHR/URSHR/SRSHR/USRA/SSRA/URSRA/SRSRA, SLI/SRI, USHLL/SSHLL (UXTL/SXTL),
//! SHRN/RSHRN, and USHL/SSHL/URSHL/SRSHL by register.

use crate::lanes::{
    check, check_imm, count, half, int, map1, map2, mask, put_half, set, sext, Allow,
};
use crate::{Esize, Result};

/// SHL (immediate): `shift` in `0..esize`; `.1d` reserved.
pub fn shift_left(es: Esize, q: bool, n: u128, shift: u32) -> Result<u128> {
    check("shl", es, q, Allow::Not1D)?;
    check_imm("shl", shift, 0, es.bits() - 1)?;
    Ok(map1(es, q, n, |a| a << shift))
}

/// Right shifts by immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftRight {
    /// USHR.
    Ushr,
    /// SSHR.
    Sshr,
    /// URSHR: rounding.
    Urshr,
    /// SRSHR: rounding.
    Srshr,
    /// USRA: shift and accumulate.
    Usra,
    /// SSRA: shift and accumulate.
    Ssra,
    /// URSRA: rounding shift and accumulate.
    Ursra,
    /// SRSRA: rounding shift and accumulate.
    Srsra,
}

impl ShiftRight {
    /// Every operation.
    pub const ALL: [ShiftRight; 8] = [
        ShiftRight::Ushr,
        ShiftRight::Sshr,
        ShiftRight::Urshr,
        ShiftRight::Srshr,
        ShiftRight::Usra,
        ShiftRight::Ssra,
        ShiftRight::Ursra,
        ShiftRight::Srsra,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            ShiftRight::Ushr => "ushr",
            ShiftRight::Sshr => "sshr",
            ShiftRight::Urshr => "urshr",
            ShiftRight::Srshr => "srshr",
            ShiftRight::Usra => "usra",
            ShiftRight::Ssra => "ssra",
            ShiftRight::Ursra => "ursra",
            ShiftRight::Srsra => "srsra",
        }
    }

    const fn signed(self) -> bool {
        matches!(
            self,
            ShiftRight::Sshr | ShiftRight::Srshr | ShiftRight::Ssra | ShiftRight::Srsra
        )
    }

    const fn round(self) -> bool {
        matches!(
            self,
            ShiftRight::Urshr | ShiftRight::Srshr | ShiftRight::Ursra | ShiftRight::Srsra
        )
    }

    const fn accumulate(self) -> bool {
        matches!(
            self,
            ShiftRight::Usra | ShiftRight::Ssra | ShiftRight::Ursra | ShiftRight::Srsra
        )
    }
}

/// `(x + round_const) >> shift` on unbounded integers, `shift` in `0..=128`.
fn shr_round(x: i128, shift: u32, round: bool) -> i128 {
    // For |x| < 2^64 every shift above 65 gives the same result as 65 (0 or -1, or 0 with
    // rounding), so clamping keeps the arithmetic inside i128.
    let s = shift.min(65);
    let rc = if round && s > 0 { 1i128 << (s - 1) } else { 0 };
    (x + rc) >> s
}

/// A right shift by immediate, `shift` in `1..=esize`; `d` is the old destination, read by the
/// accumulating forms. `.1d` reserved.
pub fn shift_right(
    op: ShiftRight,
    es: Esize,
    q: bool,
    d: u128,
    n: u128,
    shift: u32,
) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    check_imm(op.mnemonic(), shift, 1, es.bits())?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..count(es, q) {
        let v = shr_round(int(n, bits, i, op.signed()), shift, op.round());
        let acc = if op.accumulate() {
            int(d, bits, i, false)
        } else {
            0
        };
        set(&mut r, bits, i, (v + acc) as u64);
    }
    Ok(r)
}

/// SLI: shift left `0..esize` and insert, keeping the low `shift` bits of each `Vd` element.
pub fn sli(es: Esize, q: bool, d: u128, n: u128, shift: u32) -> Result<u128> {
    check("sli", es, q, Allow::Not1D)?;
    check_imm("sli", shift, 0, es.bits() - 1)?;
    let keep = mask(shift);
    Ok(map2(es, q, d, n, |old, a| (old & keep) | (a << shift)))
}

/// SRI: shift right `1..=esize` and insert, keeping the high `shift` bits of each `Vd`
/// element (all of it when `shift == esize`).
pub fn sri(es: Esize, q: bool, d: u128, n: u128, shift: u32) -> Result<u128> {
    check("sri", es, q, Allow::Not1D)?;
    check_imm("sri", shift, 1, es.bits())?;
    let bits = es.bits();
    let ins = if shift >= bits { 0 } else { mask(bits - shift) };
    Ok(map2(es, q, d, n, |old, a| {
        let shifted = if shift >= 64 { 0 } else { a >> shift };
        (old & !ins) | shifted
    }))
}

/// USHLL/SSHLL (UXTL/SXTL when `shift == 0`): widen the `es` elements of the low half (or the
/// high half for the "2" forms, `part`) and shift left `0..esize`. D reserved.
pub fn shift_left_long(signed: bool, es: Esize, part: bool, n: u128, shift: u32) -> Result<u128> {
    let name = if signed { "sshll" } else { "ushll" };
    check(name, es, part, Allow::NoD)?;
    check_imm(name, shift, 0, es.bits() - 1)?;
    let bits = es.bits();
    let src = half(n, part);
    let mut r = 0;
    for i in 0..64 / bits {
        set(
            &mut r,
            2 * bits,
            i,
            (int(src, bits, i, signed) << shift) as u64,
        );
    }
    Ok(r)
}

/// SHRN/RSHRN (and the "2" forms with `part`): shift each double-width element of `Vn` right
/// by `1..=esize` and narrow to `es` (D reserved); `d` supplies the kept low half for part 1.
pub fn shift_right_narrow(
    round: bool,
    es: Esize,
    part: bool,
    d: u128,
    n: u128,
    shift: u32,
) -> Result<u128> {
    let name = if round { "rshrn" } else { "shrn" };
    check(name, es, part, Allow::NoD)?;
    check_imm(name, shift, 1, es.bits())?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..64 / bits {
        let v = shr_round(int(n, 2 * bits, i, false), shift, round);
        set(&mut r, bits, i, v as u64);
    }
    Ok(put_half(d, part, r))
}

/// Shifts by a signed per-element register amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftReg {
    /// USHL.
    Ushl,
    /// SSHL.
    Sshl,
    /// URSHL: rounding on right shifts.
    Urshl,
    /// SRSHL: rounding on right shifts.
    Srshl,
}

impl ShiftReg {
    /// Every operation.
    pub const ALL: [ShiftReg; 4] = [
        ShiftReg::Ushl,
        ShiftReg::Sshl,
        ShiftReg::Urshl,
        ShiftReg::Srshl,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            ShiftReg::Ushl => "ushl",
            ShiftReg::Sshl => "sshl",
            ShiftReg::Urshl => "urshl",
            ShiftReg::Srshl => "srshl",
        }
    }
}

/// USHL/SSHL/URSHL/SRSHL: each element of `Vn` shifted by `SInt(Vm element<7:0>)`, left when
/// positive, right (arithmetic for the signed forms) when negative. `.1d` reserved.
pub fn shift_reg(op: ShiftReg, es: Esize, q: bool, n: u128, m: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    let signed = matches!(op, ShiftReg::Sshl | ShiftReg::Srshl);
    let round = matches!(op, ShiftReg::Urshl | ShiftReg::Srshl);
    Ok(map2(es, q, n, m, |a, b| {
        let shift = sext(b & 0xFF, 8);
        let x = if signed {
            i128::from(sext(a, bits))
        } else {
            i128::from(a)
        };
        let v = if shift >= 0 {
            // Bits shifted beyond the element are discarded; 64 or more leaves nothing.
            if shift >= 64 {
                0
            } else {
                x << shift
            }
        } else {
            shr_round(x, shift.unsigned_abs() as u32, round)
        };
        v as u64
    }))
}
