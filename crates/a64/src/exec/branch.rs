//! Branches and exception generation: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ,
//! BR/BLR/RET, ERET, SVC/HVC/BRK.

use super::dp_reg::pick;
use crate::cpu::{Core, Exit};
use crate::decode::{Fields, Flow, Handler, Op, Step};
use crate::exception::{ec, SyncException};
use crate::state::{cond_holds, r_zr};

fn b(c: &mut Core, op: &Op) -> Step {
    c.regs.pc = c.regs.pc.wrapping_add(op.imm);
    Err(Flow::Branch)
}

fn bl(c: &mut Core, op: &Op) -> Step {
    c.regs.x[30] = c.regs.pc.wrapping_add(4);
    c.regs.pc = c.regs.pc.wrapping_add(op.imm);
    Err(Flow::Branch)
}

/// `b .` (a branch to itself). With IRQs masked nothing the machine raises can leave it:
/// the PE has halted (Linux's `while (1);` after "Reboot failed -- System halted" or a
/// panic on a board without PSCI), so the run stops with [`Exit::Halted`] instead of
/// spinning to its budget. With IRQs unmasked it is a wait loop like any other.
fn b_self(c: &mut Core, _: &Op) -> Step {
    if c.regs.pstate.daif & crate::state::DAIF_I != 0 && !c.user_mode {
        c.exit = Some(Exit::Halted);
        return Err(Flow::End);
    }
    Err(Flow::Branch)
}

/// Build B/BL.
pub fn build_b(f: &Fields) -> Option<Op> {
    let imm = (f.sext("imm26") << 2) as u64;
    let h: Handler = match (f.get("op"), imm) {
        (1, _) => bl,
        (_, 0) => b_self,
        _ => b,
    };
    Some(Op { imm, ..Op::new(h) })
}

fn b_cond(c: &mut Core, op: &Op) -> Step {
    if cond_holds(op.aux, c.regs.nzcv) {
        c.regs.pc = c.regs.pc.wrapping_add(op.imm);
        return Err(Flow::Branch);
    }
    Ok(())
}

/// Build B.cond.
pub fn build_b_cond(f: &Fields) -> Option<Op> {
    Some(Op {
        imm: (f.sext("imm19") << 2) as u64,
        aux: f.get("cond"),
        ..Op::new(b_cond)
    })
}

fn cbz<const SF: bool, const NZ: bool>(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rd);
    let zero = if SF { v == 0 } else { v as u32 == 0 };
    if zero != NZ {
        c.regs.pc = c.regs.pc.wrapping_add(op.imm);
        return Err(Flow::Branch);
    }
    Ok(())
}

/// Build CBZ/CBNZ.
pub fn build_cbz(f: &Fields) -> Option<Op> {
    Some(Op {
        rd: r_zr(f.get("rt")),
        imm: (f.sext("imm19") << 2) as u64,
        ..Op::new(pick!(cbz, f.get("sf") == 1, f.get("op") == 1))
    })
}

fn tbz<const NZ: bool>(c: &mut Core, op: &Op) -> Step {
    let set = (c.x(op.rd) >> op.aux) & 1 != 0;
    if set == NZ {
        c.regs.pc = c.regs.pc.wrapping_add(op.imm);
        return Err(Flow::Branch);
    }
    Ok(())
}

/// Build TBZ/TBNZ.
pub fn build_tbz(f: &Fields) -> Option<Op> {
    Some(Op {
        rd: r_zr(f.get("rt")),
        imm: (f.sext("imm14") << 2) as u64,
        aux: (f.get("b5") << 5) | f.get("b40"),
        ..Op::new(pick!(tbz, f.get("op") == 1))
    })
}

/// BranchTo for register targets: at EL0 with TBI0 the tag byte is dropped.
#[inline(always)]
fn branch_target(c: &Core, t: u64) -> u64 {
    if c.regs.pstate.el == 0 && crate::mmu::tbi(c.sys.tcr, t) && !c.user_mode {
        ((t << 8) as i64 >> 8) as u64
    } else if c.user_mode {
        t & 0x00ff_ffff_ffff_ffff
    } else {
        t
    }
}

fn br(c: &mut Core, op: &Op) -> Step {
    c.regs.pc = branch_target(c, c.x(op.rn));
    Err(Flow::Branch)
}

fn blr(c: &mut Core, op: &Op) -> Step {
    let t = c.x(op.rn);
    c.regs.x[30] = c.regs.pc.wrapping_add(4);
    c.regs.pc = branch_target(c, t);
    Err(Flow::Branch)
}

/// Build BR/BLR/RET.
pub fn build_br(f: &Fields) -> Option<Op> {
    let h: Handler = match f.get("opc") {
        0 | 2 => br,
        1 => blr,
        _ => return None,
    };
    Some(Op {
        rn: r_zr(f.get("rn")),
        ..Op::new(h)
    })
}

fn eret(c: &mut Core, _: &Op) -> Step {
    if c.regs.pstate.el == 0 {
        return Err(c.undefined());
    }
    Err(c.exception_return())
}

/// Build ERET.
pub fn build_eret(_: &Fields) -> Option<Op> {
    Some(Op::new(eret))
}

fn svc(c: &mut Core, op: &Op) -> Step {
    let next = c.regs.pc.wrapping_add(4);
    if c.user_mode {
        c.regs.pc = next;
        c.exit = Some(Exit::Svc(op.imm as u16));
        return Err(Flow::End);
    }
    Err(c.take_sync(SyncException {
        ec: ec::SVC,
        iss: op.imm as u32,
        far: None,
        ret: next,
    }))
}

fn hvc(c: &mut Core, op: &Op) -> Step {
    // No EL2: HVC at EL1 is a firmware call the embedder answers; at EL0 it
    // is UNDEFINED.
    if c.regs.pstate.el == 0 || c.user_mode {
        return Err(c.undefined());
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    c.exit = Some(Exit::Hvc(op.imm as u16));
    Err(Flow::End)
}

fn smc(c: &mut Core, op: &Op) -> Step {
    // The board's EL3 firmware is the embedder: SMC at EL1 is a firmware call it answers
    // (PSCI with `method = "smc"`, SMCCC services); at EL0 it is UNDEFINED.
    if c.regs.pstate.el == 0 || c.user_mode {
        return Err(c.undefined());
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    c.exit = Some(Exit::Smc(op.imm as u16));
    Err(Flow::End)
}

fn brk(c: &mut Core, op: &Op) -> Step {
    let pc = c.regs.pc;
    Err(c.take_sync(SyncException {
        ec: ec::BRK,
        iss: op.imm as u32,
        far: None,
        ret: pc,
    }))
}

/// Build SVC/HVC/SMC/BRK.
pub fn build_exc(f: &Fields) -> Option<Op> {
    let kind = (((f.word >> 21) & 7) << 2) | (f.word & 3);
    let h: Handler = match kind {
        0b00001 => svc,
        0b00010 => hvc,
        0b00011 => smc,
        0b00100 => brk,
        _ => return None,
    };
    Some(Op {
        imm: u64::from(f.get("imm16")),
        ..Op::new(h)
    })
}
