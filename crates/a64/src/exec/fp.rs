//! Scalar floating point: data processing with one, two and three
//! sources, compares (FCMP/FCMPE/FCCMP/FCCMPE), FCSEL, FMOV (register,
//! immediate, general), FCVT between precisions, conversions to and from
//! integers and fixed point, FRINT*. The arithmetic is `fpsimd`'s; this
//! module routes operands and owns the register-file effects:
//!
//! - `V[d] = result` of a scalar writes the element and zeroes the rest of
//!   the 128-bit register.
//! - FPCR is read from the CPU state and the flags the operation raises are
//!   ORed into FPSR (cumulative, never cleared here).
//! - Cortex-A53 is Armv8.0: no FEAT_FP16, so half precision exists only as
//!   an FCVT source or destination (FPCR.AHP applies, FPCR.FZ16 is RES0);
//!   every other `ftype == 11` encoding is UNDEFINED.

use fpsimd::{Format, Fp, Rounding};

use super::simd::check_fp;
use crate::cpu::Core;
use crate::decode::{Fields, Op, Step};
use crate::state::{cond_holds, r_zr, w_zr};

/// FPCR bits an Armv8.0 core without FP16 honours.
const FPCR_V80: u32 = fpsimd::FPCR_AHP | fpsimd::FPCR_DN | fpsimd::FPCR_FZ | (3 << 22);

/// The FP context for one instruction.
#[inline]
pub(crate) fn fp_ctx(c: &Core) -> Fp {
    Fp::new(c.regs.fpcr & FPCR_V80)
}

/// Fold the flags one instruction raised into FPSR.
#[inline]
pub(crate) fn fp_done(c: &mut Core, fp: &Fp) {
    c.regs.fpsr |= fp.fpsr;
}

/// Low 64 bits of V register `i`.
#[inline]
pub(crate) fn vlo(c: &Core, i: u8) -> u64 {
    c.regs.v[usize::from(i & 31)] as u64
}

/// Write a scalar result: the element, with the rest of Vd zeroed.
#[inline]
pub(crate) fn set_scalar(c: &mut Core, i: u8, fmt: Format, bits: u64) {
    c.regs.v[usize::from(i & 31)] = u128::from(bits & fmt.mask());
}

/// Single or double for `ftype` (half is not an arithmetic format here).
fn arith_fmt(ty: u32) -> Option<Format> {
    match ty {
        0 => Some(Format::Single),
        1 => Some(Format::Double),
        _ => None,
    }
}

fn fmt_code(f: Format) -> u32 {
    match f {
        Format::Single => 0,
        Format::Double => 1,
        Format::Half => 3,
    }
}

fn code_fmt(code: u32) -> Format {
    match code & 3 {
        0 => Format::Single,
        1 => Format::Double,
        _ => Format::Half,
    }
}

fn rounding_code(r: Rounding) -> u32 {
    match r {
        Rounding::TieEven => 0,
        Rounding::PosInf => 1,
        Rounding::NegInf => 2,
        Rounding::Zero => 3,
        Rounding::TieAway => 4,
        Rounding::Odd => 5,
    }
}

/// Rounding mode from a code; 7 means "FPCR.RMode".
fn code_rounding(code: u32, fp: &Fp) -> Rounding {
    match code & 7 {
        0 => Rounding::TieEven,
        1 => Rounding::PosInf,
        2 => Rounding::NegInf,
        3 => Rounding::Zero,
        4 => Rounding::TieAway,
        5 => Rounding::Odd,
        _ => fp.rounding(),
    }
}

fn vreg(n: u32) -> u8 {
    (n & 31) as u8
}

// ---- one source ----------------------------------------------------------

/// `aux`: fmt | kind << 2 | rounding << 8 | dest fmt << 12.
fn dp1(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let a = vlo(c, op.rn);
    let mut fp = fp_ctx(c);
    let (rfmt, r) = match (op.aux >> 2) & 0x3f {
        0 => (fmt, a),
        1 => (fmt, fmt.abs(a)),
        2 => (fmt, fmt.neg(a)),
        3 => (fmt, fp.sqrt(fmt, a)),
        4 => {
            let to = code_fmt(op.aux >> 12);
            (to, fp.convert(fmt, to, a))
        }
        k => {
            let rm = code_rounding(op.aux >> 8, &fp);
            (fmt, fp.round_int(fmt, a, rm, k == 6))
        }
    };
    fp_done(c, &fp);
    set_scalar(c, op.rd, rfmt, r);
    Ok(())
}

