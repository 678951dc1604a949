//! Data processing (immediate): PC-relative addressing, add/subtract,
//! logical, move wide, bitfield, extract.

use super::{add_flags32, add_flags64, logic_flags, sized};
use crate::cpu::Core;
use crate::decode::{Fields, Op, Step};
use crate::state::{r_sp, r_zr, w_zr};

/// DecodeBitMasks(): (wmask, tmask) for the logical-immediate and bitfield
/// encodings, or `None` for a reserved value.
#[must_use]
pub fn decode_bit_masks(
    n: u32,
    imms: u32,
    immr: u32,
    immediate: bool,
    datasize: u32,
) -> Option<(u64, u64)> {
    let combined = (n << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 || datasize < (1 << len) {
        return None;
    }
    let levels = (1u32 << len) - 1;
    if immediate && imms & levels == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let diff = s.wrapping_sub(r) & 0x3f;
    let esize = 1u32 << len;
    let d = diff & (esize - 1);
    let ones = |k: u32| if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    let emask = ones(esize);
    let welem = ones(s + 1);
    let telem = ones(d + 1);
    let rot = if r == 0 {
        welem
    } else {
        ((welem >> r) | (welem << (esize - r))) & emask
    };
    let mut wmask = 0u64;
    let mut tmask = 0u64;
    let mut i = 0;
    while i < datasize {
        wmask |= rot << i;
        tmask |= telem << i;
        i += esize;
    }
    Some((wmask, tmask))
}

fn adr(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, c.regs.pc.wrapping_add(op.imm));
    Ok(())
}

fn adrp(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, (c.regs.pc & !0xfff).wrapping_add(op.imm));
    Ok(())
}

/// Build ADR/ADRP.
pub fn build_adr(f: &Fields) -> Option<Op> {
    let imm = (f.sext("immhi") << 2) | i64::from(f.get("immlo"));
    let page = f.get("op") == 1;
    Some(Op {
        rd: w_zr(f.get("rd")),
        imm: if page { (imm << 12) as u64 } else { imm as u64 },
        ..Op::new(if page { adrp } else { adr })
    })
}

fn add_imm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let r = c.x(op.rn).wrapping_add(op.imm);
    c.set_x(op.rd, sized::<SF>(r));
    Ok(())
}

fn adds_imm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    // SUBS is encoded at decode time as a + !imm + 1 (aux = carry in).
    let a = c.x(op.rn);
    let (r, f) = if SF {
        add_flags64(a, op.imm, u64::from(op.aux))
    } else {
        add_flags32(a, op.imm, u64::from(op.aux))
    };
    c.regs.nzcv = f;
    c.set_x(op.rd, r);
    Ok(())
}

/// Build ADD/ADDS/SUB/SUBS (immediate).
pub fn build_add_imm(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let sub = f.get("op") == 1;
    let s = f.get("s") == 1;
    let imm = u64::from(f.get("imm12")) << (12 * f.get("sh"));
    let rn = r_sp(f.get("rn"));
    if s {
        let b = if sub { !imm } else { imm };
        return Some(Op {
            rd: w_zr(f.get("rd")),
            rn,
            imm: if sf { b } else { b & 0xffff_ffff },
            aux: u32::from(sub),
            ..Op::new(if sf {
                adds_imm::<true>
            } else {
                adds_imm::<false>
            })
        });
    }
    Some(Op {
        rd: r_sp(f.get("rd")),
        rn,
        imm: if sub { imm.wrapping_neg() } else { imm },
        ..Op::new(if sf {
            add_imm::<true>
        } else {
            add_imm::<false>
        })
    })
}

fn and_imm(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, c.x(op.rn) & op.imm);
    Ok(())
}

fn orr_imm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, sized::<SF>(c.x(op.rn) | op.imm));
    Ok(())
}

fn eor_imm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, sized::<SF>(c.x(op.rn) ^ op.imm));
    Ok(())
}

fn ands_imm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let r = sized::<SF>(c.x(op.rn) & op.imm);
    c.regs.nzcv = logic_flags::<SF>(r);
    c.set_x(op.rd, r);
    Ok(())
}

/// Build AND/ORR/EOR/ANDS (immediate).
pub fn build_logic_imm(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let n = f.get("n");
    if !sf && n == 1 {
        return None;
    }
    let (imm, _) = decode_bit_masks(
        n,
        f.get("imms"),
        f.get("immr"),
        true,
        if sf { 64 } else { 32 },
    )?;
    let rn = r_zr(f.get("rn"));
    let opc = f.get("opc");
    let h: crate::decode::Handler = match (opc, sf) {
        (0, _) => and_imm,
        (1, true) => orr_imm::<true>,
        (1, false) => orr_imm::<false>,
        (2, true) => eor_imm::<true>,
        (2, false) => eor_imm::<false>,
        (_, true) => ands_imm::<true>,
        (_, false) => ands_imm::<false>,
    };
    let rd = if opc == 3 {
        w_zr(f.get("rd"))
    } else {
        r_sp(f.get("rd"))
    };
    Some(Op {
        rd,
        rn,
        imm,
        ..Op::new(h)
    })
}

fn mov_const(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, op.imm);
    Ok(())
}

fn movk<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let sh = op.aux & 63;
    let v = (c.x(op.rd) & !(0xffffu64 << sh)) | (op.imm << sh);
    c.set_x(op.rd, sized::<SF>(v));
    Ok(())
}

