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

/// The fused op for `first; second` if `first` is ADDS/SUBS (immediate, or
/// register without shift; CMP/CMN are the XZR-destination aliases) and
/// `second` is B.cond.
#[must_use]
pub fn fuse(first: u32, second: u32) -> Option<Op> {
    if second & 0xFF00_0010 != 0x5400_0000 {
        return None;
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
    fn branch_offset_is_sign_extended() {
        let op = fuse(0x6b03_005f, 0x54ff_ffc1).expect("fused"); // b.ne -8
        let imm19 = i64::from(((op.aux << 5) as i32) >> 13);
        assert_eq!(imm19 * 4, -8);
        assert_eq!(op.aux & 15, 1);
    }
}
