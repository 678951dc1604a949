//! Widening and narrowing: XTN/SQXTN/UQXTN/SQXTUN, the three-different group (UADDL ... SMLSL,
//! UABDL/SABAL ...) and ADDHN/RADDHN/SUBHN/RSUBHN. `es` is always the narrow element size and
//! `part` selects the high half of the narrow operand or result (the "2" forms, Q = 1).

use crate::lanes::{check, half, int, put_half, sat_signed, sat_unsigned, set, Allow};
use crate::{Esize, Result};

/// Narrowing moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Narrow {
    /// XTN: truncate.
    Xtn,
    /// SQXTN: signed to signed, saturating.
    Sqxtn,
    /// UQXTN: unsigned to unsigned, saturating.
    Uqxtn,
    /// SQXTUN: signed to unsigned, saturating.
    Sqxtun,
}

impl Narrow {
    /// Every operation.
    pub const ALL: [Narrow; 4] = [Narrow::Xtn, Narrow::Sqxtn, Narrow::Uqxtn, Narrow::Sqxtun];

    /// The mnemonic (without the "2").
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Narrow::Xtn => "xtn",
            Narrow::Sqxtn => "sqxtn",
            Narrow::Uqxtn => "uqxtn",
            Narrow::Sqxtun => "sqxtun",
        }
    }
}

/// XTN/SQXTN/UQXTN/SQXTUN (vector): narrow each double-width element of `Vn` to `es` (D
/// reserved). The saturating forms set `*qc` if any element saturated.
pub fn narrow(op: Narrow, es: Esize, part: bool, d: u128, n: u128, qc: &mut bool) -> Result<u128> {
    check(op.mnemonic(), es, part, Allow::NoD)?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..64 / bits {
        let signed = matches!(op, Narrow::Sqxtn | Narrow::Sqxtun);
        let x = int(n, 2 * bits, i, signed);
        let (v, sat) = match op {
            Narrow::Xtn => (x as u64, false),
            Narrow::Sqxtn => sat_signed(x, bits),
            Narrow::Uqxtn | Narrow::Sqxtun => sat_unsigned(x, bits),
        };
        *qc |= sat;
        set(&mut r, bits, i, v);
    }
    Ok(put_half(d, part, r))
}

/// The three-different (long and wide) group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Long {
    /// UADDL: `n + m`, both widened.
    Uaddl,
    /// SADDL.
    Saddl,
    /// USUBL.
    Usubl,
    /// SSUBL.
    Ssubl,
    /// UADDW: wide `n` plus widened `m`.
    Uaddw,
    /// SADDW.
    Saddw,
    /// USUBW.
    Usubw,
    /// SSUBW.
    Ssubw,
    /// UMULL.
    Umull,
    /// SMULL.
    Smull,
    /// UMLAL: `d + n * m`.
    Umlal,
    /// SMLAL.
    Smlal,
    /// UMLSL: `d - n * m`.
    Umlsl,
    /// SMLSL.
    Smlsl,
    /// UABDL: `|n - m|`.
    Uabdl,
    /// SABDL.
    Sabdl,
    /// UABAL: `d + |n - m|`.
    Uabal,
    /// SABAL.
    Sabal,
}

impl Long {
    /// Every operation.
    pub const ALL: [Long; 18] = [
        Long::Uaddl,
        Long::Saddl,
        Long::Usubl,
        Long::Ssubl,
        Long::Uaddw,
        Long::Saddw,
        Long::Usubw,
        Long::Ssubw,
        Long::Umull,
        Long::Smull,
        Long::Umlal,
        Long::Smlal,
        Long::Umlsl,
        Long::Smlsl,
        Long::Uabdl,
        Long::Sabdl,
        Long::Uabal,
        Long::Sabal,
    ];

