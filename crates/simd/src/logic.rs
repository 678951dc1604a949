//! Bitwise operations (AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF, NOT) and integer compares.

use crate::lanes::{check, low, map1, map2, sext, Allow};
use crate::{Esize, Result};

/// The three-register logical instructions (element size is irrelevant: bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Logic {
    /// `n & m`.
    And,
    /// `n & !m`.
    Bic,
    /// `n | m`.
    Orr,
    /// `n | !m`.
    Orn,
    /// `n ^ m`.
    Eor,
    /// Bitwise select: each bit of the old `Vd` picks `Vn` (1) or `Vm` (0).
    Bsl,
    /// Insert `Vn` bits where `Vm` is 1, keep `Vd` elsewhere.
    Bit,
    /// Insert `Vn` bits where `Vm` is 0, keep `Vd` elsewhere.
    Bif,
}

impl Logic {
    /// Every operation, for table-driven callers and tests.
    pub const ALL: [Logic; 8] = [
        Logic::And,
        Logic::Bic,
        Logic::Orr,
        Logic::Orn,
        Logic::Eor,
        Logic::Bsl,
        Logic::Bit,
        Logic::Bif,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Logic::And => "and",
            Logic::Bic => "bic",
            Logic::Orr => "orr",
            Logic::Orn => "orn",
            Logic::Eor => "eor",
            Logic::Bsl => "bsl",
            Logic::Bit => "bit",
            Logic::Bif => "bif",
        }
    }
}

/// A logical operation; `d` is the old destination (read by BSL, BIT and BIF only). No
/// arrangement is reserved.
pub fn logic(op: Logic, q: bool, d: u128, n: u128, m: u128) -> u128 {
    // BSL: operand1 = Vm, operand2 = Vn, operand3 = Vd; BIT: operand3 = Vm, BIF: NOT(Vm);
    // result = operand1 EOR ((operand1 EOR operand2) AND operand3).
    let r = match op {
        Logic::And => n & m,
        Logic::Bic => n & !m,
        Logic::Orr => n | m,
        Logic::Orn => n | !m,
        Logic::Eor => n ^ m,
        Logic::Bsl => m ^ ((m ^ n) & d),
        Logic::Bit => d ^ ((d ^ n) & m),
        Logic::Bif => d ^ ((d ^ n) & !m),
    };
    if q {
        r
    } else {
        low(r)
    }
}

/// NOT (MVN): bitwise inversion.
pub fn not(q: bool, n: u128) -> u128 {
    if q {
        !n
    } else {
        low(!n)
    }
}

/// Compares between two registers: all-ones element when true, zero when false.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compare {
    /// CMEQ: equal.
    Eq,
    /// CMGE: signed greater or equal.
    Ge,
    /// CMGT: signed greater.
    Gt,
    /// CMHI: unsigned higher.
    Hi,
    /// CMHS: unsigned higher or same.
    Hs,
    /// CMTST: `(n & m) != 0`.
    Tst,
}

impl Compare {
    /// Every operation.
    pub const ALL: [Compare; 6] = [
        Compare::Eq,
        Compare::Ge,
        Compare::Gt,
        Compare::Hi,
        Compare::Hs,
        Compare::Tst,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Compare::Eq => "cmeq",
            Compare::Ge => "cmge",
            Compare::Gt => "cmgt",
            Compare::Hi => "cmhi",
            Compare::Hs => "cmhs",
            Compare::Tst => "cmtst",
        }
    }
}

fn all_ones(t: bool) -> u64 {
    if t {
        u64::MAX
    } else {
        0
    }
}

/// CMEQ/CMGE/CMGT/CMHI/CMHS/CMTST (register). `.1d` is reserved.
pub fn compare(op: Compare, es: Esize, q: bool, n: u128, m: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    Ok(map2(es, q, n, m, |a, b| {
        let (sa, sb) = (sext(a, bits), sext(b, bits));
        all_ones(match op {
            Compare::Eq => a == b,
            Compare::Ge => sa >= sb,
            Compare::Gt => sa > sb,
            Compare::Hi => a > b,
            Compare::Hs => a >= b,
            Compare::Tst => a & b != 0,
        })
    }))
}

/// Signed compares against zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareZero {
    /// CMEQ #0.
    Eq,
    /// CMGE #0.
    Ge,
    /// CMGT #0.
    Gt,
    /// CMLE #0.
    Le,
    /// CMLT #0.
    Lt,
}

impl CompareZero {
    /// Every operation.
    pub const ALL: [CompareZero; 5] = [
        CompareZero::Eq,
        CompareZero::Ge,
        CompareZero::Gt,
        CompareZero::Le,
        CompareZero::Lt,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            CompareZero::Eq => "cmeq",
            CompareZero::Ge => "cmge",
            CompareZero::Gt => "cmgt",
            CompareZero::Le => "cmle",
            CompareZero::Lt => "cmlt",
        }
    }
}

/// CMEQ/CMGE/CMGT/CMLE/CMLT (zero). `.1d` is reserved.
pub fn compare_zero(op: CompareZero, es: Esize, q: bool, n: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    Ok(map1(es, q, n, |a| {
        let s = sext(a, bits);
        all_ones(match op {
            CompareZero::Eq => s == 0,
            CompareZero::Ge => s >= 0,
            CompareZero::Gt => s > 0,
            CompareZero::Le => s <= 0,
            CompareZero::Lt => s < 0,
        })
    }))
}