/// Build the FP data-processing (1 source) group.
pub fn build_dp1(f: &Fields) -> Option<Op> {
    if f.get("m") != 0 || f.get("s") != 0 {
        return None;
    }
    let ty = f.get("type");
    let opcode = f.get("opcode");
    let aux = match opcode {
        0..=3 => fmt_code(arith_fmt(ty)?) | (opcode << 2),
        0b000100..=0b000111 => {
            // FCVT: source `type`, destination `opc`; half only as either end.
            let to = opcode & 3;
            if to == ty || to == 2 || ty == 2 {
                return None;
            }
            (ty & 3) | (4 << 2) | (to << 12)
        }
        0b001000..=0b001111 => {
            let fmt = fmt_code(arith_fmt(ty)?);
            let (kind, rm) = match opcode & 7 {
                0 => (5, Rounding::TieEven),
                1 => (5, Rounding::PosInf),
                2 => (5, Rounding::NegInf),
                3 => (5, Rounding::Zero),
                4 => (5, Rounding::TieAway),
                6 => (6, Rounding::TieEven), // FRINTX: FPCR rounding, exact
                7 => (5, Rounding::TieEven), // FRINTI: FPCR rounding
                _ => return None,
            };
            let code = if opcode & 6 == 6 {
                7
            } else {
                rounding_code(rm)
            };
            fmt | (kind << 2) | (code << 8)
        }
        _ => return None,
    };
    Some(Op {
        rd: vreg(f.get("rd")),
        rn: vreg(f.get("rn")),
        aux,
        ..Op::new(dp1)
    })
}

// ---- two sources -----------------------------------------------------------

fn dp2(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let (a, b) = (vlo(c, op.rn), vlo(c, op.rm));
    let mut fp = fp_ctx(c);
    let r = match op.aux >> 2 {
        0 => fp.mul(fmt, a, b),
        1 => fp.div(fmt, a, b),
        2 => fp.add(fmt, a, b),
        3 => fp.sub(fmt, a, b),
        4 => fp.max(fmt, a, b),
        5 => fp.min(fmt, a, b),
        6 => fp.maxnm(fmt, a, b),
        7 => fp.minnm(fmt, a, b),
        _ => fp.nmul(fmt, a, b),
    };
    fp_done(c, &fp);
    set_scalar(c, op.rd, fmt, r);
    Ok(())
}

/// Build FMUL/FDIV/FADD/FSUB/FMAX/FMIN/FMAXNM/FMINNM/FNMUL (scalar).
pub fn build_dp2(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    let opcode = f.get("opcode");
    if opcode > 8 {
        return None;
    }
    Some(Op {
        rd: vreg(f.get("rd")),
        rn: vreg(f.get("rn")),
        rm: vreg(f.get("rm")),
        aux: fmt_code(fmt) | (opcode << 2),
        ..Op::new(dp2)
    })
}

// ---- three sources ---------------------------------------------------------

fn dp3(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let (n, m, a) = (vlo(c, op.rn), vlo(c, op.rm), vlo(c, op.ra));
    let mut fp = fp_ctx(c);
    let r = match op.aux >> 2 {
        0 => fp.fmadd(fmt, n, m, a),
        1 => fp.fmsub(fmt, n, m, a),
        2 => fp.fnmadd(fmt, n, m, a),
        _ => fp.fnmsub(fmt, n, m, a),
    };
    fp_done(c, &fp);
    set_scalar(c, op.rd, fmt, r);
    Ok(())
}

