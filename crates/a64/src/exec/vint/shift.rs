//! AdvSIMD integer: shifts by immediate, by-element forms, permutes and
//! TBL/TBX.

use super::*;
use crate::cpu::Core;
use crate::decode::{Fields, Op, Step};

// ---- shift by immediate --------------------------------------------------------------

fn shift_op(u: bool, opcode: u32, immh: u32, immb: u32, q: bool) -> Option<V> {
    if immh == 0 {
        return None;
    }
    let size = 31 - immh.leading_zeros();
    let es = esize(size)?;
    let bits = es.bits();
    let immhb = (immh << 3) | immb;
    let right = 2 * bits - immhb;
    let left = immhb.wrapping_sub(bits);
    let sr = |a, b| {
        let mut o = v(
            Cat::Shr,
            idx(&ShiftRight::ALL, if u { b } else { a }),
            es,
            q,
        );
        o.imm = right;
        Some(o)
    };
    let with = |mut o: V, imm| {
        o.imm = imm;
        Some(o)
    };
    // Narrowing and lengthening forms name the narrow element size, as
    // `size` does here (immh<3> set is reserved for them: the simd crate
    // rejects D).
    match (opcode, u) {
        (0b00000, _) => sr(ShiftRight::Sshr, ShiftRight::Ushr),
        (0b00010, _) => sr(ShiftRight::Ssra, ShiftRight::Usra),
        (0b00100, _) => sr(ShiftRight::Srshr, ShiftRight::Urshr),
        (0b00110, _) => sr(ShiftRight::Srsra, ShiftRight::Ursra),
        (0b01000, true) => with(v(Cat::Sri, 0, es, q), right),
        (0b01010, false) => with(v(Cat::Shl, 0, es, q), left),
        (0b01010, true) => with(v(Cat::Sli, 0, es, q), left),
        (0b01100, true) => with(
            v(
                Cat::SatShl,
                idx(&SatShiftLeft::ALL, SatShiftLeft::Sqshlu),
                es,
                q,
            ),
            left,
        ),
        (0b01110, _) => with(
            v(
                Cat::SatShl,
                idx(
                    &SatShiftLeft::ALL,
                    if u {
                        SatShiftLeft::Uqshl
                    } else {
                        SatShiftLeft::Sqshl
                    },
                ),
                es,
                q,
            ),
            left,
        ),
        (0b10000 | 0b10001, false) => with(v(Cat::Shrn, opcode & 1, es, q), right),
        (0b10000..=0b10011, _) => {
            let k = match (opcode, u) {
                (0b10000, true) => SatShiftNarrow::Sqshrun,
                (0b10001, true) => SatShiftNarrow::Sqrshrun,
                (0b10010, false) => SatShiftNarrow::Sqshrn,
                (0b10010, true) => SatShiftNarrow::Uqshrn,
                (0b10011, false) => SatShiftNarrow::Sqrshrn,
                _ => SatShiftNarrow::Uqrshrn,
            };
            with(v(Cat::SatShrn, idx(&SatShiftNarrow::ALL, k), es, q), right)
        }
        (0b10100, _) => with(v(Cat::Shll, u32::from(!u), es, q), left),
        _ => None,
    }
}

/// Build the shift-by-immediate group (vector); FP conversions go to `vfp`.
pub fn build_shift_imm(f: &Fields) -> Option<Op> {
    let (q, u, immh, immb, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("immh"),
        f.get("immb"),
        f.get("opcode"),
    );
    if matches!(opcode, 0b11100 | 0b11111) {
        return crate::exec::vfp::build_shift_imm(f);
    }
    let o = shift_op(u, opcode, immh, immb, q)?;
    finish(f, o, None, None)
}

/// Build the scalar shift-by-immediate group.
pub fn build_scalar_shift_imm(f: &Fields) -> Option<Op> {
    let (u, immh, immb, opcode) = (
        f.get("u") == 1,
        f.get("immh"),
        f.get("immb"),
        f.get("opcode"),
    );
    if matches!(opcode, 0b11100 | 0b11111) {
        return crate::exec::vfp::build_scalar_shift_imm(f);
    }
    let d_only = matches!(
        opcode,
        0b00000 | 0b00010 | 0b00100 | 0b00110 | 0b01000 | 0b01010
    );
    let narrow = matches!(opcode, 0b10000..=0b10011);
    let sat = matches!(opcode, 0b01100 | 0b01110);
    if !(d_only || narrow || sat) || (narrow && opcode <= 0b10001 && !u) {
        return None;
    }
    if d_only && immh & 8 == 0 {
        return None;
    }
    let mut o = shift_op(u, opcode, immh, immb, true)?;
    o.scalar = Some(o.es);
    finish(f, o, None, None)
}

