//! Advanced SIMD integer subset and FP register moves: the instructions
//! static glibc's string and memory routines use (DUP, INS, UMOV/SMOV,
//! MOVI/MVNI/ORR/BIC immediate, FMOV immediate/general/register, three-same
//! integer and logical ops incl. pairwise, two-register misc compares and
//! bit ops, across-lanes min/max/add, shifts by immediate incl. SHRN/USHLL,
//! XTN, EXT, LD1/ST1 multiple structures). FP arithmetic is not here.
//!
//! Vector registers are `u128`; a 64-bit (Q = 0) result clears bits 127:64.

use super::ldst::{fp_enabled, fp_trap};
use crate::cpu::Core;
use crate::decode::{Fields, Flow, Op, Step};
use crate::state::{r_sp, r_zr, w_zr};

#[inline]
fn emask(es: u32) -> u64 {
    if es >= 64 {
        u64::MAX
    } else {
        (1u64 << es) - 1
    }
}

#[inline]
fn elem(v: u128, i: u32, es: u32) -> u64 {
    ((v >> (i * es)) as u64) & emask(es)
}

#[inline]
fn set_elem(v: &mut u128, i: u32, es: u32, x: u64) {
    let m = u128::from(emask(es)) << (i * es);
    *v = (*v & !m) | ((u128::from(x & emask(es))) << (i * es));
}

#[inline]
fn sx(x: u64, es: u32) -> i64 {
    let sh = 64 - es;
    ((x << sh) as i64) >> sh
}

#[inline]
fn vr(c: &Core, i: u8) -> u128 {
    c.regs.v[usize::from(i & 31)]
}

#[inline]
fn set_vr(c: &mut Core, i: u8, v: u128, q: bool) {
    c.regs.v[usize::from(i & 31)] = if q { v } else { v & u128::from(u64::MAX) };
}

#[inline]
fn check_fp(c: &mut Core) -> Result<(), Flow> {
    if fp_enabled(c) {
        Ok(())
    } else {
        Err(fp_trap(c))
    }
}

/// Operand layout in `Op.aux` for vector ops: q | size << 1 | u << 3 |
/// opcode << 4 | extra << 12.
fn pack(q: u32, size: u32, u: u32, opcode: u32, extra: u32) -> u32 {
    q | (size << 1) | (u << 3) | (opcode << 4) | (extra << 12)
}

struct Unpacked {
    q: bool,
    size: u32,
    u: bool,
    opcode: u32,
    extra: u32,
}

fn unpack(aux: u32) -> Unpacked {
    Unpacked {
        q: aux & 1 != 0,
        size: (aux >> 1) & 3,
        u: aux & 8 != 0,
        opcode: (aux >> 4) & 0xff,
        extra: aux >> 12,
    }
}

fn vop(h: crate::decode::Handler, f: &Fields, aux: u32) -> Op {
    Op {
        rd: (f.get("rd") & 31) as u8,
        rn: (f.get("rn") & 31) as u8,
        aux,
        ..Op::new(h)
    }
}

// ---- three same -------------------------------------------------------

fn three_same(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let (a, b, d) = (vr(c, op.rn), vr(c, op.rm), vr(c, op.rd));
    let bits = if p.q { 128 } else { 64 };
    if p.opcode == 0b00011 {
        let r = match (p.u, p.size) {
            (false, 0) => a & b,
            (false, 1) => a & !b,
            (false, 2) => a | b,
            (false, _) => a | !b,
            (true, 0) => a ^ b,
            (true, 1) => (d & a) | (!d & b), // BSL
            (true, 2) => (d & !b) | (a & b), // BIT
            (true, _) => (d & b) | (a & !b), // BIF
        };
        set_vr(c, op.rd, r, p.q);
        return Ok(());
    }
    let es = 8 << p.size;
    let n = bits / es;
    let mut r = 0u128;
    let pairwise = matches!(p.opcode, 0b10111 | 0b10100 | 0b10101);
    for i in 0..n {
        let (x, y) = if pairwise {
            let src = if i < n / 2 { a } else { b };
            let j = 2 * (i % (n / 2));
            (elem(src, j, es), elem(src, j + 1, es))
        } else {
            (elem(a, i, es), elem(b, i, es))
        };
        let (sx_, sy) = (sx(x, es), sx(y, es));
        let ones = emask(es);
        let v = match (p.opcode, p.u) {
            (0b10000, false) | (0b10111, false) => x.wrapping_add(y),
            (0b10000, true) => x.wrapping_sub(y),
            (0b10001, true) => ones * u64::from(x == y),
            (0b10001, false) => ones * u64::from(x & y != 0),
            (0b00110, false) => ones * u64::from(sx_ > sy),
            (0b00110, true) => ones * u64::from(x > y),
            (0b00111, false) => ones * u64::from(sx_ >= sy),
            (0b00111, true) => ones * u64::from(x >= y),
            (0b01100, false) | (0b10100, false) => sx_.max(sy) as u64,
            (0b01100, true) | (0b10100, true) => x.max(y),
            (0b01101, false) | (0b10101, false) => sx_.min(sy) as u64,
            (0b01101, true) | (0b10101, true) => x.min(y),
            (0b10011, false) => x.wrapping_mul(y),
            _ => 0,
        };
        set_elem(&mut r, i, es, v);
    }
    set_vr(c, op.rd, r, p.q);
    Ok(())
}

