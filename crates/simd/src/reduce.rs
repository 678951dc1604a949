//! Pairwise and across-lanes reductions: ADDP/UMAXP/UMINP/SMAXP/SMINP (vector), ADDP (scalar),
//! ADDV/UMAXV/UMINV/SMAXV/SMINV/UADDLV/SADDLV and UADDLP/SADDLP/UADALP/SADALP.

use crate::lanes::{check, count, int, set, Allow};
use crate::{Esize, Result, SimdError};

/// Pairwise operations over the concatenation `Vm:Vn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pairwise {
    /// ADDP (vector; `.1d` reserved).
    Addp,
    /// UMAXP (D reserved).
    Umaxp,
    /// UMINP (D reserved).
    Uminp,
    /// SMAXP (D reserved).
    Smaxp,
    /// SMINP (D reserved).
    Sminp,
}

impl Pairwise {
    /// Every operation.
    pub const ALL: [Pairwise; 5] = [
        Pairwise::Addp,
        Pairwise::Umaxp,
        Pairwise::Uminp,
        Pairwise::Smaxp,
        Pairwise::Sminp,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Pairwise::Addp => "addp",
            Pairwise::Umaxp => "umaxp",
            Pairwise::Uminp => "uminp",
            Pairwise::Smaxp => "smaxp",
            Pairwise::Sminp => "sminp",
        }
    }
}

/// A pairwise operation: element `e` of the result combines elements `2e` and `2e+1` of the
/// concatenation `Vm:Vn` (of the low halves when Q = 0).
pub fn pairwise(op: Pairwise, es: Esize, q: bool, n: u128, m: u128) -> Result<u128> {
    let allow = if op == Pairwise::Addp {
        Allow::Not1D
    } else {
        Allow::NoD
    };
    check(op.mnemonic(), es, q, allow)?;
    let bits = es.bits();
    let lanes = count(es, q);
    let signed = matches!(op, Pairwise::Smaxp | Pairwise::Sminp);
    let concat = |i: u32| {
        if i < lanes {
            int(n, bits, i, signed)
        } else {
            int(m, bits, i - lanes, signed)
        }
    };
    let mut r = 0;
    for e in 0..lanes {
        let (a, b) = (concat(2 * e), concat(2 * e + 1));
        let v = match op {
            Pairwise::Addp => a + b,
            Pairwise::Umaxp | Pairwise::Smaxp => a.max(b),
            Pairwise::Uminp | Pairwise::Sminp => a.min(b),
        };
        set(&mut r, bits, e, v as u64);
    }
    Ok(r)
}

/// ADDP (scalar), `ADDP Dd, Vn.2D`: the sum of the two doublewords (only D is allocated).
pub fn addp_scalar(n: u128) -> u128 {
    u128::from((n as u64).wrapping_add((n >> 64) as u64))
}

/// Reductions across all elements into element 0 of a scalar result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Across {
    /// ADDV.
    Addv,
    /// UMAXV.
    Umaxv,
    /// UMINV.
    Uminv,
    /// SMAXV.
    Smaxv,
    /// SMINV.
    Sminv,
    /// UADDLV: unsigned sum, twice as wide.
    Uaddlv,
    /// SADDLV: signed sum, twice as wide.
    Saddlv,
}

impl Across {
    /// Every operation.
    pub const ALL: [Across; 7] = [
        Across::Addv,
        Across::Umaxv,
        Across::Uminv,
        Across::Smaxv,
        Across::Sminv,
        Across::Uaddlv,
        Across::Saddlv,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Across::Addv => "addv",
            Across::Umaxv => "umaxv",
            Across::Uminv => "uminv",
            Across::Smaxv => "smaxv",
            Across::Sminv => "sminv",
            Across::Uaddlv => "uaddlv",
            Across::Saddlv => "saddlv",
        }
    }

    /// Whether the result is twice the element size.
    pub const fn is_long(self) -> bool {
        matches!(self, Across::Uaddlv | Across::Saddlv)
    }
}

/// An across-lanes reduction. The scalar result (element size bits, or twice that for
/// UADDLV/SADDLV) is zero-extended to 128 bits. Allowed: `8b 16b 4h 8h 4s`.
pub fn across(op: Across, es: Esize, q: bool, n: u128) -> Result<u128> {
    if es == Esize::D || (es == Esize::S && !q) {
        return Err(SimdError::Arrangement {
            op: op.mnemonic(),
            esize: es.bits(),
            q,
        });
    }
    let bits = es.bits();
    let signed = matches!(op, Across::Smaxv | Across::Sminv | Across::Saddlv);
    let first = int(n, bits, 0, signed);
    let v = (1..count(es, q)).fold(first, |acc, i| {
        let x = int(n, bits, i, signed);
        match op {
            Across::Addv | Across::Uaddlv | Across::Saddlv => acc + x,
            Across::Umaxv | Across::Smaxv => acc.max(x),
            Across::Uminv | Across::Sminv => acc.min(x),
        }
    });
    let rbits = if op.is_long() { 2 * bits } else { bits };
    let mut r = 0;
    set(&mut r, rbits, 0, v as u64);
    Ok(r)
}

/// UADDLP/SADDLP (and UADALP/SADALP with `accumulate`): each double-width result element is
/// the sum of a pair of adjacent `es` elements, plus the old `Vd` element when accumulating.
/// `es` is the source element size (D reserved).
pub fn add_long_pairwise(
    signed: bool,
    accumulate: bool,
    es: Esize,
    q: bool,
    d: u128,
    n: u128,
) -> Result<u128> {
    let name = match (signed, accumulate) {
        (false, false) => "uaddlp",
        (true, false) => "saddlp",
        (false, true) => "uadalp",
        (true, true) => "sadalp",
    };
    check(name, es, q, Allow::NoD)?;
    let bits = es.bits();
    let mut r = 0;
    for e in 0..count(es, q) / 2 {
        let sum = int(n, bits, 2 * e, signed) + int(n, bits, 2 * e + 1, signed);
        let acc = if accumulate {
            int(d, 2 * bits, e, false)
        } else {
            0
        };
        set(&mut r, 2 * bits, e, (sum + acc) as u64);
    }
    Ok(r)
}
