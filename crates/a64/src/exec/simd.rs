//! AdvSIMD moves and memory: DUP, INS, UMOV/SMOV, MOVI/MVNI/ORR/BIC and
//! FMOV (vector, immediate), EXT (all through the `simd` crate), and the
//! structure loads and stores LD1-LD4/ST1-ST4 (multiple and single
//! structures) and LD1R-LD4R, with post-index. Integer data processing is
//! in [`super::vint`], floating point in [`super::fp`] and [`super::vfp`].
//!
//! Vector registers are `u128`; a 64-bit (Q = 0) result clears bits 127:64.
//! Every handler first checks CPACR_EL1.FPEN (`check_fp`, EC 0x07).

use super::ldst::{fp_enabled, fp_trap};
use crate::cpu::Core;
use crate::decode::{Fields, Flow, Op, Step};
use crate::state::{r_sp, r_zr, w_zr};
use simd::Esize;

#[inline]
fn vr(c: &Core, i: u8) -> u128 {
    c.regs.v[usize::from(i & 31)]
}

#[inline]
pub(crate) fn check_fp(c: &mut Core) -> Result<(), Flow> {
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
    opcode: u32,
    extra: u32,
}

fn unpack(aux: u32) -> Unpacked {
    Unpacked {
        q: aux & 1 != 0,
        size: (aux >> 1) & 3,
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

// ---- copy (DUP, INS, UMOV, SMOV) ---------------------------------------

fn copy(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let p = unpack(op.aux);
    let Some(es) = Esize::from_size(p.size) else {
        return Err(c.undefined());
    };
    let index = p.extra & 0xf;
    let index2 = (p.extra >> 4) & 0xf;
    let n = vr(c, op.rn);
    let d = vr(c, op.rd);
    let r = match p.opcode {
        0 => simd::dup_element(es, p.q, n, index).map(Ok),
        1 => simd::dup_general(es, p.q, c.x(op.rn)).map(Ok),
        3 => simd::ins_general(es, d, index, c.x(op.rn)).map(Ok),
        5 => simd::smov(es, n, index, p.q).map(Err),
        7 => simd::umov(es, n, index, p.q).map(Err),
        _ => simd::ins_element(es, d, index, n, index2).map(Ok),
    };
    match r {
        Ok(Ok(v)) => c.regs.v[usize::from(op.rd & 31)] = v,
        Ok(Err(x)) => c.set_x(op.rd, x),
        Err(_) => return Err(c.undefined()),
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

fn mod_imm(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let d = vr(c, op.rd);
    let (q, o, cmode, imm8) = (
        op.aux & 1 != 0,
        op.aux & 2 != 0,
        (op.aux >> 2) & 15,
        op.imm as u8,
    );
    match simd::modified_imm(q, o, cmode, imm8, d) {
        Ok(r) => {
            c.regs.v[usize::from(op.rd & 31)] = r;
            Ok(())
        }
        Err(_) => Err(c.undefined()),
    }
}

/// Build MOVI/MVNI/ORR/BIC (vector, immediate) and FMOV (vector, immediate).
pub fn build_mod_imm(f: &Fields) -> Option<Op> {
    let (q, op_, cmode) = (f.get("q"), f.get("op"), f.get("cmode"));
    let imm8 = (f.get("abc") << 5) | f.get("defgh");
    // Unallocated: FMOV (vector, immediate) double with Q = 0; the half
    // form (o2 = 1, FEAT_FP16) never matches the table's o2 = 0.
    simd::modified_imm(q == 1, op_ == 1, cmode, imm8 as u8, 0).ok()?;
    Some(Op {
        rd: (f.get("rd") & 31) as u8,
        imm: u64::from(imm8),
        aux: q | (op_ << 1) | (cmode << 2),
        ..Op::new(mod_imm)
    })
}

// ---- EXT -----------------------------------------------------------------

fn ext(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let q = op.aux & 1 != 0;
    match simd::ext(q, vr(c, op.rn), vr(c, op.rm), op.aux >> 1) {
        Ok(r) => {
            c.regs.v[usize::from(op.rd & 31)] = r;
            Ok(())
        }
        Err(_) => Err(c.undefined()),
    }
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

// ---- LD1-LD4/ST1-ST4 (multiple and single structures), LD1R-LD4R ----------

/// Structure access shape, packed in `Op.aux`: q | load << 1 | post << 2 |
/// kind << 3 (0 multiple, 1 single element, 2 replicate) | size << 5 |
/// selem << 7 | regs << 10 | index << 13. `Op.rm` is the post-index
/// register (31: immediate, the transfer size).
#[derive(Clone, Copy)]
struct Shape {
    q: bool,
    load: bool,
    post: bool,
    kind: u32,
    size: u32,
    selem: u32,
    regs: u32,
    index: u32,
}

impl Shape {
    fn pack(&self) -> u32 {
        u32::from(self.q)
            | (u32::from(self.load) << 1)
            | (u32::from(self.post) << 2)
            | (self.kind << 3)
            | (self.size << 5)
            | (self.selem << 7)
            | (self.regs << 10)
            | (self.index << 13)
    }

    fn unpack(aux: u32) -> Self {
        Self {
            q: aux & 1 != 0,
            load: aux & 2 != 0,
            post: aux & 4 != 0,
            kind: (aux >> 3) & 3,
            size: (aux >> 5) & 3,
            selem: (aux >> 7) & 7,
            regs: (aux >> 10) & 7,
            index: (aux >> 13) & 15,
        }
    }
}

fn read_elem(c: &mut Core, a: u64, size: u32, el: u8) -> Result<u64, Flow> {
    match size {
        0 => c.read_el::<1>(a, el),
        1 => c.read_el::<2>(a, el),
        2 => c.read_el::<4>(a, el),
        _ => c.read_el::<8>(a, el),
    }
}

fn write_elem(c: &mut Core, a: u64, size: u32, v: u64, el: u8) -> Result<(), Flow> {
    match size {
        0 => c.write_el::<1>(a, v, el),
        1 => c.write_el::<2>(a, v, el),
        2 => c.write_el::<4>(a, v, el),
        _ => c.write_el::<8>(a, v, el),
    }
}

fn get_elem(v: u128, i: u32, size: u32) -> u64 {
    let bits = 8u32 << size;
    let x = (v >> (i * bits)) as u64;
    if bits == 64 {
        x
    } else {
        x & ((1u64 << bits) - 1)
    }
}

fn put_elem(v: &mut u128, i: u32, size: u32, x: u64) {
    let bits = 8u32 << size;
    let m: u128 = if bits == 64 {
        u128::from(u64::MAX)
    } else {
        u128::from((1u64 << bits) - 1)
    };
    *v = (*v & !(m << (i * bits))) | ((u128::from(x) & m) << (i * bits));
}

/// LDn/STn. Loads write the registers only after every access succeeded.
fn ldst_struct(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let s = Shape::unpack(op.aux);
    let base = c.x(op.rn);
    let el = c.regs.pstate.el;
    let ebytes = 1u64 << s.size;
    let nregs = s.regs.max(s.selem) as u8;
    let mut vals = [0u128; 4];
    for (r, v) in vals.iter_mut().enumerate().take(usize::from(nregs)) {
        *v = vr(c, op.rd.wrapping_add(r as u8));
    }
    let mut addr = base;
    match s.kind {
        0 => {
            // Multiple structures: `regs / selem` repetitions of
            // element-interleaved structures of `selem` registers.
            let elems = (if s.q { 16 } else { 8 }) >> s.size;
            let rpt = s.regs / s.selem.max(1);
            for r in 0..rpt {
                for e in 0..elems {
                    for k in 0..s.selem {
                        let t = (r * s.selem + k) as usize;
                        if s.load {
                            let x = read_elem(c, addr, s.size, el)?;
                            put_elem(&mut vals[t], e, s.size, x);
                        } else {
                            write_elem(c, addr, s.size, get_elem(vals[t], e, s.size), el)?;
                        }
                        addr = addr.wrapping_add(ebytes);
                    }
                }
            }
            if s.load && !s.q {
                for v in &mut vals {
                    *v &= u128::from(u64::MAX);
                }
            }
        }
        1 => {
            for v in vals.iter_mut().take(s.selem as usize) {
                if s.load {
                    let x = read_elem(c, addr, s.size, el)?;
                    put_elem(v, s.index, s.size, x);
                } else {
                    write_elem(c, addr, s.size, get_elem(*v, s.index, s.size), el)?;
                }
                addr = addr.wrapping_add(ebytes);
            }
        }
        _ => {
            for v in vals.iter_mut().take(s.selem as usize) {
                let x = read_elem(c, addr, s.size, el)?;
                let Ok(r) =
                    simd::dup_general(Esize::from_size(s.size).unwrap_or(Esize::B), true, x)
                else {
                    return Err(c.undefined());
                };
                *v = if s.q { r } else { r & u128::from(u64::MAX) };
                addr = addr.wrapping_add(ebytes);
            }
        }
    }
    if s.load {
        for (r, v) in vals.iter().enumerate().take(usize::from(nregs)) {
            c.regs.v[usize::from(op.rd.wrapping_add(r as u8) & 31)] = *v;
        }
    }
    if s.post {
        let inc = if op.rm == 31 {
            addr.wrapping_sub(base)
        } else {
            c.x(op.rm)
        };
        c.set_x(op.rn, base.wrapping_add(inc));
    }
    Ok(())
}

fn struct_op(f: &Fields, s: &Shape) -> Op {
    let post = f.word & (1 << 23) != 0;
    let rm = if post { f.get("rm") } else { 31 };
    Op {
        rd: (f.get("rt") & 31) as u8,
        rn: r_sp(f.get("rn")),
        rm: if rm == 31 { 31 } else { r_zr(rm) },
        aux: Shape { post, ..*s }.pack(),
        ..Op::new(ldst_struct)
    }
}

/// Build LD1-LD4/ST1-ST4 (multiple structures), with post-index.
pub fn build_ldst_multi(f: &Fields) -> Option<Op> {
    let (regs, selem) = match f.get("opcode") {
        0b0000 => (4, 4),
        0b0010 => (4, 1),
        0b0100 => (3, 3),
        0b0110 => (3, 1),
        0b0111 => (1, 1),
        0b1000 => (2, 2),
        0b1010 => (2, 1),
        _ => return None,
    };
    let (q, size) = (f.get("q") == 1, f.get("size"));
    if selem > 1 && size == 3 && !q {
        return None;
    }
    Some(struct_op(
        f,
        &Shape {
            q,
            load: f.get("l") == 1,
            post: false,
            kind: 0,
            size,
            selem,
            regs,
            index: 0,
        },
    ))
}

/// Build LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R, with post-index.
pub fn build_ldst_single(f: &Fields) -> Option<Op> {
    let (q, l, r, opcode, s, size) = (
        f.get("q"),
        f.get("l") == 1,
        f.get("r"),
        f.get("opcode"),
        f.get("s"),
        f.get("size"),
    );
    let selem = (((opcode & 1) << 1) | r) + 1;
    let (kind, esize, index) = match opcode >> 1 {
        0 => (1, 0, (q << 3) | (s << 2) | size),
        1 if size & 1 == 0 => (1, 1, (q << 2) | (s << 1) | (size >> 1)),
        2 if size == 0 => (1, 2, (q << 1) | s),
        2 if size == 1 && s == 0 => (1, 3, q),
        3 if l && s == 0 => (2, size, 0),
        _ => return None,
    };
    Some(struct_op(
        f,
        &Shape {
            q: q == 1,
            load: l,
            post: false,
            kind,
            size: esize,
            selem,
            regs: selem,
            index,
        },
    ))
}
