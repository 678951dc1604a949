//! AdvSIMD integer data processing, vector and scalar forms: three same,
//! three different, two-register misc, across lanes, shift by immediate,
//! by element, permutes, TBL/TBX. The semantics are the `simd` crate's;
//! this module maps encodings to its operations and owns the register-file
//! effects (scalar forms keep only element 0, FPSR.QC accumulates).
//!
//! An operation is pre-decoded into a category and an index into that
//! category's `ALL` list (`Op.aux`), plus an immediate (`Op.imm`: shift
//! amount or element index). Build functions run the operation once on zero
//! operands, so every arrangement the `simd` crate reserves is UNDEFINED at
//! decode time and the handlers never see one.

use simd::{
    Accumulate, Across, Binary, Compare, CompareZero, DoublingLong, Esize, HighNarrow, Logic, Long,
    Narrow, Pairwise, Permute, SatShiftLeft, SatShiftNarrow, SatShiftReg, SatUnary, Saturating,
    ShiftReg, ShiftRight, Unary,
};

use super::simd::check_fp;
use crate::cpu::Core;
use crate::decode::{Fields, Op, Step};

/// Operation categories (`Op.aux` bits 4..10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Cat {
    Bin,
    Acc,
    Un,
    Sat,
    Cmp,
    CmpZ,
    Logic,
    Not,
    Pair,
    AddpScalar,
    Across,
    Alp,
    SatUn,
    SatAcc,
    Shl,
    Shr,
    Sli,
    Sri,
    Shll,
    Shrn,
    SatShl,
    SatShrn,
    ShReg,
    SatShReg,
    Narrow,
    Long,
    HighNarrow,
    Sqdmulh,
    DLong,
    Pmul,
    Pmull,
    Perm,
    DupScalar,
    ShllEs,
}

const CATS: [Cat; 34] = [
    Cat::Bin,
    Cat::Acc,
    Cat::Un,
    Cat::Sat,
    Cat::Cmp,
    Cat::CmpZ,
    Cat::Logic,
    Cat::Not,
    Cat::Pair,
    Cat::AddpScalar,
    Cat::Across,
    Cat::Alp,
    Cat::SatUn,
    Cat::SatAcc,
    Cat::Shl,
    Cat::Shr,
    Cat::Sli,
    Cat::Sri,
    Cat::Shll,
    Cat::Shrn,
    Cat::SatShl,
    Cat::SatShrn,
    Cat::ShReg,
    Cat::SatShReg,
    Cat::Narrow,
    Cat::Long,
    Cat::HighNarrow,
    Cat::Sqdmulh,
    Cat::DLong,
    Cat::Pmul,
    Cat::Pmull,
    Cat::Perm,
    Cat::DupScalar,
    Cat::ShllEs,
];

/// `a` for the signed (U = 0) form, `b` for the unsigned one.
fn sel<T>(u: bool, a: T, b: T) -> T {
    if u {
        b
    } else {
        a
    }
}

fn idx<T: PartialEq + Copy>(all: &[T], x: T) -> u32 {
    all.iter().position(|&a| a == x).unwrap_or(0) as u32
}

/// A decoded operation before packing.
#[derive(Clone, Copy, Debug)]
struct V {
    cat: Cat,
    sub: u32,
    es: Esize,
    q: bool,
    imm: u32,
    /// Scalar form: element size of the result (element 0 kept).
    scalar: Option<Esize>,
}

fn v(cat: Cat, sub: u32, es: Esize, q: bool) -> V {
    V {
        cat,
        sub,
        es,
        q,
        imm: 0,
        scalar: None,
    }
}

fn get<T: Copy>(all: &[T], i: u32) -> simd::Result<T> {
    all.get(i as usize)
        .copied()
        .ok_or(simd::SimdError::Immediate {
            op: "decode",
            value: i,
        })
}

