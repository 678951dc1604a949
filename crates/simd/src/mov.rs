//! DUP, INS, UMOV, SMOV and the modified-immediate group (MOVI, MVNI, ORR, BIC, FMOV).

use crate::lanes::{check, check_imm, count, elem, low, mask, set, sext, Allow};
use crate::{Esize, Result, SimdError};

fn check_index(op: &'static str, es: Esize, index: u32) -> Result<()> {
    check_imm(op, index, 0, 128 / es.bits() - 1)
}

/// `Replicate(x<esize-1:0>)` over the datasize.
fn replicate(es: Esize, q: bool, x: u64) -> u128 {
    let mut r = 0;
    for i in 0..count(es, q) {
        set(&mut r, es.bits(), i, x);
    }
    r
}

/// DUP (element): every element of the result is `Vn[index]`. `.1d` is reserved.
pub fn dup_element(es: Esize, q: bool, n: u128, index: u32) -> Result<u128> {
    check("dup", es, q, Allow::Not1D)?;
    check_index("dup", es, index)?;
    Ok(replicate(es, q, elem(n, es.bits(), index)))
}

/// DUP (general): every element is the low `esize` bits of the general register. `.1d` is
/// reserved.
pub fn dup_general(es: Esize, q: bool, x: u64) -> Result<u128> {
    check("dup", es, q, Allow::Not1D)?;
    Ok(replicate(es, q, x))
}

/// INS (element), `MOV Vd.T[dst], Vn.T[src]`: the rest of `Vd` (all 128 bits) is kept.
pub fn ins_element(es: Esize, d: u128, dst: u32, n: u128, src: u32) -> Result<u128> {
    check_index("ins", es, dst)?;
    check_index("ins", es, src)?;
    let mut r = d;
    set(&mut r, es.bits(), dst, elem(n, es.bits(), src));
    Ok(r)
}

/// INS (general), `MOV Vd.T[index], Rn`: the rest of `Vd` is kept.
pub fn ins_general(es: Esize, d: u128, index: u32, x: u64) -> Result<u128> {
    check_index("ins", es, index)?;
    let mut r = d;
    set(&mut r, es.bits(), index, x);
    Ok(r)
}

/// UMOV: the zero-extended element, as the value of the destination X register. The W form
/// (`to_x == false`) takes B/H/S elements, the X form only D elements.
pub fn umov(es: Esize, n: u128, index: u32, to_x: bool) -> Result<u64> {
    if to_x != (es == Esize::D) {
        return Err(SimdError::Arrangement {
            op: "umov",
            esize: es.bits(),
            q: to_x,
        });
    }
    check_index("umov", es, index)?;
    Ok(elem(n, es.bits(), index))
}

/// SMOV: the sign-extended element, as the value of the destination X register (the W form
/// zeroes bits 63:32). B and H elements go to W or X, S elements only to X; D is reserved.
pub fn smov(es: Esize, n: u128, index: u32, to_x: bool) -> Result<u64> {
    if es == Esize::D || (es == Esize::S && !to_x) {
        return Err(SimdError::Arrangement {
            op: "smov",
            esize: es.bits(),
            q: to_x,
        });
    }
    check_index("smov", es, index)?;
    let v = sext(elem(n, es.bits(), index), es.bits()) as u64;
    Ok(if to_x { v } else { v & mask(32) })
}

/// `AdvSIMDExpandImm(op, cmode, imm8)`: the 64-bit pattern of the modified-immediate group.
/// Only the low four bits of `cmode` are used.
pub fn expand_imm(op: bool, cmode: u32, imm8: u8) -> u64 {
    let i = u64::from(imm8);
    let rep2 = |x: u64| x | (x << 32);
    let rep4 = |x: u64| rep2(x | (x << 16));
    let b = |n: u32| (i >> n) & 1;
    match (cmode >> 1) & 7 {
        0 => rep2(i),
        1 => rep2(i << 8),
        2 => rep2(i << 16),
        3 => rep2(i << 24),
        4 => rep4(i),
        5 => rep4(i << 8),
        6 if cmode & 1 == 0 => rep2((i << 8) | 0xFF),
        6 => rep2((i << 16) | 0xFFFF),
        _ => match (cmode & 1, op) {
            (0, false) => i * 0x0101_0101_0101_0101,
            (0, true) => (0..8).fold(0, |acc, k| acc | (b(k) * 0xFF) << (8 * k)),
            // imm8<7>:NOT(imm8<6>):Replicate(imm8<6>,5):imm8<5:0>:Zeros(19), twice.
            (_, false) => {
                rep2((b(7) << 31) | ((b(6) ^ 1) << 30) | ((b(6) * 0x1F) << 25) | ((i & 0x3F) << 19))
            }
            // imm8<7>:NOT(imm8<6>):Replicate(imm8<6>,8):imm8<5:0>:Zeros(48).
            (_, true) => {
                (b(7) << 63) | ((b(6) ^ 1) << 62) | ((b(6) * 0xFF) << 54) | ((i & 0x3F) << 48)
            }
        },
    }
}

/// The AdvSIMD modified-immediate group (MOVI, MVNI, ORR, BIC and FMOV vector immediate), by
/// its raw `Q`, `op`, `cmode` and `imm8` fields; `d` is the old destination (read by ORR/BIC).
///
/// `cmode:op` selects: `0xx0:0`/`10x0:0`/`110x:0`/`1110:x` MOVI, `0xx0:1`/`10x0:1`/`110x:1`
/// MVNI, `0xx1:0`/`10x1:0` ORR, `0xx1:1`/`10x1:1` BIC, `1111:0` FMOV (single), `1111:1` FMOV
/// (double, Q = 0 reserved). `op = 1, cmode = 1110, Q = 0` is the scalar `MOVI Dd, #imm`.
pub fn modified_imm(q: bool, op: bool, cmode: u32, imm8: u8, d: u128) -> Result<u128> {
    check_imm("movi", cmode, 0, 15)?;
    if cmode == 15 && op && !q {
        return Err(SimdError::Arrangement {
            op: "fmov",
            esize: 64,
            q,
        });
    }
    let imm64 = u128::from(expand_imm(op, cmode, imm8));
    let imm = if q { imm64 | (imm64 << 64) } else { imm64 };
    // ORR/BIC: cmode<0> == 1 for the shifted 32-bit and 16-bit forms (cmode < 12).
    let logical = cmode < 12 && cmode & 1 == 1;
    let r = match (logical, op, cmode >= 14) {
        (true, false, _) => d | imm,
        (true, true, _) => d & !imm,
        (false, true, false) => !imm,
        _ => imm,
    };
    Ok(if q { r } else { low(r) })
}