/// Build the three-same integer group (subset).
pub fn build_three_same(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (f.get("q"), f.get("u"), f.get("size"), f.get("opcode"));
    let ok = match (opcode, u == 1) {
        (0b00011, _) => true,
        (0b10000 | 0b10001 | 0b00110 | 0b00111, _) => size != 3 || q == 1,
        (0b01100 | 0b01101 | 0b10100 | 0b10101, _) => size != 3,
        (0b10111, false) => size != 3 || q == 1,
        (0b10011, false) => size != 3,
        _ => false,
    };
    if !ok {
        return None;
    }
    Some(Op {
        rm: (f.get("rm") & 31) as u8,
        ..vop(three_same, f, pack(q, size, u, opcode, 0))
    })
}

// ---- two-register misc ------------------------------------------------

fn two_misc(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let a = vr(c, op.rn);
    let bits = if p.q { 128 } else { 64 };
    if p.opcode == 0b10010 {
        // XTN / XTN2: narrow each 2*es element of Vn into the lower or upper half.
        let es = 8 << p.size;
        let mut r = if p.q {
            vr(c, op.rd) & u128::from(u64::MAX)
        } else {
            0
        };
        let base = if p.q { 64 / es } else { 0 };
        for i in 0..64 / es {
            set_elem(&mut r, base + i, es, elem(a, i, 2 * es));
        }
        c.regs.v[usize::from(op.rd & 31)] = r;
        return Ok(());
    }
    let es = match p.opcode {
        0b00101 => 8,
        _ => 8 << p.size,
    };
    let mut r = 0u128;
    for i in 0..bits / es {
        let x = elem(a, i, es);
        let s = sx(x, es);
        let ones = emask(es);
        let v = match (p.opcode, p.u) {
            (0b01001, false) => ones * u64::from(x == 0),
            (0b01000, false) => ones * u64::from(s > 0),
            (0b01000, true) => ones * u64::from(s >= 0),
            (0b01001, true) => ones * u64::from(s <= 0),
            (0b01010, false) => ones * u64::from(s < 0),
            (0b01011, false) => s.unsigned_abs(),
            (0b01011, true) => s.wrapping_neg() as u64,
            (0b00101, false) => u64::from(x.count_ones()),
            (0b00101, true) if p.size == 0 => !x,
            (0b00101, true) => u64::from((x as u8).reverse_bits()),
            _ => x,
        };
        set_elem(&mut r, i, es, v);
    }
    if matches!(p.opcode, 0b00000 | 0b00001) {
        // REV16/REV32/REV64: reverse `es`-bit elements within containers.
        let container = match (p.opcode, p.u) {
            (0b00001, false) => 16,
            (0b00000, true) => 32,
            _ => 64,
        };
        r = 0;
        let per = container / es;
        for i in 0..bits / es {
            let j = (i / per) * per + (per - 1 - i % per);
            set_elem(&mut r, j, es, elem(a, i, es));
        }
    }
    set_vr(c, op.rd, r, p.q);
    Ok(())
}

