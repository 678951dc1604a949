//! AdvSIMD integer: three same, three different, two-register misc, across
//! lanes, scalar pairwise and scalar DUP (vector and scalar forms).

use super::*;
use crate::decode::{Fields, Op};

// ---- three same ------------------------------------------------------------

fn three_same_op(u: bool, opcode: u32, size: u32, es: Esize, q: bool) -> Option<V> {
    use Binary as B;
    let bin = |x| v(Cat::Bin, idx(&B::ALL, x), es, q);
    Some(match opcode {
        0b00000 => bin(sel(u, B::Shadd, B::Uhadd)),
        0b00001 => v(
            Cat::Sat,
            idx(
                &Saturating::ALL,
                sel(u, Saturating::Sqadd, Saturating::Uqadd),
            ),
            es,
            q,
        ),
        0b00010 => bin(sel(u, B::Srhadd, B::Urhadd)),
        0b00011 => v(
            Cat::Logic,
            idx(
                &Logic::ALL,
                Logic::ALL[(usize::from(u) << 2) | size as usize],
            ),
            es,
            q,
        ),
        0b00100 => bin(sel(u, B::Shsub, B::Uhsub)),
        0b00101 => v(
            Cat::Sat,
            idx(
                &Saturating::ALL,
                sel(u, Saturating::Sqsub, Saturating::Uqsub),
            ),
            es,
            q,
        ),
        0b00110 => v(
            Cat::Cmp,
            idx(&Compare::ALL, sel(u, Compare::Gt, Compare::Hi)),
            es,
            q,
        ),
        0b00111 => v(
            Cat::Cmp,
            idx(&Compare::ALL, sel(u, Compare::Ge, Compare::Hs)),
            es,
            q,
        ),
        0b01000 => v(
            Cat::ShReg,
            idx(&ShiftReg::ALL, sel(u, ShiftReg::Sshl, ShiftReg::Ushl)),
            es,
            q,
        ),
        0b01001 => v(
            Cat::SatShReg,
            idx(
                &SatShiftReg::ALL,
                sel(u, SatShiftReg::Sqshl, SatShiftReg::Uqshl),
            ),
            es,
            q,
        ),
        0b01010 => v(
            Cat::ShReg,
            idx(&ShiftReg::ALL, sel(u, ShiftReg::Srshl, ShiftReg::Urshl)),
            es,
            q,
        ),
        0b01011 => v(
            Cat::SatShReg,
            idx(
                &SatShiftReg::ALL,
                sel(u, SatShiftReg::Sqrshl, SatShiftReg::Uqrshl),
            ),
            es,
            q,
        ),
        0b01100 => bin(sel(u, B::Smax, B::Umax)),
        0b01101 => bin(sel(u, B::Smin, B::Umin)),
        0b01110 => bin(sel(u, B::Sabd, B::Uabd)),
        0b01111 => v(
            Cat::Acc,
            idx(&Accumulate::ALL, sel(u, Accumulate::Saba, Accumulate::Uaba)),
            es,
            q,
        ),
        0b10000 => bin(sel(u, B::Add, B::Sub)),
        0b10001 => v(
            Cat::Cmp,
            idx(&Compare::ALL, sel(u, Compare::Tst, Compare::Eq)),
            es,
            q,
        ),
        0b10010 => v(
            Cat::Acc,
            idx(&Accumulate::ALL, sel(u, Accumulate::Mla, Accumulate::Mls)),
            es,
            q,
        ),
        0b10011 if u => {
            if size != 0 {
                return None;
            }
            v(Cat::Pmul, 0, es, q)
        }
        0b10011 => bin(B::Mul),
        0b10100 => v(
            Cat::Pair,
            idx(&Pairwise::ALL, sel(u, Pairwise::Smaxp, Pairwise::Umaxp)),
            es,
            q,
        ),
        0b10101 => v(
            Cat::Pair,
            idx(&Pairwise::ALL, sel(u, Pairwise::Sminp, Pairwise::Uminp)),
            es,
            q,
        ),
        0b10110 => v(Cat::Sqdmulh, u32::from(u), es, q),
        0b10111 if !u => v(Cat::Pair, idx(&Pairwise::ALL, Pairwise::Addp), es, q),
        _ => return None,
    })
}

/// Build the integer three-same group (vector); FP opcodes go to `vfp`.
pub fn build_three_same(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    if opcode >= 0b11000 {
        return crate::exec::vfp::build_three_same(f);
    }
    let es = esize(size)?;
    let o = three_same_op(u, opcode, size, es, q)?;
    finish(f, o, None, Some(f.get("rm")))
}