/// Evaluate `o` on the register values.
fn eval(o: &V, d: u128, n: u128, m: u128, qc: &mut bool) -> simd::Result<u128> {
    let (es, q, s, imm) = (o.es, o.q, o.sub, o.imm);
    match o.cat {
        Cat::Bin => simd::binary(get(&Binary::ALL, s)?, es, q, n, m),
        Cat::Acc => simd::accumulate(get(&Accumulate::ALL, s)?, es, q, d, n, m),
        Cat::Un => simd::unary(get(&Unary::ALL, s)?, es, q, n),
        Cat::Sat => simd::saturating(get(&Saturating::ALL, s)?, es, q, n, m, qc),
        Cat::Cmp => simd::compare(get(&Compare::ALL, s)?, es, q, n, m),
        Cat::CmpZ => simd::compare_zero(get(&CompareZero::ALL, s)?, es, q, n),
        Cat::Logic => Ok(simd::logic(get(&Logic::ALL, s)?, q, d, n, m)),
        Cat::Not => Ok(simd::not(q, n)),
        Cat::Pair => simd::pairwise(get(&Pairwise::ALL, s)?, es, q, n, m),
        Cat::AddpScalar => Ok(simd::addp_scalar(n)),
        Cat::Across => simd::across(get(&Across::ALL, s)?, es, q, n),
        Cat::Alp => simd::add_long_pairwise(s & 1 != 0, s & 2 != 0, es, q, d, n),
        Cat::SatUn => simd::sat_unary(get(&SatUnary::ALL, s)?, es, q, n, qc),
        Cat::SatAcc => simd::sat_accumulate(s != 0, es, q, d, n, qc),
        Cat::Shl => simd::shift_left(es, q, n, imm),
        Cat::Shr => simd::shift_right(get(&ShiftRight::ALL, s)?, es, q, d, n, imm),
        Cat::Sli => simd::sli(es, q, d, n, imm),
        Cat::Sri => simd::sri(es, q, d, n, imm),
        Cat::Shll => simd::shift_left_long(s != 0, es, q, n, imm),
        Cat::Shrn => simd::shift_right_narrow(s != 0, es, q, d, n, imm),
        Cat::SatShl => simd::sat_shift_left(get(&SatShiftLeft::ALL, s)?, es, q, n, imm, qc),
        Cat::SatShrn => {
            simd::sat_shift_right_narrow(get(&SatShiftNarrow::ALL, s)?, es, q, d, n, imm, qc)
        }
        Cat::ShReg => simd::shift_reg(get(&ShiftReg::ALL, s)?, es, q, n, m),
        Cat::SatShReg => simd::sat_shift_reg(get(&SatShiftReg::ALL, s)?, es, q, n, m, qc),
        Cat::Narrow => simd::narrow(get(&Narrow::ALL, s)?, es, q, d, n, qc),
        Cat::Long => simd::long(get(&Long::ALL, s)?, es, q, d, n, m),
        Cat::HighNarrow => simd::high_narrow(get(&HighNarrow::ALL, s)?, es, q, d, n, m),
        Cat::Sqdmulh => simd::sqdmulh(s != 0, es, q, n, m, qc),
        Cat::DLong => simd::doubling_long(get(&DoublingLong::ALL, s)?, es, q, d, n, m, qc),
        Cat::Pmul => Ok(simd::pmul(q, n, m)),
        Cat::Pmull => simd::pmull(es, q, n, m),
        Cat::Perm => simd::permute(get(&Permute::ALL, s)?, es, q, n, m),
        Cat::DupScalar => simd::dup_element(es, true, n, imm),
        // SHLL: widen, then shift by the source element size.
        Cat::ShllEs => {
            let wide = simd::shift_left_long(false, es, q, n, 0)?;
            simd::shift_left(es.wider().unwrap_or(es), true, wide, es.bits())
        }
    }
}