/// Build the two-register misc group (subset).
pub fn build_two_misc(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (f.get("q"), f.get("u"), f.get("size"), f.get("opcode"));
    let ok = match (opcode, u == 1) {
        (0b01000 | 0b01001 | 0b01011, _) | (0b01010, false) => size != 3 || q == 1,
        (0b00101, false) => size == 0,
        (0b00101, true) => size <= 1,
        (0b00001, false) => size == 0,
        (0b00000, true) => size <= 1,
        (0b00000, false) => size <= 2,
        (0b10010, false) => size != 3,
        _ => false,
    };
    if !ok {
        return None;
    }
    Some(vop(two_misc, f, pack(q, size, u, opcode, 0)))
}

// ---- across lanes -----------------------------------------------------

fn across(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let a = vr(c, op.rn);
    let es = 8 << p.size;
    let n = if p.q { 128 / es } else { 64 / es };
    let mut acc = elem(a, 0, es);
    for i in 1..n {
        let x = elem(a, i, es);
        acc = match (p.opcode, p.u) {
            (0b11011, _) => acc.wrapping_add(x),
            (0b01010, true) => acc.max(x),
            (0b11010, true) => acc.min(x),
            (0b01010, false) => sx(acc, es).max(sx(x, es)) as u64,
            _ => sx(acc, es).min(sx(x, es)) as u64,
        };
    }
    c.regs.v[usize::from(op.rd & 31)] = u128::from(acc & emask(es));
    Ok(())
}

/// Build ADDV/UMAXV/UMINV/SMAXV/SMINV.
pub fn build_across(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (f.get("q"), f.get("u"), f.get("size"), f.get("opcode"));
    let ok = matches!(opcode, 0b11011 if u == 0) || matches!(opcode, 0b01010 | 0b11010);
    if !ok || size == 3 || (size == 2 && q == 0) {
        return None;
    }
    Some(vop(across, f, pack(q, size, u, opcode, 0)))
}

// ---- shift by immediate -----------------------------------------------

fn shift_imm(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let es = 8 << p.size;
    let immhb = p.extra;
    let a = vr(c, op.rn);
    let d = vr(c, op.rd);
    match (p.opcode, p.u) {
        (0b10000, false) => {
            // SHRN/SHRN2: narrow 2*es sources shifted right.
            let sh = 2 * es - immhb;
            let mut r = if p.q { d & u128::from(u64::MAX) } else { 0 };
            let base = if p.q { 64 / es } else { 0 };
            for i in 0..64 / es {
                let x = elem(a, i, 2 * es);
                set_elem(&mut r, base + i, es, x >> sh);
            }
            c.regs.v[usize::from(op.rd & 31)] = r;
        }
        (0b10100, u) => {
            // USHLL/SSHLL(2): widen es elements of the lower/upper half.
            let sh = immhb - es;
            let src = if p.q { a >> 64 } else { a };
            let mut r = 0u128;
            for i in 0..64 / es {
                let x = elem(src, i, es);
                let x = if u { x } else { sx(x, es) as u64 };
                set_elem(&mut r, i, 2 * es, x << sh);
            }
            c.regs.v[usize::from(op.rd & 31)] = r;
        }
        _ => {
            let bits = if p.q { 128 } else { 64 };
            let mut r = 0u128;
            for i in 0..bits / es {
                let x = elem(a, i, es);
                let v = match (p.opcode, p.u) {
                    (0b01010, false) => x << (immhb - es),
                    (0b00000, true) | (0b00010, true) => {
                        let sh = 2 * es - immhb;
                        let s = if sh >= 64 { 0 } else { x >> sh };
                        if p.opcode == 0b00010 {
                            elem(d, i, es).wrapping_add(s)
                        } else {
                            s
                        }
                    }
                    _ => {
                        let sh = (2 * es - immhb).min(63);
                        let s = (sx(x, es) >> sh) as u64;
                        if p.opcode == 0b00010 {
                            elem(d, i, es).wrapping_add(s)
                        } else {
                            s
                        }
                    }
                };
                set_elem(&mut r, i, es, v);
            }
            set_vr(c, op.rd, r, p.q);
        }
    }
    Ok(())
}