/// Build the scalar three-same group.
pub fn build_scalar_three_same(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    if opcode >= 0b11000 {
        return crate::exec::vfp::build_scalar_three_same(f);
    }
    let es = esize(size)?;
    let d_only = matches!(
        opcode,
        0b00110 | 0b00111 | 0b01000 | 0b01010 | 0b10000 | 0b10001
    );
    let ok = d_only || matches!(opcode, 0b00001 | 0b00101 | 0b01001 | 0b01011 | 0b10110);
    if !ok || (d_only && es != Esize::D) {
        return None;
    }
    let mut o = three_same_op(u, opcode, size, es, true)?;
    o.scalar = Some(es);
    finish(f, o, None, Some(f.get("rm")))
}

// ---- three different ---------------------------------------------------------

/// Build the three-different group (vector): long, wide, high-narrow,
/// doubling long, PMULL.
pub fn build_three_diff(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let es = esize(size)?;
    let long = |a, b| v(Cat::Long, idx(&Long::ALL, if u { b } else { a }), es, q);
    let hn = |a, b| {
        v(
            Cat::HighNarrow,
            idx(&HighNarrow::ALL, if u { b } else { a }),
            es,
            q,
        )
    };
    let o = match opcode {
        0b0000 => long(Long::Saddl, Long::Uaddl),
        0b0001 => long(Long::Saddw, Long::Uaddw),
        0b0010 => long(Long::Ssubl, Long::Usubl),
        0b0011 => long(Long::Ssubw, Long::Usubw),
        0b0100 => hn(HighNarrow::Addhn, HighNarrow::Raddhn),
        0b0101 => long(Long::Sabal, Long::Uabal),
        0b0110 => hn(HighNarrow::Subhn, HighNarrow::Rsubhn),
        0b0111 => long(Long::Sabdl, Long::Uabdl),
        0b1000 => long(Long::Smlal, Long::Umlal),
        0b1010 => long(Long::Smlsl, Long::Umlsl),
        0b1100 => long(Long::Smull, Long::Umull),
        0b1001 | 0b1011 | 0b1101 if !u => {
            let k = match opcode {
                0b1001 => DoublingLong::Sqdmlal,
                0b1011 => DoublingLong::Sqdmlsl,
                _ => DoublingLong::Sqdmull,
            };
            v(Cat::DLong, idx(&DoublingLong::ALL, k), es, q)
        }
        // The 64-bit PMULL is FEAT_PMULL, which the profile's
        // ID_AA64ISAR0_EL1 does not advertise: UNDEFINED.
        0b1110 if !u && es != Esize::D => v(Cat::Pmull, 0, es, q),
        _ => return None,
    };
    finish(f, o, None, Some(f.get("rm")))
}

/// Build the scalar three-different group: SQDMLAL/SQDMLSL/SQDMULL.
pub fn build_scalar_three_diff(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u"), f.get("size"), f.get("opcode"));
    let k = match (u, opcode) {
        (0, 0b1001) => DoublingLong::Sqdmlal,
        (0, 0b1011) => DoublingLong::Sqdmlsl,
        (0, 0b1101) => DoublingLong::Sqdmull,
        _ => return None,
    };
    let es = esize(size)?;
    let mut o = v(Cat::DLong, idx(&DoublingLong::ALL, k), es, false);
    o.scalar = Some(es.wider()?);
    finish(f, o, None, Some(f.get("rm")))
}

/// Build the scalar by-element group: SQDMULH/SQRDMULH, SQDMLAL/SQDMLSL/
/// SQDMULL; FP opcodes go to `vfp`.
pub fn build_scalar_by_elem(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u"), f.get("size"), f.get("opcode"));
    if matches!(opcode, 0b0001 | 0b0101 | 0b1001) {
        return crate::exec::vfp::build_scalar_by_elem(f);
    }
    let (h, l, m, rm) = (f.get("h"), f.get("l"), f.get("m"), f.get("rm"));
    let (index, rm) = match size {
        1 => ((h << 2) | (l << 1) | m, rm),
        2 => ((h << 1) | l, (m << 4) | rm),
        _ => return None,
    };
    let es = esize(size)?;
    let dl = |k| v(Cat::DLong, idx(&DoublingLong::ALL, k), es, false);
    let mut o = match (u, opcode) {
        (0, 0b0011) => dl(DoublingLong::Sqdmlal),
        (0, 0b0111) => dl(DoublingLong::Sqdmlsl),
        (0, 0b1011) => dl(DoublingLong::Sqdmull),
        (0, 0b1100) => v(Cat::Sqdmulh, 0, es, true),
        (0, 0b1101) => v(Cat::Sqdmulh, 1, es, true),
        _ => return None,
    };
    o.scalar = Some(if o.cat == Cat::DLong { es.wider()? } else { es });
    finish(f, o, Some(index), Some(rm))
}

// ---- two-register misc ------------------------------------------------------------

