//! Loads and stores: register (unsigned offset, unscaled, pre/post-index,
//! register offset, literal, unprivileged), pairs, exclusives,
//! acquire/release, PRFM, and SIMD&FP registers of every size.

use super::extend_reg;
use crate::cpu::Core;
use crate::decode::{Fields, Flow, Handler, Op, Step};
use crate::exception::{ec, SyncException};
use crate::state::{r_sp, r_zr, w_zr, SP};
use crate::sysreg::sctlr;

/// Addressing modes (const parameters of the handlers).
pub(crate) const OFF: u8 = 0;
const PRE: u8 = 1;
const POST: u8 = 2;
const REG: u8 = 3;
const LIT: u8 = 4;
const UNPRIV: u8 = 5;
/// Register offset without extension (LSL / UXTX): the common case.
pub(crate) const REG_LSL: u8 = 6;

/// SP alignment check (SCTLR_EL1.SA/SA0): a load or store using SP as its
/// base with SP not 16-byte aligned takes an SP alignment fault (EC 0x26).
#[inline(always)]
fn sp_check(c: &mut Core, op: &Op) -> Result<(), Flow> {
    if op.rn == SP && c.x(SP) & 15 != 0 {
        return sp_fault(c);
    }
    Ok(())
}

#[cold]
fn sp_fault(c: &mut Core) -> Result<(), Flow> {
    let bit = if c.regs.pstate.el == 0 {
        sctlr::SA0
    } else {
        sctlr::SA
    };
    if c.user_mode || c.sys.sctlr & bit == 0 {
        return Ok(());
    }
    let pc = c.regs.pc;
    Err(c.take_sync(SyncException {
        ec: ec::SP_ALIGN,
        iss: 0,
        far: None,
        ret: pc,
    }))
}

#[inline(always)]
fn ea<const M: u8>(c: &Core, op: &Op) -> u64 {
    match M {
        OFF | PRE | UNPRIV => c.x(op.rn).wrapping_add(op.imm),
        POST => c.x(op.rn),
        REG => c
            .x(op.rn)
            .wrapping_add(extend_reg(c.x(op.rm), op.aux & 7, op.aux >> 8)),
        REG_LSL => c.x(op.rn).wrapping_add(c.x(op.rm) << (op.aux & 7)),
        _ => c.regs.pc.wrapping_add(op.imm),
    }
}

#[inline(always)]
fn writeback<const M: u8>(c: &mut Core, op: &Op, addr: u64) {
    match M {
        PRE => c.set_x(op.rn, addr),
        POST => c.set_x(op.rn, addr.wrapping_add(op.imm)),
        _ => {}
    }
}

#[inline(always)]
fn el_of<const M: u8>(c: &Core) -> u8 {
    if M == UNPRIV {
        0
    } else {
        c.regs.pstate.el
    }
}

#[inline(always)]
fn sext(v: u64, bytes: usize) -> u64 {
    let sh = 64 - 8 * bytes as u32;
    (((v << sh) as i64) >> sh) as u64
}

/// Sign extension modes of loads: none, to 64 bits, to 32 bits.
pub(crate) const ZX: u8 = 0;
const SX64: u8 = 1;
const SX32: u8 = 2;

pub(crate) fn ld<const M: u8, const N: usize, const S: u8>(c: &mut Core, op: &Op) -> Step {
    if M != LIT {
        sp_check(c, op)?;
    }
    let a = ea::<M>(c, op);
    let v = c.read_el::<N>(a, el_of::<M>(c))?;
    let v = match S {
        ZX => v,
        SX64 => sext(v, N),
        _ => sext(v, N) & 0xffff_ffff,
    };
    writeback::<M>(c, op, a);
    c.set_x(op.rd, v);
    Ok(())
}

fn st<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    if M != LIT {
        sp_check(c, op)?;
    }
    let a = ea::<M>(c, op);
    let v = c.x(op.rd);
    c.write_el::<N>(a, v, el_of::<M>(c))?;
    writeback::<M>(c, op, a);
    Ok(())
}

/// Whether SIMD&FP instructions may execute (CPACR_EL1.FPEN).
#[inline(always)]
pub fn fp_enabled(c: &Core) -> bool {
    let fpen = (c.sys.cpacr >> 20) & 3;
    fpen == 3 || (fpen == 1 && c.regs.pstate.el == 1)
}