/// Build FMADD/FMSUB/FNMADD/FNMSUB.
pub fn build_dp3(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    let kind = (f.get("o1") << 1) | f.get("o0");
    Some(Op {
        rd: vreg(f.get("rd")),
        rn: vreg(f.get("rn")),
        rm: vreg(f.get("rm")),
        ra: vreg(f.get("ra")),
        aux: fmt_code(fmt) | (kind << 2),
        ..Op::new(dp3)
    })
}

// ---- compares and selects --------------------------------------------------

/// `aux`: fmt | signal << 2 | zero << 3.
fn fcmp(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let a = vlo(c, op.rn);
    let b = if op.aux & 8 != 0 { 0 } else { vlo(c, op.rm) };
    let mut fp = fp_ctx(c);
    let nzcv = fp.compare(fmt, a, b, op.aux & 4 != 0);
    fp_done(c, &fp);
    c.regs.nzcv = nzcv << 28;
    Ok(())
}

/// Build FCMP/FCMPE (register and #0.0).
pub fn build_fcmp(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    let opc2 = f.get("opcode2");
    if f.get("op") != 0 || opc2 & 7 != 0 {
        return None;
    }
    Some(Op {
        rn: vreg(f.get("rn")),
        rm: vreg(f.get("rm")),
        aux: fmt_code(fmt) | ((opc2 >> 4) << 2) | (((opc2 >> 3) & 1) << 3),
        ..Op::new(fcmp)
    })
}

/// `aux`: fmt | signal << 2 | cond << 4 | nzcv << 8.
fn fccmp(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    if cond_holds(op.aux >> 4, c.regs.nzcv) {
        let fmt = code_fmt(op.aux);
        let (a, b) = (vlo(c, op.rn), vlo(c, op.rm));
        let mut fp = fp_ctx(c);
        let nzcv = fp.compare(fmt, a, b, op.aux & 4 != 0);
        fp_done(c, &fp);
        c.regs.nzcv = nzcv << 28;
    } else {
        c.regs.nzcv = ((op.aux >> 8) & 15) << 28;
    }
    Ok(())
}

/// Build FCCMP/FCCMPE.
pub fn build_fccmp(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    Some(Op {
        rn: vreg(f.get("rn")),
        rm: vreg(f.get("rm")),
        aux: fmt_code(fmt) | (f.get("op") << 2) | (f.get("cond") << 4) | (f.get("nzcv") << 8),
        ..Op::new(fccmp)
    })
}

fn fcsel(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let src = if cond_holds(op.aux >> 4, c.regs.nzcv) {
        op.rn
    } else {
        op.rm
    };
    let v = vlo(c, src);
    set_scalar(c, op.rd, code_fmt(op.aux), v);
    Ok(())
}

/// Build FCSEL.
pub fn build_fcsel(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    Some(Op {
        rd: vreg(f.get("rd")),
        rn: vreg(f.get("rn")),
        rm: vreg(f.get("rm")),
        aux: fmt_code(fmt) | (f.get("cond") << 4),
        ..Op::new(fcsel)
    })
}

// ---- FMOV (scalar, immediate) ------------------------------------------------

fn fmov_imm(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    c.regs.v[usize::from(op.rd & 31)] = u128::from(op.imm);
    Ok(())
}

/// Build FMOV (scalar, immediate).
pub fn build_fmov_imm(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    if f.get("imm5") != 0 {
        return None;
    }
    Some(Op {
        rd: vreg(f.get("rd")),
        imm: fpsimd::expand_imm(fmt, f.get("imm8") as u8),
        ..Op::new(fmov_imm)
    })
}

// ---- conversions between FP and integer / fixed point -------------------------

/// FP to integer. `aux`: fmt | unsigned << 2 | sf << 3 | rounding << 4 |
/// fbits << 8.
fn to_int(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let a = vlo(c, op.rn);
    let mut fp = fp_ctx(c);
    let rm = code_rounding(op.aux >> 4, &fp);
    let bits = if op.aux & 8 != 0 { 64 } else { 32 };
    let r = fp.to_fixed(fmt, a, op.aux >> 8, op.aux & 4 != 0, bits, rm);
    fp_done(c, &fp);
    c.set_x(op.rd, r);
    Ok(())
}