fn two_misc_op(u: bool, opcode: u32, size: u32, es: Esize, q: bool) -> Option<V> {
    let un = |x| Some(v(Cat::Un, idx(&Unary::ALL, x), es, q));
    let cz = |x| Some(v(Cat::CmpZ, idx(&CompareZero::ALL, x), es, q));
    let nar = |x| Some(v(Cat::Narrow, idx(&Narrow::ALL, x), es, q));
    match (opcode, u) {
        (0b00000, false) => un(Unary::Rev64),
        (0b00000, true) => un(Unary::Rev32),
        (0b00001, false) => un(Unary::Rev16),
        (0b00010, _) => Some(v(Cat::Alp, u32::from(!u), es, q)),
        (0b00011, _) => Some(v(Cat::SatAcc, u32::from(u), es, q)),
        (0b00100, false) => un(Unary::Cls),
        (0b00100, true) => un(Unary::Clz),
        (0b00101, false) if size == 0 => un(Unary::Cnt),
        (0b00101, true) if size == 0 => Some(v(Cat::Not, 0, es, q)),
        (0b00101, true) if size == 1 => un(Unary::Rbit).map(|mut o| {
            o.es = Esize::B;
            o
        }),
        (0b00110, _) => Some(v(Cat::Alp, u32::from(!u) | 2, es, q)),
        (0b00111, _) => Some(v(
            Cat::SatUn,
            idx(
                &SatUnary::ALL,
                if u { SatUnary::Sqneg } else { SatUnary::Sqabs },
            ),
            es,
            q,
        )),
        (0b01000, false) => cz(CompareZero::Gt),
        (0b01000, true) => cz(CompareZero::Ge),
        (0b01001, false) => cz(CompareZero::Eq),
        (0b01001, true) => cz(CompareZero::Le),
        (0b01010, false) => cz(CompareZero::Lt),
        (0b01011, false) => un(Unary::Abs),
        (0b01011, true) => un(Unary::Neg),
        (0b10011, true) => Some(v(Cat::ShllEs, 0, es, q)),
        (0b10010, false) => nar(Narrow::Xtn),
        (0b10010, true) => nar(Narrow::Sqxtun),
        (0b10100, false) => nar(Narrow::Sqxtn),
        (0b10100, true) => nar(Narrow::Uqxtn),
        _ => None,
    }
}

/// Build the two-register misc group (vector); FP opcodes go to `vfp`.
pub fn build_two_misc(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let es = esize(size)?;
    match two_misc_op(u, opcode, size, es, q) {
        Some(o) => finish(f, o, None, None),
        None => crate::exec::vfp::build_two_misc(f),
    }
}

/// Build the scalar two-register misc group.
pub fn build_scalar_two_misc(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    let es = esize(size)?;
    let d_only = matches!(opcode, 0b01000..=0b01011);
    let narrow = matches!(opcode, 0b10010 | 0b10100);
    let ok = d_only || narrow || matches!(opcode, 0b00011 | 0b00111);
    if !ok {
        return crate::exec::vfp::build_scalar_two_misc(f);
    }
    if (d_only && es != Esize::D) || (narrow && (opcode, u) == (0b10010, false)) {
        return None;
    }
    let mut o = two_misc_op(u, opcode, size, es, true)?;
    o.scalar = Some(es);
    finish(f, o, None, None)
}

// ---- across lanes and scalar pairwise -------------------------------------------------

/// Build the across-lanes group; FP opcodes go to `vfp`.
pub fn build_across(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let k = match (opcode, u) {
        (0b00011, false) => Across::Saddlv,
        (0b00011, true) => Across::Uaddlv,
        (0b01010, false) => Across::Smaxv,
        (0b01010, true) => Across::Umaxv,
        (0b11010, false) => Across::Sminv,
        (0b11010, true) => Across::Uminv,
        (0b11011, false) => Across::Addv,
        _ => return crate::exec::vfp::build_across(f),
    };
    let o = v(Cat::Across, idx(&Across::ALL, k), esize(size)?, q);
    finish(f, o, None, None)
}

/// Build the scalar pairwise group (ADDP; FP forms go to `vfp`).
pub fn build_scalar_pairwise(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u"), f.get("size"), f.get("opcode"));
    if (u, opcode) != (0, 0b11011) {
        return crate::exec::vfp::build_scalar_pairwise(f);
    }
    if size != 3 {
        return None;
    }
    let mut o = v(Cat::AddpScalar, 0, Esize::D, true);
    o.scalar = Some(Esize::D);
    finish(f, o, None, None)
}

/// Build DUP (element, scalar): `mov Bd, Vn.B[i]`.
pub fn build_scalar_dup(f: &Fields) -> Option<Op> {
    let imm5 = f.get("imm5");
    if imm5 & 0xf == 0 {
        return None;
    }
    let size = imm5.trailing_zeros();
    let es = esize(size)?;
    let mut o = v(Cat::DupScalar, 0, es, true);
    o.imm = imm5 >> (size + 1);
    o.scalar = Some(es);
    finish(f, o, None, None)
}
