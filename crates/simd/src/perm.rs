//! Permutes: EXT, ZIP1/ZIP2/UZP1/UZP2/TRN1/TRN2 and TBL/TBX.

use crate::lanes::{check, check_imm, count, elem, low, set, Allow};
use crate::{Esize, Result, SimdError};

/// EXT: bytes `imm..imm+datasize/8` of the concatenation `Vm:Vn` (low halves when Q = 0).
/// `imm` is `0..8` for Q = 0 and `0..16` for Q = 1.
pub fn ext(q: bool, n: u128, m: u128, imm: u32) -> Result<u128> {
    if q {
        check_imm("ext", imm, 0, 15)?;
        Ok(if imm == 0 {
            n
        } else {
            (n >> (8 * imm)) | (m << (128 - 8 * imm))
        })
    } else {
        check_imm("ext", imm, 0, 7)?;
        let concat = (low(m) << 64) | low(n);
        Ok(low(concat >> (8 * imm)))
    }
}

/// The two-register permutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permute {
    /// ZIP1: interleave the low halves.
    Zip1,
    /// ZIP2: interleave the high halves.
    Zip2,
    /// UZP1: even elements of `Vm:Vn`.
    Uzp1,
    /// UZP2: odd elements of `Vm:Vn`.
    Uzp2,
    /// TRN1: even elements of `Vn` and `Vm`, interleaved.
    Trn1,
    /// TRN2: odd elements of `Vn` and `Vm`, interleaved.
    Trn2,
}

impl Permute {
    /// Every operation.
    pub const ALL: [Permute; 6] = [
        Permute::Zip1,
        Permute::Zip2,
        Permute::Uzp1,
        Permute::Uzp2,
        Permute::Trn1,
        Permute::Trn2,
    ];

    /// The mnemonic.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Permute::Zip1 => "zip1",
            Permute::Zip2 => "zip2",
            Permute::Uzp1 => "uzp1",
            Permute::Uzp2 => "uzp2",
            Permute::Trn1 => "trn1",
            Permute::Trn2 => "trn2",
        }
    }
}

/// ZIP/UZP/TRN. `.1d` reserved.
pub fn permute(op: Permute, es: Esize, q: bool, n: u128, m: u128) -> Result<u128> {
    check(op.mnemonic(), es, q, Allow::Not1D)?;
    let bits = es.bits();
    let lanes = count(es, q);
    let pairs = lanes / 2;
    let mut r = 0;
    match op {
        Permute::Zip1 | Permute::Zip2 => {
            let base = if op == Permute::Zip2 { pairs } else { 0 };
            for p in 0..pairs {
                set(&mut r, bits, 2 * p, elem(n, bits, base + p));
                set(&mut r, bits, 2 * p + 1, elem(m, bits, base + p));
            }
        }
        Permute::Uzp1 | Permute::Uzp2 => {
            let part = u32::from(op == Permute::Uzp2);
            for e in 0..lanes {
                let i = 2 * e + part;
                let v = if i < lanes {
                    elem(n, bits, i)
                } else {
                    elem(m, bits, i - lanes)
                };
                set(&mut r, bits, e, v);
            }
        }
        Permute::Trn1 | Permute::Trn2 => {
            let part = u32::from(op == Permute::Trn2);
            for p in 0..pairs {
                set(&mut r, bits, 2 * p, elem(n, bits, 2 * p + part));
                set(&mut r, bits, 2 * p + 1, elem(m, bits, 2 * p + part));
            }
        }
    }
    Ok(r)
}

/// TBL (`tbx == false`) and TBX: each index byte of `idx` selects a byte of the 1 to 4 table
/// registers (in register order, `table[0]` lowest); an out-of-range index gives zero (TBL) or
/// keeps the `d` byte (TBX). Q = 0 uses the low 8 index bytes and zeroes the upper half.
pub fn tbl(tbx: bool, q: bool, d: u128, table: &[u128], idx: u128) -> Result<u128> {
    let len = u32::try_from(table.len()).unwrap_or(u32::MAX);
    if !(1..=4).contains(&len) {
        return Err(SimdError::Immediate {
            op: if tbx { "tbx" } else { "tbl" },
            value: len,
        });
    }
    let mut r = 0;
    for i in 0..count(Esize::B, q) {
        let x = elem(idx, 8, i) as u32;
        let v = match table.get((x / 16) as usize) {
            Some(&t) => elem(t, 8, x % 16),
            None if tbx => elem(d, 8, i),
            None => 0,
        };
        set(&mut r, 8, i, v);
    }
    Ok(r)
}
