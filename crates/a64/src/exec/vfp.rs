//! AdvSIMD floating point, vector and scalar forms (Armv8.0: single and
//! double lanes; half precision only in FCVTN/FCVTL): three same incl.
//! pairwise, two-register misc (compares with zero, FABS/FNEG/FSQRT,
//! FRINT*, FCVT*, SCVTF/UCVTF, FCVTN/FCVTL/FCVTXN, estimates), across
//! lanes, scalar pairwise, fixed-point conversions by immediate, by element.
//! Each lane calls `fpsimd` with one context, so FPSR accumulates the flags
//! of all lanes.

use fpsimd::{Format, Fp, Rounding};

use super::fp::{fp_ctx, fp_done};
use super::simd::check_fp;
use crate::cpu::Core;
use crate::decode::{Fields, Op, Step};

/// Operations (`Op.aux` bits 4..10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Add,
    Sub,
    Mul,
    Mulx,
    Div,
    Max,
    Min,
    MaxNm,
    MinNm,
    Abd,
    Recps,
    Rsqrts,
    Mla,
    Mls,
    CmEq,
    CmGe,
    CmGt,
    AcGe,
    AcGt,
    CmEq0,
    CmGe0,
    CmGt0,
    CmLe0,
    CmLt0,
    Abs,
    Neg,
    Sqrt,
    /// FRINT*; rounding code in `imm` bits 0..3 (7: FPCR), exact in bit 3.
    Rint,
    /// FCVT*S/U: rounding code in `imm` 0..3, unsigned bit 3, fbits << 8.
    ToInt,
    /// SCVTF/UCVTF: unsigned bit 3, fbits << 8.
    FromInt,
    Recpe,
    Rsqrte,
    Recpx,
    Urecpe,
    Ursqrte,
    AddP,
    MaxP,
    MinP,
    MaxNmP,
    MinNmP,
    MaxV,
    MinV,
    MaxNmV,
    MinNmV,
    Cvtn,
    Cvtxn,
    Cvtl,
}

const KS: [K; 47] = [
    K::Add,
    K::Sub,
    K::Mul,
    K::Mulx,
    K::Div,
    K::Max,
    K::Min,
    K::MaxNm,
    K::MinNm,
    K::Abd,
    K::Recps,
    K::Rsqrts,
    K::Mla,
    K::Mls,
    K::CmEq,
    K::CmGe,
    K::CmGt,
    K::AcGe,
    K::AcGt,
    K::CmEq0,
    K::CmGe0,
    K::CmGt0,
    K::CmLe0,
    K::CmLt0,
    K::Abs,
    K::Neg,
    K::Sqrt,
    K::Rint,
    K::ToInt,
    K::FromInt,
    K::Recpe,
    K::Rsqrte,
    K::Recpx,
    K::Urecpe,
    K::Ursqrte,
    K::AddP,
    K::MaxP,
    K::MinP,
    K::MaxNmP,
    K::MinNmP,
    K::MaxV,
    K::MinV,
    K::MaxNmV,
    K::MinNmV,
    K::Cvtn,
    K::Cvtxn,
    K::Cvtl,
];

/// Shape: lanes of the vector (elementwise, or pairwise over Vn:Vm for the
/// pairwise kinds), element 0 only, or elements 0 and 1 of Vn (scalar
/// pairwise).
const SH_VEC: u32 = 0;
const SH_SCALAR: u32 = 1;
const SH_SCALAR_PAIR: u32 = 2;
/// Kinds with their own lane layout (reductions, FCVTN/FCVTL/FCVTXN
/// vector), where Q is the "2" selector or must be 1 and `.1d` does not apply.
const SH_OWN: u32 = 3;

fn lane(v: u128, i: u32, bits: u32) -> u64 {
    let x = v >> (i * bits);
    if bits == 64 {
        x as u64
    } else {
        (x as u64) & ((1u64 << bits) - 1)
    }
}

fn put(v: &mut u128, i: u32, bits: u32, x: u64) {
    let m = if bits == 64 {
        u128::from(u64::MAX)
    } else {
        u128::from((1u64 << bits) - 1)
    };
    *v = (*v & !(m << (i * bits))) | ((u128::from(x) & m) << (i * bits));
}

