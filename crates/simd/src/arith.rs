//! Same-size element arithmetic: ADD/SUB/MUL, absolute difference, min/max, halving adds,
//! MLA/MLS/ABA, NEG/ABS, the bit-count unary group (CNT/CLZ/CLS/RBIT/REV) and UQADD/SQADD/
//! UQSUB/SQSUB.

use crate::lanes::{
    check, count, elem, int, map1, map2, mask, sat_signed, sat_unsigned, set, sext, Allow,
};
use crate::{Esize, Result};

/// Two-operand same-size operations without saturation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// ADD (`.1d` reserved).
    Add,
    /// SUB (`.1d` reserved).
    Sub,
    /// MUL (D reserved; the low half of the product).
    Mul,
    /// UABD: unsigned absolute difference.
    Uabd,
    /// SABD: signed absolute difference.
    Sabd,
    /// UMAX.
    Umax,
    /// UMIN.
    Umin,
    /// SMAX.
    Smax,
    /// SMIN.
    Smin,
    /// UHADD: `(n + m) >> 1` unsigned.
    Uhadd,
    /// SHADD: `(n + m) >> 1` signed.
    Shadd,
    /// URHADD: `(n + m + 1) >> 1` unsigned.
    Urhadd,
    /// SRHADD: `(n + m + 1) >> 1` signed.
    Srhadd,
    /// UHSUB: `(n - m) >> 1` unsigned.
    Uhsub,
    /// SHSUB: `(n - m) >> 1` signed.
    Shsub,
}

impl Binary {
    /// Every operation.
    pub const ALL: [Binary; 15] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Uabd,
        Binary::Sabd,
        Binary::Umax,
        Binary::Umin,
        Binary::Smax,
        Binary::Smin,
        Binary::Uhadd,
        Binary::Shadd,
        Binary::Urhadd,
        Binary::Srhadd,
        Binary::Uhsub,
        Binary::Shsub,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Uabd => "uabd",
            Binary::Sabd => "sabd",
            Binary::Umax => "umax",
            Binary::Umin => "umin",
            Binary::Smax => "smax",
            Binary::Smin => "smin",
            Binary::Uhadd => "uhadd",
            Binary::Shadd => "shadd",
            Binary::Urhadd => "urhadd",
            Binary::Srhadd => "srhadd",
            Binary::Uhsub => "uhsub",
            Binary::Shsub => "shsub",
        }
    }

    const fn signed(self) -> bool {
        matches!(
            self,
            Binary::Sabd
                | Binary::Smax
                | Binary::Smin
                | Binary::Shadd
                | Binary::Srhadd
                | Binary::Shsub
        )
    }
}

/// A same-size binary operation. ADD and SUB reserve only `.1d`; the others reserve D.
pub fn binary(op: Binary, es: Esize, q: bool, n: u128, m: u128) -> Result<u128> {
    let allow = if matches!(op, Binary::Add | Binary::Sub) {
        Allow::Not1D
    } else {
        Allow::NoD
    };
    check(op.mnemonic(), es, q, allow)?;
    let bits = es.bits();
    let signed = op.signed();
    Ok(map2(es, q, n, m, |a, b| {
        let (x, y) = if signed {
            (i128::from(sext(a, bits)), i128::from(sext(b, bits)))
        } else {
            (i128::from(a), i128::from(b))
        };
        let r = match op {
            Binary::Add => x + y,
            Binary::Sub => x - y,
            Binary::Mul => x * y,
            Binary::Uabd | Binary::Sabd => (x - y).abs(),
            Binary::Umax | Binary::Smax => x.max(y),
            Binary::Umin | Binary::Smin => x.min(y),
            Binary::Uhadd | Binary::Shadd => (x + y) >> 1,
            Binary::Urhadd | Binary::Srhadd => (x + y + 1) >> 1,
            Binary::Uhsub | Binary::Shsub => (x - y) >> 1,
        };
        r as u64
    }))
}

/// Operations that accumulate into the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Accumulate {
    /// MLA: `d + n * m`.
    Mla,
    /// MLS: `d - n * m`.
    Mls,
    /// UABA: `d + |n - m|` unsigned.
    Uaba,
    /// SABA: `d + |n - m|` signed.
    Saba,
}

impl Accumulate {
    /// Every operation.
    pub const ALL: [Accumulate; 4] = [
        Accumulate::Mla,
        Accumulate::Mls,
        Accumulate::Uaba,
        Accumulate::Saba,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Accumulate::Mla => "mla",
            Accumulate::Mls => "mls",
            Accumulate::Uaba => "uaba",
            Accumulate::Saba => "saba",
        }
    }
}

/// MLA/MLS/UABA/SABA (D reserved).
pub fn accumulate(op: Accumulate, es: Esize, q: bool, d: u128, n: u128, m: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::NoD)?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..count(es, q) {
        let acc = int(d, bits, i, false);
        let signed = op == Accumulate::Saba;
        let (x, y) = (int(n, bits, i, signed), int(m, bits, i, signed));
        let v = match op {
            Accumulate::Mla => acc + x * y,
            Accumulate::Mls => acc - x * y,
            Accumulate::Uaba | Accumulate::Saba => acc + (x - y).abs(),
        };
        set(&mut r, bits, i, v as u64);
    }
    Ok(r)
}

