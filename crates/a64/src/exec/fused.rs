//! Decode-time fusion of a flag-setting add/subtract followed by a
//! conditional branch (`CMP/CMN/ADDS/SUBS; B.cond`), the pair that closes
//! most loops. The fused op sits
//! in the compare's slot and does both; the branch keeps its own slot for
//! code that jumps straight to it. Invalidating a slot also drops the one
//! before it (see [`crate::cache::CodeCache::invalidate`]), so a patched
//! branch never survives inside a fused op.
//!
//! Neither instruction can fault, so fusion is architecturally invisible
//! except that a budget can end one instruction late.
//!
//! Also fused: a zero-extending load (`LDRB/LDRH/LDR`, unsigned offset or
//! register offset with LSL) followed by `CBZ/CBNZ`, the pair that scans
//! memory (`while (p[i] == 0)`, string loops). The load runs exactly as
//! alone: if it faults, the exception is taken at its PC and the branch
//! never runs.

use super::{add_flags32, add_flags64};
use crate::cpu::Core;
use crate::decode::{Flow, Handler, Op, Step};
use crate::state::{cond_holds, r_sp, r_zr, w_zr};

#[inline(always)]
fn branch(c: &mut Core, op: &Op, flags: u32) -> Step {
    c.regs.nzcv = flags;
    // The branch retires too.
    c.icount += 1;
    let pc = c.regs.pc;
    c.regs.pc = if cond_holds(op.aux & 15, flags) {
        let imm19 = i64::from(((op.aux << 5) as i32) >> 13);
        pc.wrapping_add(4).wrapping_add((imm19 * 4) as u64)
    } else {
        pc.wrapping_add(8)
    };
    Err(Flow::Branch)
}

fn cmp_imm_bcond<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let carry = u64::from((op.aux >> 4) & 1);
    let a = c.x(op.rn);
    let (r, f) = if SF {
        add_flags64(a, op.imm, carry)
    } else {
        add_flags32(a, op.imm, carry)
    };
    c.set_x(op.rd, r);
    branch(c, op, f)
}

fn cmp_reg_bcond<const SF: bool, const SUB: bool>(c: &mut Core, op: &Op) -> Step {
    let a = c.x(op.rn);
    let b = c.x(op.rm);
    let (b, carry) = if SUB { (!b, 1) } else { (b, 0) };
    let (r, f) = if SF {
        add_flags64(a, b, carry)
    } else {
        add_flags32(a, b, carry)
    };
    c.set_x(op.rd, r);
    branch(c, op, f)
}

/// `ADD/SUB Xd, Xd, #imm; CMP/CMN/ADDS/SUBS (register); B.cond`: the
/// counted-loop step. `ra` the incremented register, `imm` its immediate;
/// `aux` bit 5 subtract, bit 6 64-bit, the rest as the compare's.
fn step_cmp_bcond<const SF: bool, const SUB: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.ra);
    let v = if (op.aux >> 5) & 1 == 1 {
        v.wrapping_sub(op.imm)
    } else {
        v.wrapping_add(op.imm)
    };
    c.set_x(
        op.ra,
        if (op.aux >> 6) & 1 == 1 {
            v
        } else {
            v & 0xffff_ffff
        },
    );
    // The add retires here, and the compare and branch as the pair at the
    // next address (the branch's offset is from its own PC).
    c.icount += 1;
    c.regs.pc = c.regs.pc.wrapping_add(4);
    cmp_reg_bcond::<SF, SUB>(c, op)
}

/// Which fusion [`decode_words`] applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fusion {
    /// None: the op is the word's own.
    None,
    /// The counted-loop step: three words ([`fuse3`]).
    Step,
    /// A pair ([`fuse`]).
    Pair,
}