/// Take the CPACR_EL1.FPEN trap (EC 0x07).
#[cold]
pub fn fp_trap(c: &mut Core) -> Flow {
    let pc = c.regs.pc;
    c.take_sync(SyncException {
        ec: ec::FP,
        iss: crate::exception::ISS_CV_AL,
        far: None,
        ret: pc,
    })
}

#[inline(always)]
fn read_v<const N: usize>(c: &mut Core, a: u64, el: u8) -> Result<u128, Flow> {
    Ok(if N == 16 {
        let (lo, hi) = c.read_pair::<8>(a, el)?;
        (u128::from(hi) << 64) | u128::from(lo)
    } else {
        u128::from(c.read_el::<N>(a, el)?)
    })
}

#[inline(always)]
fn write_v<const N: usize>(c: &mut Core, a: u64, v: u128, el: u8) -> Result<(), Flow> {
    if N == 16 {
        c.write_pair::<8>(a, v as u64, (v >> 64) as u64, el)
    } else {
        c.write_el::<N>(a, v as u64, el)
    }
}

/// The preamble of every FP/SIMD register load/store: the CPACR_EL1.FPEN trap, the SP
/// alignment check, then the effective address.
#[inline(always)]
fn fp_ea<const M: u8>(c: &mut Core, op: &Op) -> Result<u64, Flow> {
    if !fp_enabled(c) {
        return Err(fp_trap(c));
    }
    if M != LIT {
        sp_check(c, op)?;
    }
    Ok(ea::<M>(c, op))
}

fn ldv<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    let a = fp_ea::<M>(c, op)?;
    let v = read_v::<N>(c, a, el_of::<M>(c))?;
    writeback::<M>(c, op, a);
    c.regs.v[usize::from(op.rd & 31)] = v;
    Ok(())
}

fn stv<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    let a = fp_ea::<M>(c, op)?;
    let v = c.regs.v[usize::from(op.rd & 31)];
    write_v::<N>(c, a, v, el_of::<M>(c))?;
    writeback::<M>(c, op, a);
    Ok(())
}

/// PRFM and PRFUM: no caches are modelled (the translator generates nothing for them).
pub(crate) fn nop(_: &mut Core, _: &Op) -> Step {
    Ok(())
}

macro_rules! by_mode {
    ($m:expr, $f:ident $(, $p:tt)*) => {
        match $m {
            OFF => $f::<OFF $(, $p)*> as Handler,
            PRE => $f::<PRE $(, $p)*> as Handler,
            POST => $f::<POST $(, $p)*> as Handler,
            REG => $f::<REG $(, $p)*> as Handler,
            LIT => $f::<LIT $(, $p)*> as Handler,
            REG_LSL => $f::<REG_LSL $(, $p)*> as Handler,
            _ => $f::<UNPRIV $(, $p)*> as Handler,
        }
    };
}

/// What a (size, V, opc) combination does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Load(u32, u8),
    Store(u32),
    LoadV(u32),
    StoreV(u32),
    Prefetch,
}

fn kind_of(size: u32, v: bool, opc: u32) -> Option<Kind> {
    let k = match (v, opc, size) {
        (false, 0, s) => Kind::Store(s),
        (false, 1, s) => Kind::Load(s, ZX),
        (false, 2, 3) => Kind::Prefetch,
        (false, 2, s) => Kind::Load(s, SX64),
        (false, 3, s) if s < 2 => Kind::Load(s, SX32),
        (true, 0, s) => Kind::StoreV(s),
        (true, 1, s) => Kind::LoadV(s),
        (true, 2, 0) => Kind::StoreV(4),
        (true, 3, 0) => Kind::LoadV(4),
        _ => return None,
    };
    Some(k)
}