fn mask(bits: u32, t: bool) -> u64 {
    if !t {
        0
    } else if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn code_rounding(code: u32, fp: &Fp) -> Rounding {
    match code & 7 {
        0 => Rounding::TieEven,
        1 => Rounding::PosInf,
        2 => Rounding::NegInf,
        3 => Rounding::Zero,
        4 => Rounding::TieAway,
        _ => fp.rounding(),
    }
}

/// One lane of an elementwise operation.
fn lane_op(fp: &mut Fp, k: K, fmt: Format, imm: u32, d: u64, a: u64, b: u64) -> u64 {
    let bits = fmt.width();
    match k {
        K::Add | K::AddP => fp.add(fmt, a, b),
        K::Sub => fp.sub(fmt, a, b),
        K::Mul => fp.mul(fmt, a, b),
        K::Mulx => fp.mulx(fmt, a, b),
        K::Div => fp.div(fmt, a, b),
        K::Max | K::MaxP | K::MaxV => fp.max(fmt, a, b),
        K::Min | K::MinP | K::MinV => fp.min(fmt, a, b),
        K::MaxNm | K::MaxNmP | K::MaxNmV => fp.maxnm(fmt, a, b),
        K::MinNm | K::MinNmP | K::MinNmV => fp.minnm(fmt, a, b),
        K::Abd => fp.abd(fmt, a, b),
        K::Recps => fp.recps(fmt, a, b),
        K::Rsqrts => fp.rsqrts(fmt, a, b),
        K::Mla => fp.fmadd(fmt, a, b, d),
        K::Mls => fp.fmsub(fmt, a, b, d),
        K::CmEq => mask(bits, fp.cmeq(fmt, a, b)),
        K::CmGe => mask(bits, fp.cmge(fmt, a, b)),
        K::CmGt => mask(bits, fp.cmgt(fmt, a, b)),
        K::AcGe => mask(bits, fp.acge(fmt, a, b)),
        K::AcGt => mask(bits, fp.acgt(fmt, a, b)),
        K::CmEq0 => mask(bits, fp.cmeq(fmt, a, 0)),
        K::CmGe0 => mask(bits, fp.cmge(fmt, a, 0)),
        K::CmGt0 => mask(bits, fp.cmgt(fmt, a, 0)),
        K::CmLe0 => mask(bits, fp.cmge(fmt, 0, a)),
        K::CmLt0 => mask(bits, fp.cmgt(fmt, 0, a)),
        K::Abs => fmt.abs(a),
        K::Neg => fmt.neg(a),
        K::Sqrt => fp.sqrt(fmt, a),
        K::Rint => {
            let rm = code_rounding(imm, fp);
            fp.round_int(fmt, a, rm, imm & 8 != 0)
        }
        K::ToInt => {
            let rm = code_rounding(imm, fp);
            fp.to_fixed(fmt, a, imm >> 8, imm & 8 != 0, bits, rm)
        }
        K::FromInt => {
            let rm = fp.rounding();
            fp.from_fixed(fmt, a, bits, imm & 8 == 0, imm >> 8, rm)
        }
        K::Recpe => fp.recpe(fmt, a),
        K::Rsqrte => fp.rsqrte(fmt, a),
        K::Recpx => fp.recpx(fmt, a),
        K::Urecpe => u64::from(fpsimd::urecpe(a as u32)),
        K::Ursqrte => u64::from(fpsimd::ursqrte(a as u32)),
        K::Cvtn | K::Cvtxn | K::Cvtl => a,
    }
}

/// `aux`: q | double << 1 | shape << 2 | kind << 4 | by-element << 10 |
/// index << 11; `imm`: operation immediate.
fn vfp(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let Some(&k) = KS.get(((op.aux >> 4) & 63) as usize) else {
        return Err(c.undefined());
    };
    let q = op.aux & 1 != 0;
    let fmt = if op.aux & 2 != 0 {
        Format::Double
    } else {
        Format::Single
    };
    let bits = fmt.width();
    let shape = (op.aux >> 2) & 3;
    let imm = op.imm as u32;
    let r = &c.regs.v;
    let (d, n) = (r[usize::from(op.rd & 31)], r[usize::from(op.rn & 31)]);
    let mut m = r[usize::from(op.rm & 31)];
    if op.aux & (1 << 10) != 0 {
        let x = lane(m, op.aux >> 11, bits);
        m = 0;
        for i in 0..128 / bits {
            put(&mut m, i, bits, x);
        }
    }
    let mut fp = fp_ctx(c);
    let total = if q { 128 / bits } else { 64 / bits };
    let mut out = 0u128;
    match (k, shape) {
        (K::Cvtn | K::Cvtxn, _) => {
            // Narrow: double -> single, single -> half; "2" forms write the upper half.
            let (from, to) = if fmt == Format::Double {
                (Format::Double, Format::Single)
            } else {
                (Format::Single, Format::Half)
            };
            let nb = to.width();
            let count = if shape == SH_SCALAR { 1 } else { 128 / bits };
            let mut half = 0u128;
            for i in 0..count {
                let a = lane(n, i, bits);
                let x = if k == K::Cvtxn {
                    fp.convert_rounding(from, to, a, Rounding::Odd)
                } else {
                    fp.convert(from, to, a)
                };
                put(&mut half, i, nb, x);
            }
            out = if q && shape != SH_SCALAR {
                (d & u128::from(u64::MAX)) | (half << 64)
            } else {
                half
            };
        }
        (K::Cvtl, _) => {
            // Widen: half -> single, single -> double, from the lower or upper half.
            let from = if fmt == Format::Double {
                Format::Single
            } else {
                Format::Half
            };
            let src = if q { n >> 64 } else { n };
            for i in 0..128 / bits {
                let x = fp.convert(from, fmt, lane(src, i, from.width()));
                put(&mut out, i, bits, x);
            }
        }
        (K::MaxV | K::MinV | K::MaxNmV | K::MinNmV, _) => {
            let mut lanes = [0u64; 4];
            for (i, l) in lanes.iter_mut().enumerate() {
                *l = lane(n, i as u32, bits);
            }
            let x = fp.reduce(&lanes[..total as usize], |fp, a, b| {
                lane_op(fp, k, fmt, imm, 0, a, b)
            });
            out = u128::from(x);
        }
        (_, SH_SCALAR_PAIR) => {
            let x = lane_op(&mut fp, k, fmt, imm, 0, lane(n, 0, bits), lane(n, 1, bits));
            out = u128::from(x);
        }
        (K::AddP | K::MaxP | K::MinP | K::MaxNmP | K::MinNmP, _) => {
            let half = total / 2;
            for i in 0..total {
                let (src, j) = if i < half {
                    (n, 2 * i)
                } else {
                    (m, 2 * (i - half))
                };
                let x = lane_op(
                    &mut fp,
                    k,
                    fmt,
                    imm,
                    0,
                    lane(src, j, bits),
                    lane(src, j + 1, bits),
                );
                put(&mut out, i, bits, x);
            }
        }
        _ => {
            let count = if shape == SH_SCALAR { 1 } else { total };
            for i in 0..count {
                let x = lane_op(
                    &mut fp,
                    k,
                    fmt,
                    imm,
                    lane(d, i, bits),
                    lane(n, i, bits),
                    lane(m, i, bits),
                );
                put(&mut out, i, bits, x);
            }
        }
    }
    fp_done(c, &fp);
    c.regs.v[usize::from(op.rd & 31)] = out;
    Ok(())
}

fn kidx(k: K) -> u32 {
    KS.iter().position(|&x| x == k).unwrap_or(0) as u32
}

struct B {
    k: K,
    q: bool,
    double: bool,
    shape: u32,
    imm: u32,
    by: Option<u32>,
}

fn make(f: &Fields, b: &B, rm: Option<u32>) -> Option<Op> {
    if b.double && !b.q && b.shape == SH_VEC {
        return None; // .1d is reserved for every FP vector form
    }
    Some(Op {
        rd: (f.get("rd") & 31) as u8,
        rn: (f.get("rn") & 31) as u8,
        rm: rm.map_or(0, |r| (r & 31) as u8),
        imm: u64::from(b.imm),
        aux: u32::from(b.q)
            | (u32::from(b.double) << 1)
            | (b.shape << 2)
            | (kidx(b.k) << 4)
            | b.by.map_or(0, |i| (1 << 10) | (i << 11)),
        ..Op::new(vfp)
    })
}

fn b(k: K, q: bool, double: bool, shape: u32) -> B {
    B {
        k,
        q,
        double,
        shape,
        imm: 0,
        by: None,
    }
}

fn three_same_kind(u: bool, a: bool, opcode: u32) -> Option<K> {
    Some(match (u, a, opcode) {
        (false, false, 0b11000) => K::MaxNm,
        (false, false, 0b11001) => K::Mla,
        (false, false, 0b11010) => K::Add,
        (false, false, 0b11011) => K::Mulx,
        (false, false, 0b11100) => K::CmEq,
        (false, false, 0b11110) => K::Max,
        (false, false, 0b11111) => K::Recps,
        (false, true, 0b11000) => K::MinNm,
        (false, true, 0b11001) => K::Mls,
        (false, true, 0b11010) => K::Sub,
        (false, true, 0b11110) => K::Min,
        (false, true, 0b11111) => K::Rsqrts,
        (true, false, 0b11000) => K::MaxNmP,
        (true, false, 0b11010) => K::AddP,
        (true, false, 0b11011) => K::Mul,
        (true, false, 0b11100) => K::CmGe,
        (true, false, 0b11101) => K::AcGe,
        (true, false, 0b11110) => K::MaxP,
        (true, false, 0b11111) => K::Div,
        (true, true, 0b11000) => K::MinNmP,
        (true, true, 0b11010) => K::Abd,
        (true, true, 0b11100) => K::CmGt,
        (true, true, 0b11101) => K::AcGt,
        (true, true, 0b11110) => K::MinP,
        _ => return None,
    })
}

/// FP three-same (vector).
pub fn build_three_same(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let k = three_same_kind(u, size & 2 != 0, opcode)?;
    make(f, &b(k, q, size & 1 != 0, SH_VEC), Some(f.get("rm")))
}

/// FP three-same (scalar).
pub fn build_scalar_three_same(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    let k = three_same_kind(u, size & 2 != 0, opcode)?;
    if !matches!(
        k,
        K::Mulx | K::CmEq | K::Recps | K::Rsqrts | K::CmGe | K::AcGe | K::Abd | K::CmGt | K::AcGt
    ) {
        return None;
    }
    make(f, &b(k, true, size & 1 != 0, SH_SCALAR), Some(f.get("rm")))
}

/// FP two-register misc kinds: (kind, immediate).
fn two_misc_kind(u: bool, a: bool, opcode: u32) -> Option<(K, u32)> {
    let rint = |code: u32| Some((K::Rint, code));
    let to = |code: u32| Some((K::ToInt, code | (u32::from(u) << 3)));
    match (a, opcode) {
        (false, 0b10110) if !u => Some((K::Cvtn, 0)),
        (false, 0b10110) => Some((K::Cvtxn, 0)),
        (false, 0b10111) if !u => Some((K::Cvtl, 0)),
        (false, 0b11000) => rint(if u { 4 } else { 0 }),
        (false, 0b11001) => rint(if u { 7 | 8 } else { 2 }),
        (false, 0b11010) => to(0),
        (false, 0b11011) => to(2),
        (false, 0b11100) => to(4),
        (false, 0b11101) => Some((K::FromInt, u32::from(u) << 3)),
        (true, 0b01100) => Some((if u { K::CmGe0 } else { K::CmGt0 }, 0)),
        (true, 0b01101) => Some((if u { K::CmLe0 } else { K::CmEq0 }, 0)),
        (true, 0b01110) if !u => Some((K::CmLt0, 0)),
        (true, 0b01111) => Some((if u { K::Neg } else { K::Abs }, 0)),
        (true, 0b11000) if !u => rint(1),
        (true, 0b11001) => rint(if u { 7 } else { 3 }),
        (true, 0b11010) => to(1),
        (true, 0b11011) => to(3),
        (true, 0b11100) => Some((if u { K::Ursqrte } else { K::Urecpe }, 0)),
        (true, 0b11101) => Some((if u { K::Rsqrte } else { K::Recpe }, 0)),
        (true, 0b11111) if u => Some((K::Sqrt, 0)),
        (true, 0b11111) => Some((K::Recpx, 0)),
        _ => None,
    }
}

/// FP two-register misc (vector).
pub fn build_two_misc(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    let (k, imm) = two_misc_kind(u, size & 2 != 0, opcode)?;
    let double = size & 1 != 0;
    if matches!(k, K::Recpx) || (matches!(k, K::Urecpe | K::Ursqrte) && double) {
        return None;
    }
    if k == K::Cvtxn && !double {
        return None;
    }
    let mut o = b(k, q, double, SH_VEC);
    o.imm = imm;
    if matches!(k, K::Cvtn | K::Cvtxn | K::Cvtl) {
        // Q selects the "2" form; any sz is allocated.
        o.shape = SH_OWN;
    }
    make(f, &o, None)
}

/// FP two-register misc (scalar).
pub fn build_scalar_two_misc(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    let (k, imm) = two_misc_kind(u, size & 2 != 0, opcode)?;
    let double = size & 1 != 0;
    let ok = match k {
        K::Cvtxn => double,
        K::Rint | K::Cvtn | K::Cvtl | K::Abs | K::Neg | K::Sqrt | K::Urecpe | K::Ursqrte => false,
        _ => true,
    };
    if !ok {
        return None;
    }
    let mut o = b(k, false, double, SH_SCALAR);
    o.imm = imm;
    make(f, &o, None)
}

/// FMAXNMV/FMINNMV/FMAXV/FMINV (4S only in Armv8.0).
pub fn build_across(f: &Fields) -> Option<Op> {
    let (q, u, size, opcode) = (
        f.get("q") == 1,
        f.get("u") == 1,
        f.get("size"),
        f.get("opcode"),
    );
    if !u || !q || size & 1 != 0 {
        return None;
    }
    let k = match (size & 2 != 0, opcode) {
        (false, 0b01100) => K::MaxNmV,
        (true, 0b01100) => K::MinNmV,
        (false, 0b01111) => K::MaxV,
        (true, 0b01111) => K::MinV,
        _ => return None,
    };
    make(f, &b(k, true, false, SH_OWN), None)
}

/// FADDP/FMAXP/FMINP/FMAXNMP/FMINNMP (scalar).
pub fn build_scalar_pairwise(f: &Fields) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    if !u {
        return None;
    }
    let k = match (size & 2 != 0, opcode) {
        (false, 0b01100) => K::MaxNmP,
        (true, 0b01100) => K::MinNmP,
        (false, 0b01101) => K::AddP,
        (false, 0b01111) => K::MaxP,
        (true, 0b01111) => K::MinP,
        _ => return None,
    };
    make(f, &b(k, true, size & 1 != 0, SH_SCALAR_PAIR), None)
}