    /// The mnemonic (without the "2").
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Long::Uaddl => "uaddl",
            Long::Saddl => "saddl",
            Long::Usubl => "usubl",
            Long::Ssubl => "ssubl",
            Long::Uaddw => "uaddw",
            Long::Saddw => "saddw",
            Long::Usubw => "usubw",
            Long::Ssubw => "ssubw",
            Long::Umull => "umull",
            Long::Smull => "smull",
            Long::Umlal => "umlal",
            Long::Smlal => "smlal",
            Long::Umlsl => "umlsl",
            Long::Smlsl => "smlsl",
            Long::Uabdl => "uabdl",
            Long::Sabdl => "sabdl",
            Long::Uabal => "uabal",
            Long::Sabal => "sabal",
        }
    }

    /// Whether the first operand is already wide (the W forms).
    pub const fn is_wide(self) -> bool {
        matches!(self, Long::Uaddw | Long::Saddw | Long::Usubw | Long::Ssubw)
    }

    /// Whether the destination is read (accumulating forms).
    pub const fn reads_d(self) -> bool {
        matches!(
            self,
            Long::Umlal | Long::Smlal | Long::Umlsl | Long::Smlsl | Long::Uabal | Long::Sabal
        )
    }

    const fn signed(self) -> bool {
        matches!(
            self,
            Long::Saddl
                | Long::Ssubl
                | Long::Saddw
                | Long::Ssubw
                | Long::Smull
                | Long::Smlal
                | Long::Smlsl
                | Long::Sabdl
                | Long::Sabal
        )
    }
}

/// A long or wide operation: the result has `64 / esize` elements of `2 * esize` bits. `d` is
/// the old destination, read by the accumulating forms. D reserved.
pub fn long(op: Long, es: Esize, part: bool, d: u128, n: u128, m: u128) -> Result<u128> {
    check(op.mnemonic(), es, part, Allow::NoD)?;
    let bits = es.bits();
    let signed = op.signed();
    let mpart = half(m, part);
    let npart = half(n, part);
    let mut r = 0;
    for i in 0..64 / bits {
        let x = if op.is_wide() {
            int(n, 2 * bits, i, signed)
        } else {
            int(npart, bits, i, signed)
        };
        let y = int(mpart, bits, i, signed);
        let acc = int(d, 2 * bits, i, false);
        let v = match op {
            Long::Uaddl | Long::Saddl | Long::Uaddw | Long::Saddw => x + y,
            Long::Usubl | Long::Ssubl | Long::Usubw | Long::Ssubw => x - y,
            Long::Umull | Long::Smull => x * y,
            Long::Umlal | Long::Smlal => acc + x * y,
            Long::Umlsl | Long::Smlsl => acc - x * y,
            Long::Uabdl | Long::Sabdl => (x - y).abs(),
            Long::Uabal | Long::Sabal => acc + (x - y).abs(),
        };
        set(&mut r, 2 * bits, i, v as u64);
    }
    Ok(r)
}

/// High-half narrowing arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HighNarrow {
    /// ADDHN: high half of `n + m`.
    Addhn,
    /// RADDHN: rounded.
    Raddhn,
    /// SUBHN: high half of `n - m`.
    Subhn,
    /// RSUBHN: rounded.
    Rsubhn,
}

impl HighNarrow {
    /// Every operation.
    pub const ALL: [HighNarrow; 4] = [
        HighNarrow::Addhn,
        HighNarrow::Raddhn,
        HighNarrow::Subhn,
        HighNarrow::Rsubhn,
    ];

    /// The mnemonic (without the "2").
    pub const fn mnemonic(self) -> &'static str {
        match self {
            HighNarrow::Addhn => "addhn",
            HighNarrow::Raddhn => "raddhn",
            HighNarrow::Subhn => "subhn",
            HighNarrow::Rsubhn => "rsubhn",
        }
    }
}

/// ADDHN/RADDHN/SUBHN/RSUBHN: the high `es` bits of the double-width sum or difference of the
/// elements of `Vn` and `Vm` (plus `1 << (esize - 1)` when rounding). D reserved.
pub fn high_narrow(
    op: HighNarrow,
    es: Esize,
    part: bool,
    d: u128,
    n: u128,
    m: u128,
) -> Result<u128> {
    check(op.mnemonic(), es, part, Allow::NoD)?;
    let bits = es.bits();
    let mut r = 0;
    for i in 0..64 / bits {
        let (x, y) = (int(n, 2 * bits, i, false), int(m, 2 * bits, i, false));
        let v = match op {
            HighNarrow::Addhn | HighNarrow::Raddhn => x + y,
            HighNarrow::Subhn | HighNarrow::Rsubhn => x - y,
        };
        let rc = if matches!(op, HighNarrow::Raddhn | HighNarrow::Rsubhn) {
            1i128 << (bits - 1)
        } else {
            0
        };
        set(&mut r, bits, i, ((v + rc) >> bits) as u64);
    }
    Ok(put_half(d, part, r))
}
