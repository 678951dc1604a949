//! Data processing (register): logical and add/subtract with shifted or
//! extended register, add/subtract with carry, conditional compare and
//! select, 1-, 2- and 3-source operations (incl. division, 64x64->128
//! multiplies, CRC32).

use super::{add_flags32, add_flags64, extend_reg, logic_flags, shift_reg, sized};
use crate::cpu::Core;
use crate::decode::{Fields, Handler, Op, Step};
use crate::state::{cond_holds, r_sp, r_zr, w_zr};

/// Pick a handler instantiation from runtime flags.
macro_rules! pick {
    ($f:ident, $a:expr) => {
        if $a {
            $f::<true> as Handler
        } else {
            $f::<false> as Handler
        }
    };
    ($f:ident, $a:expr, $b:expr) => {
        match ($a, $b) {
            (false, false) => $f::<false, false> as Handler,
            (false, true) => $f::<false, true> as Handler,
            (true, false) => $f::<true, false> as Handler,
            (true, true) => $f::<true, true> as Handler,
        }
    };
    ($f:ident, $a:expr, $b:expr, $c:expr) => {
        match ($a, $b, $c) {
            (false, false, false) => $f::<false, false, false> as Handler,
            (false, false, true) => $f::<false, false, true> as Handler,
            (false, true, false) => $f::<false, true, false> as Handler,
            (false, true, true) => $f::<false, true, true> as Handler,
            (true, false, false) => $f::<true, false, false> as Handler,
            (true, false, true) => $f::<true, false, true> as Handler,
            (true, true, false) => $f::<true, true, false> as Handler,
            (true, true, true) => $f::<true, true, true> as Handler,
        }
    };
}
pub(crate) use pick;

/// Add with optional flags: `a + b + carry`.
#[inline(always)]
fn add_core<const SF: bool, const S: bool>(c: &mut Core, a: u64, b: u64, carry: u64) -> u64 {
    if S {
        let (r, f) = if SF {
            add_flags64(a, b, carry)
        } else {
            add_flags32(a, b, carry)
        };
        c.regs.nzcv = f;
        r
    } else {
        sized::<SF>(a.wrapping_add(b).wrapping_add(carry))
    }
}

fn logic_sh<const SF: bool, const S: bool>(c: &mut Core, op: &Op) -> Step {
    // aux: shift kind | amount << 8 | opc << 16 | N << 18.
    let m = c.x(op.rm);
    let mut b = if op.aux & 0xffff == 0 {
        m
    } else {
        shift_reg::<SF>(m, op.aux & 3, (op.aux >> 8) & 63)
    };
    if op.aux & (1 << 18) != 0 {
        b = !b;
    }
    let a = c.x(op.rn);
    let r = sized::<SF>(match (op.aux >> 16) & 3 {
        0 | 3 => a & b,
        1 => a | b,
        _ => a ^ b,
    });
    if S {
        c.regs.nzcv = logic_flags::<SF>(r);
    }
    c.set_x(op.rd, r);
    Ok(())
}

/// Build AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register).
pub fn build_logic_sh(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let imm6 = f.get("imm6");
    if !sf && imm6 >= 32 {
        return None;
    }
    let opc = f.get("opc");
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        aux: f.get("shift") | (imm6 << 8) | (opc << 16) | (f.get("n") << 18),
        ..Op::new(pick!(logic_sh, sf, opc == 3))
    })
}

fn addsub_sh<const SF: bool, const SUB: bool, const S: bool>(c: &mut Core, op: &Op) -> Step {
    let m = c.x(op.rm);
    let b = if op.aux == 0 {
        m
    } else {
        shift_reg::<SF>(m, op.aux & 3, op.aux >> 8)
    };
    let a = c.x(op.rn);
    let r = if SUB {
        add_core::<SF, S>(c, a, !b, 1)
    } else {
        add_core::<SF, S>(c, a, b, 0)
    };
    c.set_x(op.rd, r);
    Ok(())
}

/// Build ADD/ADDS/SUB/SUBS (shifted register).
pub fn build_addsub_sh(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let (shift, imm6) = (f.get("shift"), f.get("imm6"));
    if shift == 3 || (!sf && imm6 >= 32) {
        return None;
    }
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        aux: shift | (imm6 << 8),
        ..Op::new(pick!(addsub_sh, sf, f.get("op") == 1, f.get("s") == 1))
    })
}

fn addsub_ext<const SF: bool, const SUB: bool, const S: bool>(c: &mut Core, op: &Op) -> Step {
    let b = extend_reg(c.x(op.rm), op.aux & 7, op.aux >> 8);
    let a = c.x(op.rn);
    let r = if SUB {
        add_core::<SF, S>(c, a, !b, 1)
    } else {
        add_core::<SF, S>(c, a, b, 0)
    };
    c.set_x(op.rd, r);
    Ok(())
}