fn handler(mode: u8, k: Kind) -> Option<Handler> {
    Some(match k {
        Kind::Prefetch => nop,
        Kind::Store(0) => by_mode!(mode, st, 1),
        Kind::Store(1) => by_mode!(mode, st, 2),
        Kind::Store(2) => by_mode!(mode, st, 4),
        Kind::Store(_) => by_mode!(mode, st, 8),
        Kind::Load(0, ZX) => by_mode!(mode, ld, 1, ZX),
        Kind::Load(1, ZX) => by_mode!(mode, ld, 2, ZX),
        Kind::Load(2, ZX) => by_mode!(mode, ld, 4, ZX),
        Kind::Load(3, ZX) => by_mode!(mode, ld, 8, ZX),
        Kind::Load(0, SX64) => by_mode!(mode, ld, 1, SX64),
        Kind::Load(1, SX64) => by_mode!(mode, ld, 2, SX64),
        Kind::Load(2, SX64) => by_mode!(mode, ld, 4, SX64),
        Kind::Load(0, SX32) => by_mode!(mode, ld, 1, SX32),
        Kind::Load(1, SX32) => by_mode!(mode, ld, 2, SX32),
        Kind::LoadV(0) => by_mode!(mode, ldv, 1),
        Kind::LoadV(1) => by_mode!(mode, ldv, 2),
        Kind::LoadV(2) => by_mode!(mode, ldv, 4),
        Kind::LoadV(3) => by_mode!(mode, ldv, 8),
        Kind::LoadV(_) => by_mode!(mode, ldv, 16),
        Kind::StoreV(0) => by_mode!(mode, stv, 1),
        Kind::StoreV(1) => by_mode!(mode, stv, 2),
        Kind::StoreV(2) => by_mode!(mode, stv, 4),
        Kind::StoreV(3) => by_mode!(mode, stv, 8),
        Kind::StoreV(_) => by_mode!(mode, stv, 16),
        Kind::Load(..) => return None,
    })
}

/// log2 of the access size of a kind.
fn scale_of(k: Kind) -> u32 {
    match k {
        Kind::Load(s, _) | Kind::Store(s) | Kind::LoadV(s) | Kind::StoreV(s) => s,
        Kind::Prefetch => 3,
    }
}

fn build_common(f: &Fields, mode: u8, offset: Option<i64>) -> Option<Op> {
    let size = f.get("size");
    let v = f.get("v") == 1;
    let k = kind_of(size, v, f.get("opc"))?;
    let scale = scale_of(k);
    if k == Kind::Prefetch && matches!(mode, PRE | POST | UNPRIV) {
        return None;
    }
    if v && mode == UNPRIV {
        return None;
    }
    let rt = f.get("rt");
    let rd = match k {
        Kind::Load(..) => w_zr(rt),
        _ => r_zr(rt),
    };
    // LSL/UXTX register offsets need no extension.
    let mode = if mode == REG && f.get("option") == 3 {
        REG_LSL
    } else {
        mode
    };
    let mut op = Op {
        rd,
        rn: r_sp(f.get("rn")),
        ..Op::new(handler(mode, k)?)
    };
    match offset {
        Some(o) => op.imm = o as u64,
        None => {
            // Register offset: option<1> must be set.
            let option = f.get("option");
            if option & 2 == 0 {
                return None;
            }
            op.rm = r_zr(f.get("rm"));
            let shift = if f.get("s") == 1 { scale } else { 0 };
            op.aux = if mode == REG_LSL {
                shift
            } else {
                option | (shift << 8)
            };
        }
    }
    let _ = scale;
    Some(op)
}

/// Build LDR/STR (unsigned scaled offset).
pub fn build_uimm(f: &Fields) -> Option<Op> {
    let size = f.get("size");
    let k = kind_of(size, f.get("v") == 1, f.get("opc"))?;
    let off = i64::from(f.get("imm12")) << scale_of(k);
    build_common(f, OFF, Some(off))
}

/// Build LDUR/STUR (unscaled offset).
pub fn build_unscaled(f: &Fields) -> Option<Op> {
    build_common(f, OFF, Some(f.sext("imm9")))
}

/// Build pre-indexed LDR/STR.
pub fn build_pre(f: &Fields) -> Option<Op> {
    build_common(f, PRE, Some(f.sext("imm9")))
}

/// Build post-indexed LDR/STR.
pub fn build_post(f: &Fields) -> Option<Op> {
    build_common(f, POST, Some(f.sext("imm9")))
}

/// Build LDTR/STTR (unprivileged).
pub fn build_unpriv(f: &Fields) -> Option<Op> {
    build_common(f, UNPRIV, Some(f.sext("imm9")))
}

/// Build LDR/STR (register offset).
pub fn build_regoff(f: &Fields) -> Option<Op> {
    build_common(f, REG, None)
}

/// Build LDR (literal) and PRFM (literal).
pub fn build_literal(f: &Fields) -> Option<Op> {
    let v = f.get("v") == 1;
    let k = match (v, f.get("opc")) {
        (false, 0) => Kind::Load(2, ZX),
        (false, 1) => Kind::Load(3, ZX),
        (false, 2) => Kind::Load(2, SX64),
        (false, _) => Kind::Prefetch,
        (true, 0) => Kind::LoadV(2),
        (true, 1) => Kind::LoadV(3),
        (true, 2) => Kind::LoadV(4),
        (true, _) => return None,
    };
    let rt = f.get("rt");
    Some(Op {
        rd: if v { r_zr(rt) } else { w_zr(rt) },
        imm: (f.sext("imm19") << 2) as u64,
        ..Op::new(handler(LIT, k)?)
    })
}