/// Build SHL/USHR/SSHR/USRA/SSRA/SHRN/USHLL/SSHLL.
pub fn build_shift_imm(f: &Fields) -> Option<Op> {
    let (q, u, immh, immb, opcode) = (
        f.get("q"),
        f.get("u"),
        f.get("immh"),
        f.get("immb"),
        f.get("opcode"),
    );
    if immh == 0 {
        return None;
    }
    let size = 31 - immh.leading_zeros(); // HighestSetBit(immh)
    let narrow_or_long = matches!(opcode, 0b10000 | 0b10100);
    if narrow_or_long && size == 3 {
        return None;
    }
    if !narrow_or_long && size == 3 && q == 0 {
        return None;
    }
    let ok = matches!(
        (opcode, u),
        (0b01010, 0) | (0b00000, _) | (0b00010, _) | (0b10000, 0) | (0b10100, _)
    );
    if !ok {
        return None;
    }
    Some(vop(
        shift_imm,
        f,
        pack(q, size, u, opcode, (immh << 3) | immb),
    ))
}

// ---- copy (DUP, INS, UMOV, SMOV) ---------------------------------------

fn copy(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let es = 8 << p.size;
    let index = p.extra & 0xf;
    let index2 = (p.extra >> 4) & 0xf;
    let bits = if p.q { 128 } else { 64 };
    match p.opcode {
        // DUP (element)
        0 => {
            let x = elem(vr(c, op.rn), index, es);
            let mut r = 0u128;
            for i in 0..bits / es {
                set_elem(&mut r, i, es, x);
            }
            set_vr(c, op.rd, r, p.q);
        }
        // DUP (general)
        1 => {
            let x = c.x(op.rn);
            let mut r = 0u128;
            for i in 0..bits / es {
                set_elem(&mut r, i, es, x);
            }
            set_vr(c, op.rd, r, p.q);
        }
        // INS (general)
        3 => {
            let mut r = vr(c, op.rd);
            set_elem(&mut r, index, es, c.x(op.rn));
            c.regs.v[usize::from(op.rd & 31)] = r;
        }
        // SMOV
        5 => {
            let x = sx(elem(vr(c, op.rn), index, es), es) as u64;
            c.set_x(op.rd, if p.q { x } else { x & 0xffff_ffff });
        }
        // UMOV
        7 => {
            let x = elem(vr(c, op.rn), index, es);
            c.set_x(op.rd, x);
        }
        // INS (element)
        _ => {
            let x = elem(vr(c, op.rn), index2, es);
            let mut r = vr(c, op.rd);
            set_elem(&mut r, index, es, x);
            c.regs.v[usize::from(op.rd & 31)] = r;
        }
    }
    Ok(())
}

/// Build DUP/INS/UMOV/SMOV.
pub fn build_copy(f: &Fields) -> Option<Op> {
    let (q, op_, imm5, imm4) = (f.get("q"), f.get("op"), f.get("imm5"), f.get("imm4"));
    if imm5 & 0xf == 0 {
        return None;
    }
    let size = imm5.trailing_zeros();
    let index = imm5 >> (size + 1);
    let (rd, rn) = (f.get("rd"), f.get("rn"));
    let mut o = Op {
        rd: (rd & 31) as u8,
        rn: (rn & 31) as u8,
        ..Op::new(copy)
    };
    let kind = if op_ == 1 {
        if q == 0 {
            return None;
        }
        8 // INS (element)
    } else {
        match imm4 {
            0 => 0,
            1 => {
                if size == 3 && q == 0 {
                    return None;
                }
                o.rn = r_zr(rn);
                1
            }
            3 if q == 1 => {
                o.rn = r_zr(rn);
                3
            }
            5 => {
                // SMOV: to W (Q=0) from B/H, to X (Q=1) from B/H/S.
                if size >= 2 + q {
                    return None;
                }
                o.rd = w_zr(rd);
                5
            }
            7 => {
                // UMOV: to W for B/H/S (Q=0), to X for D (Q=1).
                if (q == 1) != (size == 3) {
                    return None;
                }
                o.rd = w_zr(rd);
                7
            }
            _ => return None,
        }
    };
    if kind == 0 && size == 3 && q == 0 {
        return None;
    }
    let index2 = imm4 >> size;
    o.aux = pack(q, size, 0, kind, index | (index2 << 4));
    Some(o)
}

// ---- modified immediate ----------------------------------------------