/// Build ADD/ADDS/SUB/SUBS (extended register).
pub fn build_addsub_ext(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let imm3 = f.get("imm3");
    if imm3 > 4 {
        return None;
    }
    let s = f.get("s") == 1;
    Some(Op {
        rd: if s {
            w_zr(f.get("rd"))
        } else {
            r_sp(f.get("rd"))
        },
        rn: r_sp(f.get("rn")),
        rm: r_zr(f.get("rm")),
        aux: f.get("option") | (imm3 << 8),
        ..Op::new(pick!(addsub_ext, sf, f.get("op") == 1, s))
    })
}

fn adc<const SF: bool, const SUB: bool, const S: bool>(c: &mut Core, op: &Op) -> Step {
    let carry = u64::from((c.regs.nzcv >> 29) & 1);
    let a = c.x(op.rn);
    let b = c.x(op.rm);
    let b = if SUB { !b } else { b };
    let r = add_core::<SF, S>(c, a, b, carry);
    c.set_x(op.rd, r);
    Ok(())
}

/// Build ADC/ADCS/SBC/SBCS.
pub fn build_adc(f: &Fields) -> Option<Op> {
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        ..Op::new(pick!(
            adc,
            f.get("sf") == 1,
            f.get("op") == 1,
            f.get("s") == 1
        ))
    })
}

fn ccmp<const SF: bool, const SUB: bool, const IMM: bool>(c: &mut Core, op: &Op) -> Step {
    if cond_holds(op.aux & 15, c.regs.nzcv) {
        let a = c.x(op.rn);
        let b = if IMM { op.imm } else { c.x(op.rm) };
        if SUB {
            add_core::<SF, true>(c, a, !b, 1);
        } else {
            add_core::<SF, true>(c, a, b, 0);
        }
    } else {
        c.regs.nzcv = (op.aux >> 4) << 28;
    }
    Ok(())
}

/// Build CCMN/CCMP (register and immediate).
pub fn build_ccmp(f: &Fields) -> Option<Op> {
    let imm = f.word & (1 << 11) != 0;
    let b = f.get("b");
    Some(Op {
        rn: r_zr(f.get("rn")),
        rm: r_zr(b),
        imm: u64::from(b),
        aux: f.get("cond") | (f.get("nzcv") << 4),
        ..Op::new(pick!(ccmp, f.get("sf") == 1, f.get("op") == 1, imm))
    })
}

fn csel<const SF: bool, const INV: bool, const INC: bool>(c: &mut Core, op: &Op) -> Step {
    let r = if cond_holds(op.aux, c.regs.nzcv) {
        c.x(op.rn)
    } else {
        let mut v = c.x(op.rm);
        if INV {
            v = !v;
        }
        if INC {
            v = v.wrapping_add(1);
        }
        v
    };
    c.set_x(op.rd, sized::<SF>(r));
    Ok(())
}

/// Build CSEL/CSINC/CSINV/CSNEG.
pub fn build_csel(f: &Fields) -> Option<Op> {
    let op2 = f.get("op2");
    if op2 > 1 {
        return None;
    }
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        aux: f.get("cond"),
        ..Op::new(pick!(csel, f.get("sf") == 1, f.get("op") == 1, op2 == 1))
    })
}

fn udiv<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let (a, b) = (sized::<SF>(c.x(op.rn)), sized::<SF>(c.x(op.rm)));
    c.set_x(op.rd, a.checked_div(b).unwrap_or(0));
    Ok(())
}

fn sdiv<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let r = if SF {
        let (a, b) = (c.x(op.rn) as i64, c.x(op.rm) as i64);
        if b == 0 {
            0
        } else {
            a.wrapping_div(b) as u64
        }
    } else {
        let (a, b) = (c.x(op.rn) as i32, c.x(op.rm) as i32);
        if b == 0 {
            0
        } else {
            u64::from(a.wrapping_div(b) as u32)
        }
    };
    c.set_x(op.rd, r);
    Ok(())
}

fn shiftv<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let amount = c.x(op.rm) as u32;
    let r = shift_reg::<SF>(c.x(op.rn), op.aux, amount);
    c.set_x(op.rd, r);
    Ok(())
}

const fn crc_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
            k += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// Reflected CRC-32 (ISO-HDLC, 0x04C11DB7) byte table.
static CRC32: [u32; 256] = crc_table(0xEDB8_8320);
/// Reflected CRC-32C (Castagnoli, 0x1EDC6F41) byte table.
static CRC32C: [u32; 256] = crc_table(0x82F6_3B78);

fn crc<const C: bool>(c: &mut Core, op: &Op) -> Step {
    let t = if C { &CRC32C } else { &CRC32 };
    let mut acc = c.x(op.rn) as u32;
    let data = c.x(op.rm);
    for i in 0..(1u32 << op.aux) {
        let b = (data >> (8 * i)) as u8;
        acc = (acc >> 8) ^ t[usize::from((acc as u8) ^ b)];
    }
    c.set_x(op.rd, u64::from(acc));
    Ok(())
}