/// The op the interpreter keeps for the word `w0` followed by `w1` and `w2` (`None` past
/// the page end): the three-word fusion if it applies, else the pair, else the word alone.
#[must_use]
pub fn decode_words(w0: u32, w1: Option<u32>, w2: Option<u32>) -> (Op, Fusion) {
    if let Some(op) = w1.zip(w2).and_then(|(a, b)| fuse3(w0, a, b)) {
        return (op, Fusion::Step);
    }
    if let Some(op) = w1.and_then(|a| fuse(w0, a)) {
        return (op, Fusion::Pair);
    }
    (crate::decode::decoder().decode(w0), Fusion::None)
}

/// The fused op for `first; second; third` if `first` is an ADD/SUB
/// (immediate, no flags) of a register to itself and `second; third` a
/// register compare and B.cond that [`fuse`] fuses.
#[must_use]
pub fn fuse3(first: u32, second: u32, third: u32) -> Option<Op> {
    // ADD/SUB (immediate): sf op 0 100010 sh imm12 Rn Rd, S = 0.
    if first & 0x3F80_0000 != 0x1100_0000 {
        return None;
    }
    let (rd, rn) = (first & 31, (first >> 5) & 31);
    // Rd = Rn, and not SP (31): `i += k`.
    if rd != rn || rd == 31 {
        return None;
    }
    // The compare must be the register form (its immediate slot holds ours).
    if second & 0x3FE0_FC00 != 0x2B00_0000 {
        return None;
    }
    let pair = fuse(second, third)?;
    let sf = second >> 31 == 1;
    let sub = (second >> 30) & 1 == 1;
    let h: Handler = match (sf, sub) {
        (false, false) => step_cmp_bcond::<false, false>,
        (false, true) => step_cmp_bcond::<false, true>,
        (true, false) => step_cmp_bcond::<true, false>,
        (true, true) => step_cmp_bcond::<true, true>,
    };
    let imm = u64::from((first >> 10) & 0xfff) << (12 * ((first >> 22) & 1));
    Some(Op {
        ra: rd as u8,
        imm,
        aux: pair.aux | (((first >> 30) & 1) << 5) | ((first >> 31) << 6),
        ..Op { h, ..pair }
    })
}

/// Load then CBZ/CBNZ: `aux` bits 8 (sf), 9 (nz), 12-30 (imm19); `ra` the
/// tested register; the rest as the load's own op.
fn ld_cbz<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    super::ldst::ld::<M, N, { super::ldst::ZX }>(c, op)?;
    // The branch retires too.
    c.icount += 1;
    let v = c.x(op.ra);
    let v = if (op.aux >> 8) & 1 == 1 {
        v
    } else {
        v & 0xffff_ffff
    };
    let nz = (op.aux >> 9) & 1 == 1;
    let pc = c.regs.pc;
    c.regs.pc = if (v == 0) != nz {
        let imm19 = i64::from(((op.aux << 1) as i32) >> 13);
        pc.wrapping_add(4).wrapping_add((imm19 * 4) as u64)
    } else {
        pc.wrapping_add(8)
    };
    Err(Flow::Branch)
}