/// AdvSIMDExpandImm(op, cmode, imm8); `None` for unallocated values.
#[must_use]
pub fn expand_imm(op: u32, cmode: u32, imm8: u32) -> Option<u64> {
    let i = u64::from(imm8);
    let rep32 = |x: u64| x | (x << 32);
    let rep16 = |x: u64| rep32(x | (x << 16));
    Some(match cmode >> 1 {
        0 => rep32(i),
        1 => rep32(i << 8),
        2 => rep32(i << 16),
        3 => rep32(i << 24),
        4 => rep16(i),
        5 => rep16(i << 8),
        6 => {
            if cmode & 1 == 0 {
                rep32((i << 8) | 0xff)
            } else {
                rep32((i << 16) | 0xffff)
            }
        }
        _ => match (cmode & 1, op) {
            (0, 0) => i * 0x0101_0101_0101_0101,
            (0, _) => (0..8).fold(0, |acc, b| {
                acc | if i >> b & 1 != 0 { 0xff << (8 * b) } else { 0 }
            }),
            (_, 0) => {
                // FMOV single: imm8 = a:b:cdefgh -> a:NOT(b):bbbbb:cdefgh:Zeros(19)
                let a = (i >> 7) & 1;
                let b = (i >> 6) & 1;
                let s = (a << 31)
                    | ((b ^ 1) << 30)
                    | (if b == 1 { 0x1f << 25 } else { 0 })
                    | ((i & 0x3f) << 19);
                rep32(s)
            }
            _ => {
                let a = (i >> 7) & 1;
                let b = (i >> 6) & 1;
                (a << 63)
                    | ((b ^ 1) << 62)
                    | (if b == 1 { 0xff << 54 } else { 0 })
                    | ((i & 0x3f) << 48)
            }
        },
    })
}

fn mod_imm(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let q = op.aux & 1 != 0;
    let imm = u128::from(op.imm) | (u128::from(op.imm) << 64);
    let d = vr(c, op.rd);
    let r = match (op.aux >> 1) & 3 {
        0 => imm,
        1 => !imm,
        2 => d | imm,
        _ => d & !imm,
    };
    set_vr(c, op.rd, r, q);
    Ok(())
}

/// Build MOVI/MVNI/ORR/BIC (vector, immediate) and FMOV (vector, immediate).
pub fn build_mod_imm(f: &Fields) -> Option<Op> {
    let (q, op_, cmode) = (f.get("q"), f.get("op"), f.get("cmode"));
    let imm8 = (f.get("abc") << 5) | f.get("defgh");
    if cmode == 0b1111 && op_ == 1 && q == 0 {
        return None;
    }
    let imm = expand_imm(op_, cmode, imm8)?;
    // Action: 0 move, 1 move inverted, 2 orr, 3 bic.
    let is_orr_bic = cmode < 0b1100 && cmode & 1 == 1;
    let action = match (is_orr_bic, op_) {
        (true, 0) => 2,
        (true, _) => 3,
        (false, 1) if cmode < 0b1110 => 1,
        _ => 0,
    };
    Some(Op {
        rd: (f.get("rd") & 31) as u8,
        imm,
        aux: q | (action << 1),
        ..Op::new(mod_imm)
    })
}

// ---- FMOV (general, register) ------------------------------------------

fn fmov_to_gen(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let v = vr(c, op.rn) >> op.aux;
    c.set_x(op.rd, (v as u64) & op.imm);
    Ok(())
}

fn fmov_from_gen(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let x = u128::from(c.x(op.rn) & op.imm);
    let i = usize::from(op.rd & 31);
    c.regs.v[i] = if op.aux == 64 {
        (c.regs.v[i] & u128::from(u64::MAX)) | (x << 64)
    } else {
        x
    };
    Ok(())
}

/// Build FMOV between general and SIMD&FP registers.
pub fn build_fmov_gen(f: &Fields) -> Option<Op> {
    let (sf, ty, rmode, opcode) = (f.get("sf"), f.get("type"), f.get("rmode"), f.get("opcode"));
    let (mask, shift) = match (sf, ty, rmode) {
        (0, 0, 0) => (0xffff_ffffu64, 0u32),
        (1, 1, 0) => (u64::MAX, 0),
        (1, 2, 1) => (u64::MAX, 64),
        _ => return None,
    };
    let (rd, rn) = (f.get("rd"), f.get("rn"));
    match opcode {
        0b110 => Some(Op {
            rd: w_zr(rd),
            rn: (rn & 31) as u8,
            imm: mask,
            aux: shift,
            ..Op::new(fmov_to_gen)
        }),
        0b111 => Some(Op {
            rd: (rd & 31) as u8,
            rn: r_zr(rn),
            imm: mask,
            aux: shift,
            ..Op::new(fmov_from_gen)
        }),
        _ => None,
    }
}