/// Pack: aux = q | size << 1 | scalar << 3 | cat << 4 | sub << 10 |
/// scalar size << 16 | by-element << 18 | element index << 19 (by element:
/// Vm is replaced by its broadcast element); imm = immediate.
fn pack(o: &V, by_elem: Option<u32>) -> (u32, u64) {
    let aux = u32::from(o.q)
        | (o.es.size() << 1)
        | (u32::from(o.scalar.is_some()) << 3)
        | ((o.cat as u32) << 4)
        | (o.sub << 10)
        | (o.scalar.map_or(0, Esize::size) << 16)
        | by_elem.map_or(0, |i| (1 << 18) | (i << 19));
    (aux, u64::from(o.imm))
}

fn unpack(aux: u32, imm: u64) -> Option<(V, Option<u32>)> {
    let es = Esize::from_size((aux >> 1) & 3)?;
    let cat = *CATS.get(((aux >> 4) & 63) as usize)?;
    let scalar = if aux & 8 != 0 {
        Esize::from_size((aux >> 16) & 3)
    } else {
        None
    };
    let by = (aux & (1 << 18) != 0).then_some(aux >> 19);
    Some((
        V {
            cat,
            sub: (aux >> 10) & 63,
            es,
            q: aux & 1 != 0,
            imm: imm as u32,
            scalar,
        },
        by,
    ))
}

/// Run `o` with scalar and by-element adjustments.
fn run(o: &V, by: Option<u32>, d: u128, n: u128, m: u128, qc: &mut bool) -> simd::Result<u128> {
    let m = match by {
        Some(i) => simd::by_element(o.es, m, i)?,
        None => m,
    };
    match o.scalar {
        None => eval(o, d, n, m, qc),
        Some(out) => {
            // Inputs keep only their element 0 (of the input size: wide for
            // narrowing forms, which carry the narrow size in `es` and write
            // the low half, `part` = 0). ADDP and DUP read whole registers.
            let mut o = *o;
            let ies = match o.cat {
                Cat::Narrow | Cat::SatShrn => {
                    o.q = false;
                    o.es.wider().unwrap_or(o.es)
                }
                _ => o.es,
            };
            let keep = |x| match o.cat {
                Cat::AddpScalar | Cat::DupScalar => x,
                _ => simd::scalar(ies, x),
            };
            let r = eval(&o, simd::scalar(out, d), keep(n), keep(m), qc)?;
            Ok(simd::scalar(out, r))
        }
    }
}

fn vint(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let Some((o, by)) = unpack(op.aux, op.imm) else {
        return Err(c.undefined());
    };
    let r = &c.regs.v;
    let (d, n, m) = (
        r[usize::from(op.rd & 31)],
        r[usize::from(op.rn & 31)],
        r[usize::from(op.rm & 31)],
    );
    let mut qc = false;
    match run(&o, by, d, n, m, &mut qc) {
        Ok(x) => {
            c.regs.v[usize::from(op.rd & 31)] = x;
            if qc {
                c.regs.fpsr |= simd::FPSR_QC;
            }
            Ok(())
        }
        Err(_) => Err(c.undefined()),
    }
}

/// Validate and pack into an operation on rd/rn/rm.
fn finish(f: &Fields, o: V, by: Option<u32>, rm: Option<u32>) -> Option<Op> {
    run(&o, by, 0, 0, 0, &mut false).ok()?;
    let (aux, imm) = pack(&o, by);
    Some(Op {
        rd: (f.get("rd") & 31) as u8,
        rn: (f.get("rn") & 31) as u8,
        rm: rm.map_or(0, |r| (r & 31) as u8),
        aux,
        imm,
        ..Op::new(vint)
    })
}

fn esize(size: u32) -> Option<Esize> {
    Esize::from_size(size)
}

mod arith;
mod shift;

pub use arith::{
    build_across, build_scalar_by_elem, build_scalar_dup, build_scalar_pairwise,
    build_scalar_three_diff, build_scalar_three_same, build_scalar_two_misc, build_three_diff,
    build_three_same, build_two_misc,
};
pub use shift::{build_by_elem, build_permute, build_scalar_shift_imm, build_shift_imm, build_tbl};