/// One-operand element operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    /// NEG (`.1d` reserved; the most negative value stays).
    Neg,
    /// ABS (`.1d` reserved; the most negative value stays).
    Abs,
    /// CNT: population count per byte (bytes only).
    Cnt,
    /// CLZ: leading zero bits (D reserved).
    Clz,
    /// CLS: leading bits equal to the sign bit, not counting it (D reserved).
    Cls,
    /// RBIT: reverse the bits of each byte (bytes only).
    Rbit,
    /// REV16: reverse the bytes in each halfword (bytes only).
    Rev16,
    /// REV32: reverse the B or H elements in each word.
    Rev32,
    /// REV64: reverse the B, H or S elements in each doubleword.
    Rev64,
}

impl Unary {
    /// Every operation.
    pub const ALL: [Unary; 9] = [
        Unary::Neg,
        Unary::Abs,
        Unary::Cnt,
        Unary::Clz,
        Unary::Cls,
        Unary::Rbit,
        Unary::Rev16,
        Unary::Rev32,
        Unary::Rev64,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Abs => "abs",
            Unary::Cnt => "cnt",
            Unary::Clz => "clz",
            Unary::Cls => "cls",
            Unary::Rbit => "rbit",
            Unary::Rev16 => "rev16",
            Unary::Rev32 => "rev32",
            Unary::Rev64 => "rev64",
        }
    }

    /// The arrangements the instruction accepts.
    fn allow(self) -> Allow {
        match self {
            Unary::Neg | Unary::Abs => Allow::Not1D,
            Unary::Clz | Unary::Cls => Allow::NoD,
            Unary::Cnt | Unary::Rbit | Unary::Rev16 => Allow::BOnly,
            Unary::Rev32 => Allow::Below(Esize::S),
            Unary::Rev64 => Allow::Below(Esize::D),
        }
    }
}

/// Reverse the `es` elements within each `container`-bit block (`REV16/32/64`).
fn reverse(es: Esize, q: bool, n: u128, container: u32) -> u128 {
    let bits = es.bits();
    let per = container / bits;
    let mut r = 0;
    for i in 0..count(es, q) {
        let src = (i / per) * per + (per - 1 - i % per);
        set(&mut r, bits, i, elem(n, bits, src));
    }
    r
}

/// A one-operand element operation.
pub fn unary(op: Unary, es: Esize, q: bool, n: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, op.allow())?;
    let bits = es.bits();
    Ok(match op {
        Unary::Rev16 => reverse(es, q, n, 16),
        Unary::Rev32 => reverse(es, q, n, 32),
        Unary::Rev64 => reverse(es, q, n, 64),
        _ => map1(es, q, n, |a| {
            let s = sext(a, bits);
            match op {
                Unary::Neg => s.wrapping_neg() as u64,
                Unary::Abs => s.wrapping_abs() as u64,
                Unary::Cnt => u64::from(a.count_ones()),
                Unary::Clz => u64::from(a.leading_zeros() - (64 - bits)),
                // CountLeadingSignBits(x) = CountLeadingZeroBits(x<N-1:1> EOR x<N-2:0>).
                Unary::Cls => u64::from((s ^ (s >> 63)).leading_zeros() - (64 - bits) - 1),
                _ => u64::from((a as u8).reverse_bits()),
            }
        }),
    })
}

/// The saturating add/subtract group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Saturating {
    /// UQADD.
    Uqadd,
    /// SQADD.
    Sqadd,
    /// UQSUB.
    Uqsub,
    /// SQSUB.
    Sqsub,
}

impl Saturating {
    /// Every operation.
    pub const ALL: [Saturating; 4] = [
        Saturating::Uqadd,
        Saturating::Sqadd,
        Saturating::Uqsub,
        Saturating::Sqsub,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Saturating::Uqadd => "uqadd",
            Saturating::Sqadd => "sqadd",
            Saturating::Uqsub => "uqsub",
            Saturating::Sqsub => "sqsub",
        }
    }

    fn apply(self, bits: u32, a: u64, b: u64, qc: &mut bool) -> u64 {
        let signed = matches!(self, Saturating::Sqadd | Saturating::Sqsub);
        let (x, y) = if signed {
            (i128::from(sext(a, bits)), i128::from(sext(b, bits)))
        } else {
            (i128::from(a), i128::from(b))
        };
        let v = match self {
            Saturating::Uqadd | Saturating::Sqadd => x + y,
            Saturating::Uqsub | Saturating::Sqsub => x - y,
        };
        let (r, sat) = if signed {
            sat_signed(v, bits)
        } else {
            sat_unsigned(v, bits)
        };
        *qc |= sat;
        r
    }
}

/// UQADD/SQADD/UQSUB/SQSUB (vector; `.1d` reserved). Sets `*qc` if any element saturated.
pub fn saturating(
    op: Saturating,
    es: Esize,
    q: bool,
    n: u128,
    m: u128,
    qc: &mut bool,
) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    Ok(map2(es, q, n, m, |a, b| op.apply(es.bits(), a, b, qc)))
}

/// The scalar forms (`SQADD Bd, Bn, Bm` ...): element 0 only, the rest of the register zeroed.
/// Every size is allowed.
pub fn saturating_scalar(op: Saturating, es: Esize, n: u128, m: u128, qc: &mut bool) -> u128 {
    let bits = es.bits();
    let r = op.apply(bits, elem(n, bits, 0), elem(m, bits, 0), qc);
    u128::from(r & mask(bits))
}