fn fmov_reg(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let v = vr(c, op.rn) & u128::from(op.imm);
    c.regs.v[usize::from(op.rd & 31)] = v;
    Ok(())
}

/// Build FMOV (register) for single and double precision.
pub fn build_fmov_reg(f: &Fields) -> Option<Op> {
    let mask = match f.get("type") {
        0 => 0xffff_ffffu64,
        1 => u64::MAX,
        _ => return None,
    };
    Some(Op {
        imm: mask,
        ..vop(fmov_reg, f, 0)
    })
}

// ---- EXT -----------------------------------------------------------------

fn ext(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let q = op.aux & 1 != 0;
    let pos = (op.aux >> 1) * 8;
    let (lo, hi) = (vr(c, op.rn), vr(c, op.rm));
    let r = if q {
        if pos == 0 {
            lo
        } else {
            (lo >> pos) | (hi << (128 - pos))
        }
    } else {
        let cat = (lo & u128::from(u64::MAX)) | ((hi & u128::from(u64::MAX)) << 64);
        cat >> pos
    };
    set_vr(c, op.rd, r, q);
    Ok(())
}

/// Build EXT.
pub fn build_ext(f: &Fields) -> Option<Op> {
    let (q, imm4) = (f.get("q"), f.get("imm4"));
    if q == 0 && imm4 >= 8 {
        return None;
    }
    Some(Op {
        rm: (f.get("rm") & 31) as u8,
        ..vop(ext, f, q | (imm4 << 1))
    })
}

// ---- LD1/ST1 (multiple structures) ----------------------------------------

fn ld1st1(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let q = op.aux & 1 != 0;
    let load = op.aux & 2 != 0;
    let regs = (op.aux >> 2) & 7;
    let post = op.aux & 32 != 0;
    let bytes: u64 = if q { 16 } else { 8 };
    let base = c.x(op.rn);
    let el = c.regs.pstate.el;
    let mut vals = [0u128; 4];
    for (r, val) in vals.iter_mut().enumerate().take(regs as usize) {
        let t = (op.rd + r as u8) & 31;
        let a = base.wrapping_add(r as u64 * bytes);
        if load {
            let lo = c.read_el::<8>(a, el)?;
            let hi = if q {
                c.read_el::<8>(a.wrapping_add(8), el)?
            } else {
                0
            };
            *val = u128::from(lo) | (u128::from(hi) << 64);
        } else {
            let v = vr(c, t);
            c.write_el::<8>(a, v as u64, el)?;
            if q {
                c.write_el::<8>(a.wrapping_add(8), (v >> 64) as u64, el)?;
            }
        }
    }
    if load {
        for (r, val) in vals.iter().enumerate().take(regs as usize) {
            c.regs.v[usize::from((op.rd + r as u8) & 31)] = *val;
        }
    }
    if post {
        let inc = if op.rm == 31 {
            u64::from(regs) * bytes
        } else {
            c.x(op.rm)
        };
        c.set_x(op.rn, base.wrapping_add(inc));
    }
    Ok(())
}

/// Build LD1/ST1 (multiple structures, 1-4 registers), with post-index.
pub fn build_ld1st1(f: &Fields) -> Option<Op> {
    let regs = match f.get("opcode") {
        0b0111 => 1,
        0b1010 => 2,
        0b0110 => 3,
        0b0010 => 4,
        _ => return None,
    };
    let q = f.get("q");
    let post = f.word & (1 << 23) != 0;
    let rm = if post { f.get("rm") } else { 31 };
    Some(Op {
        rd: (f.get("rt") & 31) as u8,
        rn: r_sp(f.get("rn")),
        rm: if rm == 31 { 31 } else { r_zr(rm) },
        aux: q | (f.get("l") << 1) | (regs << 2) | (u32::from(post) << 5),
        ..Op::new(ld1st1)
    })
}