fn ldp<const M: u8, const N: usize, const S: u8>(c: &mut Core, op: &Op) -> Step {
    if M != LIT {
        sp_check(c, op)?;
    }
    let a = ea::<M>(c, op);
    let el = c.regs.pstate.el;
    let (v1, v2) = c.read_pair::<N>(a, el)?;
    let (v1, v2) = if S == SX64 {
        (sext(v1, N), sext(v2, N))
    } else {
        (v1, v2)
    };
    writeback::<M>(c, op, a);
    c.set_x(op.rd, v1);
    c.set_x(op.ra, v2);
    Ok(())
}

fn stp<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    if M != LIT {
        sp_check(c, op)?;
    }
    let a = ea::<M>(c, op);
    let el = c.regs.pstate.el;
    let (v1, v2) = (c.x(op.rd), c.x(op.ra));
    c.write_pair::<N>(a, v1, v2, el)?;
    writeback::<M>(c, op, a);
    Ok(())
}

fn ldpv<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    let a = fp_ea::<M>(c, op)?;
    let el = c.regs.pstate.el;
    let v1 = read_v::<N>(c, a, el)?;
    let v2 = read_v::<N>(c, a.wrapping_add(N as u64), el)?;
    writeback::<M>(c, op, a);
    c.regs.v[usize::from(op.rd & 31)] = v1;
    c.regs.v[usize::from(op.ra & 31)] = v2;
    Ok(())
}

fn stpv<const M: u8, const N: usize>(c: &mut Core, op: &Op) -> Step {
    let a = fp_ea::<M>(c, op)?;
    let el = c.regs.pstate.el;
    let v1 = c.regs.v[usize::from(op.rd & 31)];
    let v2 = c.regs.v[usize::from(op.ra & 31)];
    write_v::<N>(c, a, v1, el)?;
    write_v::<N>(c, a.wrapping_add(N as u64), v2, el)?;
    writeback::<M>(c, op, a);
    Ok(())
}

macro_rules! by_pair_mode {
    ($m:expr, $f:ident $(, $p:tt)*) => {
        match $m {
            PRE => $f::<PRE $(, $p)*> as Handler,
            POST => $f::<POST $(, $p)*> as Handler,
            _ => $f::<OFF $(, $p)*> as Handler,
        }
    };
}

/// Build LDP/STP/LDNP/STNP/LDPSW (integer and SIMD&FP).
pub fn build_pair(f: &Fields) -> Option<Op> {
    let opc = f.get("opc");
    let v = f.get("v") == 1;
    let load = f.get("l") == 1;
    let idx = f.get("idx");
    let mode = match idx {
        1 => POST,
        3 => PRE,
        _ => OFF,
    };
    let (scale, h): (u32, Handler) = match (v, opc, load) {
        (false, 0, false) => (2, by_pair_mode!(mode, stp, 4)),
        (false, 0, true) => (2, by_pair_mode!(mode, ldp, 4, ZX)),
        (false, 1, true) if idx != 0 => (2, by_pair_mode!(mode, ldp, 4, SX64)),
        (false, 2, false) => (3, by_pair_mode!(mode, stp, 8)),
        (false, 2, true) => (3, by_pair_mode!(mode, ldp, 8, ZX)),
        (true, 0, false) => (2, by_pair_mode!(mode, stpv, 4)),
        (true, 0, true) => (2, by_pair_mode!(mode, ldpv, 4)),
        (true, 1, false) => (3, by_pair_mode!(mode, stpv, 8)),
        (true, 1, true) => (3, by_pair_mode!(mode, ldpv, 8)),
        (true, 2, false) => (4, by_pair_mode!(mode, stpv, 16)),
        (true, 2, true) => (4, by_pair_mode!(mode, ldpv, 16)),
        _ => return None,
    };
    let (rt, rt2) = (f.get("rt"), f.get("rt2"));
    let (rd, ra) = if load && !v {
        (w_zr(rt), w_zr(rt2))
    } else {
        (r_zr(rt), r_zr(rt2))
    };
    Some(Op {
        rd,
        ra,
        rn: r_sp(f.get("rn")),
        imm: (f.sext("imm7") << scale) as u64,
        ..Op::new(h)
    })
}