fn fixed(f: &Fields, q: bool, shape: u32) -> Option<Op> {
    let (u, immh, immb, opcode) = (f.get("u"), f.get("immh"), f.get("immb"), f.get("opcode"));
    let double = match immh {
        8..=15 => true,
        4..=7 => false,
        _ => return None, // half precision (FEAT_FP16) or reserved
    };
    let bits = if double { 64 } else { 32 };
    let fbits = 2 * bits - ((immh << 3) | immb);
    let k = if opcode == 0b11100 {
        K::FromInt
    } else {
        K::ToInt
    };
    let mut o = b(k, q, double, shape);
    o.imm = (fbits << 8) | (u << 3) | if k == K::ToInt { 3 } else { 0 };
    make(f, &o, None)
}

/// SCVTF/UCVTF/FCVTZS/FCVTZU (vector, fixed point).
pub fn build_shift_imm(f: &Fields) -> Option<Op> {
    fixed(f, f.get("q") == 1, SH_VEC)
}

/// SCVTF/UCVTF/FCVTZS/FCVTZU (scalar, fixed point).
pub fn build_scalar_shift_imm(f: &Fields) -> Option<Op> {
    fixed(f, false, SH_SCALAR)
}

fn by_elem(f: &Fields, q: bool, shape: u32) -> Option<Op> {
    let (u, size, opcode) = (f.get("u") == 1, f.get("size"), f.get("opcode"));
    let (h, l, m, rm) = (f.get("h"), f.get("l"), f.get("m"), f.get("rm"));
    let k = match (opcode, u) {
        (0b0001, false) => K::Mla,
        (0b0101, false) => K::Mls,
        (0b1001, false) => K::Mul,
        (0b1001, true) => K::Mulx,
        _ => return None,
    };
    let (double, index) = match size {
        2 => (false, (h << 1) | l),
        3 if l == 0 => (true, h),
        _ => return None,
    };
    let mut o = b(k, q, double, shape);
    o.by = Some(index);
    make(f, &o, Some((m << 4) | rm))
}

/// FMLA/FMLS/FMUL/FMULX (vector, by element).
pub fn build_by_elem(f: &Fields) -> Option<Op> {
    by_elem(f, f.get("q") == 1, SH_VEC)
}

/// FMLA/FMLS/FMUL/FMULX (scalar, by element).
pub fn build_scalar_by_elem(f: &Fields) -> Option<Op> {
    by_elem(f, false, SH_SCALAR)
}