/// Build MOVN/MOVZ/MOVK.
pub fn build_movw(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let hw = f.get("hw");
    if !sf && hw >= 2 {
        return None;
    }
    let pos = hw * 16;
    let imm16 = u64::from(f.get("imm16"));
    let rd = w_zr(f.get("rd"));
    match f.get("opc") {
        0 => Some(Op {
            rd,
            imm: if sf {
                !(imm16 << pos)
            } else {
                !(imm16 << pos) & 0xffff_ffff
            },
            ..Op::new(mov_const)
        }),
        2 => Some(Op {
            rd,
            imm: imm16 << pos,
            ..Op::new(mov_const)
        }),
        3 => Some(Op {
            rd,
            imm: imm16,
            aux: pos,
            ..Op::new(if sf { movk::<true> } else { movk::<false> })
        }),
        _ => None,
    }
}

/// Rotate right within the operation size.
#[inline(always)]
fn ror<const SF: bool>(v: u64, r: u32) -> u64 {
    if SF {
        v.rotate_right(r)
    } else {
        u64::from((v as u32).rotate_right(r))
    }
}

fn ubfm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    // imm = wmask & tmask; aux = R.
    c.set_x(op.rd, ror::<SF>(c.x(op.rn), op.aux) & op.imm);
    Ok(())
}

fn sbfm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    // imm = wmask, rm = tmask-width (d + 1), aux = R | S << 8.
    let src = c.x(op.rn);
    let r = op.aux & 63;
    let s = (op.aux >> 8) & 63;
    let bot = ror::<SF>(src, r) & op.imm;
    let tmask = tmask_of::<SF>(op.rm);
    let top = if (src >> s) & 1 != 0 { u64::MAX } else { 0 };
    c.set_x(op.rd, sized::<SF>((top & !tmask) | (bot & tmask)));
    Ok(())
}

fn bfm<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let src = c.x(op.rn);
    let dst = c.x(op.ra);
    let bot = (dst & !op.imm) | (ror::<SF>(src, op.aux & 63) & op.imm);
    let tmask = tmask_of::<SF>(op.rm);
    c.set_x(op.rd, sized::<SF>((dst & !tmask) | (bot & tmask)));
    Ok(())
}

/// tmask of a bitfield op with esize = datasize: d+1 low ones.
#[inline(always)]
fn tmask_of<const SF: bool>(width: u8) -> u64 {
    let w = u32::from(width);
    let m = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    sized::<SF>(m)
}

/// Build SBFM/BFM/UBFM.
pub fn build_bitfield(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let n = f.get("n");
    let (immr, imms) = (f.get("immr"), f.get("imms"));
    if (sf && n != 1) || (!sf && (n != 0 || immr >= 32 || imms >= 32)) {
        return None;
    }
    let (wmask, tmask) = decode_bit_masks(n, imms, immr, false, if sf { 64 } else { 32 })?;
    let size = if sf { 64 } else { 32 };
    let d = imms.wrapping_sub(immr) & (size - 1);
    let rd = w_zr(f.get("rd"));
    let rn = r_zr(f.get("rn"));
    let op = match f.get("opc") {
        0 => Op {
            rd,
            rn,
            imm: wmask,
            rm: (d + 1) as u8,
            aux: immr | (imms << 8),
            ..Op::new(if sf { sbfm::<true> } else { sbfm::<false> })
        },
        1 => Op {
            rd,
            rn,
            ra: r_zr(f.get("rd")),
            imm: wmask,
            rm: (d + 1) as u8,
            aux: immr,
            ..Op::new(if sf { bfm::<true> } else { bfm::<false> })
        },
        2 => Op {
            rd,
            rn,
            imm: wmask & tmask,
            aux: immr,
            ..Op::new(if sf { ubfm::<true> } else { ubfm::<false> })
        },
        _ => return None,
    };
    Some(op)
}

fn extr<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let (hi, lo) = (c.x(op.rn), c.x(op.rm));
    let lsb = op.aux;
    let r = if SF {
        if lsb == 0 {
            lo
        } else {
            (lo >> lsb) | (hi << (64 - lsb))
        }
    } else {
        let v = ((hi & 0xffff_ffff) << 32) | (lo & 0xffff_ffff);
        (v >> lsb) & 0xffff_ffff
    };
    c.set_x(op.rd, r);
    Ok(())
}

/// Build EXTR.
pub fn build_extr(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let imms = f.get("imms");
    if f.get("n") != f.get("sf") || (!sf && imms >= 32) {
        return None;
    }
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        aux: imms,
        ..Op::new(if sf { extr::<true> } else { extr::<false> })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_masks_match_known_immediates() {
        // orr x0, xzr, #0x5555555555555555: N=0 immr=0 imms=0b111100
        assert_eq!(
            decode_bit_masks(0, 0b11_1100, 0, true, 64).map(|m| m.0),
            Some(0x5555_5555_5555_5555)
        );
        // and w0, w0, #0xff: N=0 immr=0 imms=7
        assert_eq!(decode_bit_masks(0, 7, 0, true, 32).map(|m| m.0), Some(0xff));
        // all-ones element is reserved for immediates
        assert_eq!(decode_bit_masks(1, 63, 0, true, 64), None);
        // N=1, imms=0, immr=1: 64-bit element 1 rotated right by 1
        assert_eq!(
            decode_bit_masks(1, 0, 1, true, 64).map(|m| m.0),
            Some(1 << 63)
        );
    }
}