/// The fused op for a zero-extending integer load (unsigned offset, or
/// register offset LSL/UXTX) followed by CBZ/CBNZ.
fn fuse_load_cbz(first: u32, second: u32) -> Option<Op> {
    use super::ldst::{OFF, REG_LSL};
    // CBZ/CBNZ: sf 011010 op imm19 Rt.
    if second & 0x7E00_0000 != 0x3400_0000 {
        return None;
    }
    // LDR (integer, zero-extending): size 111 0 01 01 imm12 Rn Rt (unsigned
    // offset) or size 111 0 00 01 1 Rm 011 S 10 Rn Rt (register, LSL).
    let size = first >> 30;
    let unsigned = first & 0x3FC0_0000 == 0x3940_0000;
    let register = first & 0x3FE0_EC00 == 0x3860_6800;
    if !unsigned && !register {
        return None;
    }
    let h: Handler = match (unsigned, size) {
        (true, 0) => ld_cbz::<OFF, 1>,
        (true, 1) => ld_cbz::<OFF, 2>,
        (true, 2) => ld_cbz::<OFF, 4>,
        (true, _) => ld_cbz::<OFF, 8>,
        (false, 0) => ld_cbz::<REG_LSL, 1>,
        (false, 1) => ld_cbz::<REG_LSL, 2>,
        (false, 2) => ld_cbz::<REG_LSL, 4>,
        (false, _) => ld_cbz::<REG_LSL, 8>,
    };
    let branch =
        ((second >> 31) << 8) | (((second >> 24) & 1) << 9) | (((second >> 5) & 0x7_ffff) << 12);
    let mut op = Op {
        rd: w_zr(first & 31),
        rn: r_sp((first >> 5) & 31),
        ra: r_zr(second & 31),
        aux: branch,
        ..Op::new(h)
    };
    if unsigned {
        op.imm = u64::from((first >> 10) & 0xfff) << size;
    } else {
        op.rm = r_zr((first >> 16) & 31);
        // S: the index is scaled by the access size.
        op.aux |= if (first >> 12) & 1 == 1 { size } else { 0 };
    }
    Some(op)
}