/// Integer to FP. `aux` as [`to_int`] (bit 2 = signed), FPCR rounding.
fn from_int(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let fmt = code_fmt(op.aux);
    let x = c.x(op.rn);
    let mut fp = fp_ctx(c);
    let bits = if op.aux & 8 != 0 { 64 } else { 32 };
    let rm = fp.rounding();
    let r = fp.from_fixed(fmt, x, bits, op.aux & 4 != 0, op.aux >> 8, rm);
    fp_done(c, &fp);
    set_scalar(c, op.rd, fmt, r);
    Ok(())
}

fn conv_op(f: &Fields, fmt: Format, to_gpr: bool, flag: u32, rm: u32, fbits: u32) -> Op {
    let (rd, rn) = (f.get("rd"), f.get("rn"));
    let aux = fmt_code(fmt) | (flag << 2) | (f.get("sf") << 3) | (rm << 4) | (fbits << 8);
    if to_gpr {
        Op {
            rd: w_zr(rd),
            rn: vreg(rn),
            aux,
            ..Op::new(to_int)
        }
    } else {
        Op {
            rd: vreg(rd),
            rn: r_zr(rn),
            aux,
            ..Op::new(from_int)
        }
    }
}

/// Build the conversions between FP and fixed point (FCVTZS/FCVTZU,
/// SCVTF/UCVTF with `#fbits`).
pub fn build_fixed(f: &Fields) -> Option<Op> {
    let fmt = arith_fmt(f.get("type"))?;
    let (sf, scale) = (f.get("sf"), f.get("scale"));
    if sf == 0 && scale < 32 {
        return None;
    }
    let fbits = 64 - scale;
    match (f.get("rmode"), f.get("opcode")) {
        (3, o @ 0..=1) => Some(conv_op(f, fmt, true, o, 3, fbits)),
        (0, 2) => Some(conv_op(f, fmt, false, 1, 7, fbits)),
        (0, 3) => Some(conv_op(f, fmt, false, 0, 7, fbits)),
        _ => None,
    }
}

fn fmov_to_gen(c: &mut Core, op: &Op) -> Step {
    check_fp(c)?;
    let v = c.regs.v[usize::from(op.rn & 31)] >> op.aux;
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

/// Build the conversions between FP and integer registers: FCVT{N,P,M,Z,A}{S,U},
/// SCVTF/UCVTF, FMOV (general, incl. the top half of a 128-bit register).
pub fn build_int(f: &Fields) -> Option<Op> {
    let (sf, ty, rmode, opcode) = (f.get("sf"), f.get("type"), f.get("rmode"), f.get("opcode"));
    let (rd, rn) = (f.get("rd"), f.get("rn"));
    if opcode >= 6 {
        let (mask, shift) = match (sf, ty, rmode) {
            (0, 0, 0) => (0xffff_ffffu64, 0u32),
            (1, 1, 0) => (u64::MAX, 0),
            (1, 2, 1) => (u64::MAX, 64),
            _ => return None,
        };
        return Some(if opcode == 6 {
            Op {
                rd: w_zr(rd),
                rn: vreg(rn),
                imm: mask,
                aux: shift,
                ..Op::new(fmov_to_gen)
            }
        } else {
            Op {
                rd: vreg(rd),
                rn: r_zr(rn),
                imm: mask,
                aux: shift,
                ..Op::new(fmov_from_gen)
            }
        });
    }
    let fmt = arith_fmt(ty)?;
    match (rmode, opcode) {
        (r, o @ 0..=1) => {
            let rm = [
                Rounding::TieEven,
                Rounding::PosInf,
                Rounding::NegInf,
                Rounding::Zero,
            ][r as usize & 3];
            Some(conv_op(f, fmt, true, o, rounding_code(rm), 0))
        }
        (0, 2) => Some(conv_op(f, fmt, false, 1, 7, 0)),
        (0, 3) => Some(conv_op(f, fmt, false, 0, 7, 0)),
        (0, o @ 4..=5) => Some(conv_op(
            f,
            fmt,
            true,
            o & 1,
            rounding_code(Rounding::TieAway),
            0,
        )),
        _ => None,
    }
}