// ---- by element ---------------------------------------------------------------------

/// Build the integer vector-by-element group; FP opcodes go to `vfp`.
pub fn build_by_elem(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let (h, l, m, rm) = (f.get("h"), f.get("l"), f.get("m"), f.get("rm"));
    if matches!(opcode, 0b0001 | 0b0101 | 0b1001) {
        return crate::exec::vfp::build_by_elem(f);
    }
    let (index, rm) = match size {
        1 => ((h << 2) | (l << 1) | m, rm),
        2 => ((h << 1) | l, (m << 4) | rm),
        _ => return None,
    };
    let es = esize(size)?;
    let long = |a, b| v(Cat::Long, idx(&Long::ALL, if u { b } else { a }), es, q);
    let o = match (opcode, u) {
        (0b0000, true) => v(Cat::Acc, idx(&Accumulate::ALL, Accumulate::Mla), es, q),
        (0b0100, true) => v(Cat::Acc, idx(&Accumulate::ALL, Accumulate::Mls), es, q),
        (0b1000, false) => v(Cat::Bin, idx(&Binary::ALL, Binary::Mul), es, q),
        (0b0010, _) => long(Long::Smlal, Long::Umlal),
        (0b0110, _) => long(Long::Smlsl, Long::Umlsl),
        (0b1010, _) => long(Long::Smull, Long::Umull),
        (0b0011, false) => v(
            Cat::DLong,
            idx(&DoublingLong::ALL, DoublingLong::Sqdmlal),
            es,
            q,
        ),
        (0b0111, false) => v(
            Cat::DLong,
            idx(&DoublingLong::ALL, DoublingLong::Sqdmlsl),
            es,
            q,
        ),
        (0b1011, false) => v(
            Cat::DLong,
            idx(&DoublingLong::ALL, DoublingLong::Sqdmull),
            es,
            q,
        ),
        (0b1100, false) => v(Cat::Sqdmulh, 0, es, q),
        (0b1101, false) => v(Cat::Sqdmulh, 1, es, q),
        _ => return None,
    };
    finish(f, o, Some(index), Some(rm))
}

// ---- permutes, TBL -----------------------------------------------------------------------

/// Build UZP1/UZP2/TRN1/TRN2/ZIP1/ZIP2.
pub fn build_permute(f: &Fields) -> Option<Op> {
    let k = match f.get("opcode") {
        0b001 => Permute::Uzp1,
        0b010 => Permute::Trn1,
        0b011 => Permute::Zip1,
        0b101 => Permute::Uzp2,
        0b110 => Permute::Trn2,
        0b111 => Permute::Zip2,
        _ => return None,
    };
    let o = v(
        Cat::Perm,
        idx(&Permute::ALL, k),
        esize(f.get("size"))?,
        f.get("q") == 1,
    );
    finish(f, o, None, Some(f.get("rm")))
}

/// `aux`: q | tbx << 1 | len << 2.
fn tbl(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let len = ((op.aux >> 2) & 3) as u8 + 1;
    let mut table = [0u128; 4];
    for (i, t) in table.iter_mut().enumerate().take(usize::from(len)) {
        *t = c.regs.v[usize::from((op.rn + i as u8) & 31)];
    }
    let d = c.regs.v[usize::from(op.rd & 31)];
    let idx = c.regs.v[usize::from(op.rm & 31)];
    match simd::tbl(
        op.aux & 2 != 0,
        op.aux & 1 != 0,
        d,
        &table[..usize::from(len)],
        idx,
    ) {
        Ok(r) => {
            c.regs.v[usize::from(op.rd & 31)] = r;
            Ok(())
        }
        Err(_) => Err(c.undefined()),
    }
}

/// Build TBL/TBX.
pub fn build_tbl(f: &Fields) -> Option<Op> {
    Some(Op {
        rd: (f.get("rd") & 31) as u8,
        rn: (f.get("rn") & 31) as u8,
        rm: (f.get("rm") & 31) as u8,
        aux: f.get("q") | (f.get("op") << 1) | (f.get("len") << 2),
        ..Op::new(tbl)
    })
}