/// The fused op for `first; second` if `first` is ADDS/SUBS (immediate, or
/// register without shift; CMP/CMN are the XZR-destination aliases) and
/// `second` is B.cond, or `first` a zero-extending load and `second`
/// CBZ/CBNZ.
#[must_use]
pub fn fuse(first: u32, second: u32) -> Option<Op> {
    if second & 0xFF00_0010 != 0x5400_0000 {
        return fuse_load_cbz(first, second);
    }
    let cond = second & 15;
    let imm19 = (second >> 5) & 0x7_ffff;
    let sf = first >> 31 == 1;
    let sub = (first >> 30) & 1 == 1;
    let aux = cond | (u32::from(sub) << 4) | (imm19 << 8);
    let rn = (first >> 5) & 31;
    let rd = w_zr(first & 31);
    if first & 0x3F80_0000 == 0x3100_0000 {
        // ADDS/SUBS (immediate).
        let imm = u64::from((first >> 10) & 0xfff) << (12 * ((first >> 22) & 1));
        let b = if sub { !imm } else { imm };
        let h: Handler = if sf {
            cmp_imm_bcond::<true>
        } else {
            cmp_imm_bcond::<false>
        };
        return Some(Op {
            rd,
            rn: r_sp(rn),
            imm: if sf { b } else { b & 0xffff_ffff },
            aux,
            ..Op::new(h)
        });
    }
    if first & 0x3FE0_FC00 == 0x2B00_0000 {
        // ADDS/SUBS (shifted register, LSL #0).
        let h: Handler = match (sf, sub) {
            (false, false) => cmp_reg_bcond::<false, false>,
            (false, true) => cmp_reg_bcond::<false, true>,
            (true, false) => cmp_reg_bcond::<true, false>,
            (true, true) => cmp_reg_bcond::<true, true>,
        };
        return Some(Op {
            rd,
            rn: r_zr(rn),
            rm: r_zr((first >> 16) & 31),
            aux,
            ..Op::new(h)
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_only_compare_then_bcond() {
        // cmp w2, w3 ; b.ne .-8
        assert!(fuse(0x6b03_005f, 0x54ff_ffc1).is_some());
        // cmp x1, #16 ; b.hi .+8
        assert!(fuse(0xf100_403f, 0x5400_0048).is_some());
        // subs x0, x0, #1 ; b.ne
        assert!(fuse(0xf100_0400, 0x5400_0041).is_some());
        // add x0, x0, #1 (no flags) ; b.ne
        assert!(fuse(0x9100_0400, 0x5400_0041).is_none());
        // cmp x1, x2, lsl #1 ; b.eq: shifted, not fused
        assert!(fuse(0xeb02_043f, 0x5400_0040).is_none());
        // cmp ; b (unconditional)
        assert!(fuse(0x6b03_005f, 0x1400_0002).is_none());
    }

    #[test]
    fn fuses_the_counted_loop_step() {
        // add x1, x1, #1 ; cmp x20, x1 ; b.eq .+0x54
        let op = fuse3(0x9100_0421, 0xeb01_029f, 0x5400_02a0).expect("fused");
        assert_eq!((op.ra, op.imm, op.rn, op.rm), (1, 1, 20, 1));
        assert_eq!((op.aux >> 5) & 3, 2, "add, 64-bit");
        assert_eq!(op.aux & 15, 0, "eq");
        // sub w3, w3, #2 ; cmp w3, w4 ; b.ne
        let op = fuse3(0x5100_0863, 0x6b04_007f, 0x5400_0041).expect("fused");
        assert_eq!((op.ra, op.imm), (3, 2));
        assert_eq!((op.aux >> 5) & 3, 1, "sub, 32-bit");
        // add x1, x2, #1 (another register) ; cmp ; b.eq: not fused
        assert!(fuse3(0x9100_0441, 0xeb01_029f, 0x5400_02a0).is_none());
        // add sp, sp, #16 ; cmp ; b.eq: not fused
        assert!(fuse3(0x9100_43ff, 0xeb01_029f, 0x5400_02a0).is_none());
        // add x1, x1, #1 ; cmp x1, #8 (immediate) ; b.ne: not fused
        assert!(fuse3(0x9100_0421, 0xf100_203f, 0x5400_0041).is_none());
        // adds x1, x1, #1 (flags) ; cmp ; b.eq: not fused
        assert!(fuse3(0xb100_0421, 0xeb01_029f, 0x5400_02a0).is_none());
    }

    #[test]
    fn fuses_zero_extending_loads_then_cbz() {
        // ldrb w2, [x26, x1] ; cbz w2, .-16
        let op = fuse(0x3861_6b42, 0x34ff_ff82).expect("fused");
        assert_eq!((op.rd, op.rn, op.rm, op.ra), (2, 26, 1, 2));
        assert_eq!(op.aux & 7, 0, "no index scaling");
        let imm19 = i64::from(((op.aux << 1) as i32) >> 13);
        assert_eq!(imm19 * 4, -16);
        assert_eq!((op.aux >> 8) & 3, 0, "cbz, 32-bit");
        // ldr x3, [x0, #16] ; cbnz x3, .+8
        let op = fuse(0xf940_0803, 0xb500_0043).expect("fused");
        assert_eq!((op.rd, op.rn, op.imm), (3, 0, 16));
        assert_eq!((op.aux >> 8) & 3, 3, "cbnz, 64-bit");
        // ldr w0, [x1, x2, lsl #2] ; cbz w0: the index scales by 4
        assert_eq!(fuse(0xb862_7820, 0x3400_0040).expect("fused").aux & 7, 2);
        // ldrsb w0, [x1] (sign-extending) ; cbz w0: not fused
        assert!(fuse(0x39c0_0020, 0x3400_0040).is_none());
        // ldrb w0, [x1], #1 (post-index) ; cbz w0: not fused
        assert!(fuse(0x3840_1420, 0x3400_0040).is_none());
        // ldr w0, [x1, w2, sxtw] ; cbz w0: an extending index, not fused
        assert!(fuse(0xb862_c820, 0x3400_0040).is_none());
        // ldr q0, [x1] (SIMD&FP) ; cbz w0: not fused
        assert!(fuse(0x3dc0_0020, 0x3400_0040).is_none());
    }

    #[test]
    fn branch_offset_is_sign_extended() {
        let op = fuse(0x6b03_005f, 0x54ff_ffc1).expect("fused"); // b.ne -8
        let imm19 = i64::from(((op.aux << 5) as i32) >> 13);
        assert_eq!(imm19 * 4, -8);
        assert_eq!(op.aux & 15, 1);
    }
}