fn ldxr<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    let v = c.read_aligned(a, N)?;
    let pa = c.monitor_pa(a)?;
    c.monitor = Some((pa, N as u8));
    c.set_x(op.rd, v);
    Ok(())
}

/// Check and clear the monitor for a store-exclusive of `n` bytes at `a`.
fn monitor_pass(c: &mut Core, a: u64, n: usize) -> Result<bool, Flow> {
    if a & (n as u64 - 1) != 0 {
        return Err(c.data_abort(a, crate::exception::FSC_ALIGNMENT, true, false));
    }
    let armed = c.monitor.take();
    let Some((mpa, msize)) = armed else {
        return Ok(false);
    };
    let pa = c.monitor_pa(a)?;
    Ok(mpa == pa && usize::from(msize) == n)
}

fn stxr<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    let pass = monitor_pass(c, a, N)?;
    if pass {
        let v = c.x(op.rd);
        c.write_aligned(a, N, v)?;
    }
    c.set_x(op.ra, u64::from(!pass));
    Ok(())
}

fn ldxp<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    if a & (2 * N as u64 - 1) != 0 {
        return Err(c.data_abort(a, crate::exception::FSC_ALIGNMENT, false, false));
    }
    let v1 = c.read_aligned(a, N)?;
    let v2 = c.read_aligned(a.wrapping_add(N as u64), N)?;
    let pa = c.monitor_pa(a)?;
    c.monitor = Some((pa, 2 * N as u8));
    c.set_x(op.rd, v1);
    c.set_x(op.rm, v2);
    Ok(())
}

fn stxp<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    let pass = monitor_pass(c, a, 2 * N)?;
    if pass {
        let (v1, v2) = (c.x(op.rd), c.x(op.rm));
        if N == 4 {
            c.write_aligned(a, 8, (v1 & 0xffff_ffff) | (v2 << 32))?;
        } else {
            c.write_aligned(a, 8, v1)?;
            c.write_aligned(a.wrapping_add(8), 8, v2)?;
        }
    }
    c.set_x(op.ra, u64::from(!pass));
    Ok(())
}

fn ldar<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    let v = c.read_aligned(a, N)?;
    c.set_x(op.rd, v);
    Ok(())
}

fn stlr<const N: usize>(c: &mut Core, op: &Op) -> Step {
    sp_check(c, op)?;
    let a = c.x(op.rn);
    let v = c.x(op.rd);
    c.write_aligned(a, N, v)
}

macro_rules! by_size {
    ($s:expr, $f:ident) => {
        match $s {
            0 => $f::<1> as Handler,
            1 => $f::<2> as Handler,
            2 => $f::<4> as Handler,
            _ => $f::<8> as Handler,
        }
    };
}

/// Build LDXR/LDAXR/STXR/STLXR/LDXP/LDAXP/STXP/STLXP/LDAR/STLR.
pub fn build_exclusive(f: &Fields) -> Option<Op> {
    let size = f.get("size");
    let o2 = (f.word >> 23) & 1;
    let load = (f.word >> 22) & 1 == 1;
    let o1 = (f.word >> 21) & 1;
    let o0 = (f.word >> 15) & 1;
    let (rt, rt2) = (f.get("rt"), f.get("rt2"));
    let base = Op {
        rn: r_sp(f.get("rn")),
        ra: w_zr(f.get("rs")),
        ..Op::new(nop)
    };
    let (h, rd, rm): (Handler, u8, u8) = match (o2, load, o1) {
        (0, false, 0) => (by_size!(size, stxr), r_zr(rt), 0),
        (0, true, 0) => (by_size!(size, ldxr), w_zr(rt), 0),
        (0, false, 1) if size >= 2 => (
            if size == 2 { stxp::<4> } else { stxp::<8> },
            r_zr(rt),
            r_zr(rt2),
        ),
        (0, true, 1) if size >= 2 => (
            if size == 2 { ldxp::<4> } else { ldxp::<8> },
            w_zr(rt),
            w_zr(rt2),
        ),
        (1, false, 0) if o0 == 1 => (by_size!(size, stlr), r_zr(rt), 0),
        (1, true, 0) if o0 == 1 => (by_size!(size, ldar), w_zr(rt), 0),
        _ => return None,
    };
    Some(Op { h, rd, rm, ..base })
}