/// Build the data-processing (2 source) group.
pub fn build_dp2(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let opcode = f.get("opcode");
    let base = Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        ..Op::new(super::needs_decode)
    };
    let h: Handler = match opcode {
        0b000010 => pick!(udiv, sf),
        0b000011 => pick!(sdiv, sf),
        0b001000..=0b001011 => {
            return Some(
                Op {
                    aux: opcode & 3,
                    ..Op::new(pick!(shiftv, sf))
                }
                .with_regs(&base),
            )
        }
        0b010000..=0b010111 => {
            let sz = opcode & 3;
            if (sz == 3) != sf {
                return None;
            }
            return Some(
                Op {
                    aux: sz,
                    ..Op::new(pick!(crc, opcode & 4 != 0))
                }
                .with_regs(&base),
            );
        }
        _ => return None,
    };
    Some(Op { h, ..base })
}

impl Op {
    /// Copy the register operands of `o` into this op.
    #[must_use]
    pub fn with_regs(self, o: &Op) -> Op {
        Op {
            rd: o.rd,
            rn: o.rn,
            rm: o.rm,
            ra: o.ra,
            ..self
        }
    }
}

fn rbit<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rn);
    let r = if SF {
        v.reverse_bits()
    } else {
        u64::from((v as u32).reverse_bits())
    };
    c.set_x(op.rd, r);
    Ok(())
}

fn rev16<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rn);
    let r = ((v & 0x00ff_00ff_00ff_00ff) << 8) | ((v >> 8) & 0x00ff_00ff_00ff_00ff);
    c.set_x(op.rd, sized::<SF>(r));
    Ok(())
}

fn rev32<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rn);
    let r = if SF {
        let lo = (v as u32).swap_bytes();
        let hi = ((v >> 32) as u32).swap_bytes();
        (u64::from(hi) << 32) | u64::from(lo)
    } else {
        u64::from((v as u32).swap_bytes())
    };
    c.set_x(op.rd, r);
    Ok(())
}

fn rev64(c: &mut Core, op: &Op) -> Step {
    c.set_x(op.rd, c.x(op.rn).swap_bytes());
    Ok(())
}

fn clz<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rn);
    let r = if SF {
        v.leading_zeros()
    } else {
        (v as u32).leading_zeros()
    };
    c.set_x(op.rd, u64::from(r));
    Ok(())
}

fn cls<const SF: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rn);
    let r = if SF {
        (v ^ (v << 1) | 1).leading_zeros()
    } else {
        let w = v as u32;
        (w ^ (w << 1) | 1).leading_zeros()
    };
    c.set_x(op.rd, u64::from(r));
    Ok(())
}

/// Build the data-processing (1 source) group.
pub fn build_dp1(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let h: Handler = match f.get("opcode") {
        0 => pick!(rbit, sf),
        1 => pick!(rev16, sf),
        2 => pick!(rev32, sf),
        3 if sf => rev64,
        4 => pick!(clz, sf),
        5 => pick!(cls, sf),
        _ => return None,
    };
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        ..Op::new(h)
    })
}

fn madd<const SF: bool, const SUB: bool>(c: &mut Core, op: &Op) -> Step {
    let p = c.x(op.rn).wrapping_mul(c.x(op.rm));
    let a = c.x(op.ra);
    let r = if SUB {
        a.wrapping_sub(p)
    } else {
        a.wrapping_add(p)
    };
    c.set_x(op.rd, sized::<SF>(r));
    Ok(())
}

fn maddl<const SIGNED: bool, const SUB: bool>(c: &mut Core, op: &Op) -> Step {
    let (n, m) = (c.x(op.rn), c.x(op.rm));
    let p = if SIGNED {
        (i64::from(n as i32) * i64::from(m as i32)) as u64
    } else {
        (n & 0xffff_ffff) * (m & 0xffff_ffff)
    };
    let a = c.x(op.ra);
    c.set_x(
        op.rd,
        if SUB {
            a.wrapping_sub(p)
        } else {
            a.wrapping_add(p)
        },
    );
    Ok(())
}

fn mulh<const SIGNED: bool>(c: &mut Core, op: &Op) -> Step {
    let (n, m) = (c.x(op.rn), c.x(op.rm));
    let r = if SIGNED {
        ((i128::from(n as i64) * i128::from(m as i64)) >> 64) as u64
    } else {
        ((u128::from(n) * u128::from(m)) >> 64) as u64
    };
    c.set_x(op.rd, r);
    Ok(())
}

/// Build the data-processing (3 source) group.
pub fn build_dp3(f: &Fields) -> Option<Op> {
    let sf = f.get("sf") == 1;
    let o0 = f.get("o0") == 1;
    let h: Handler = match (f.get("op31"), sf) {
        (0, _) => pick!(madd, sf, o0),
        (1, true) => pick!(maddl, true, o0),
        (5, true) => pick!(maddl, false, o0),
        (2, true) if !o0 => mulh::<true>,
        (6, true) if !o0 => mulh::<false>,
        _ => return None,
    };
    Some(Op {
        rd: w_zr(f.get("rd")),
        rn: r_zr(f.get("rn")),
        rm: r_zr(f.get("rm")),
        ra: r_zr(f.get("ra")),
        ..Op::new(h)
    })
}
