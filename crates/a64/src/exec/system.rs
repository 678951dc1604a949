//! System instructions: MRS/MSR (register and PSTATE immediate), hints,
//! barriers, CLREX, and SYS (DC, IC, TLBI, AT). Access rules follow the Arm
//! ARM: EL0 may reach only the EL0 registers its controls allow; a disabled
//! EL0 access that the architecture traps reports EC 0x18, everything else
//! unknown or forbidden is UNDEFINED.

use super::ldst::{fp_enabled, fp_trap};
use crate::cpu::{Core, Exit};
use crate::decode::{Fields, Flow, Handler, Op, Step};
use crate::exception::{ec, SyncException};
use crate::mmu;
use crate::state::{r_zr, w_zr, DAIF_ALL};
use crate::sysreg::{is_debug_raz_wi, is_id_space, k, sctlr};
use crate::tlb::AccessKind;

/// Why a system register access does not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// UNDEFINED (EC 0x00).
    Undefined,
    /// Trapped to EL1 with EC 0x18.
    Trap,
    /// SIMD&FP disabled by CPACR_EL1.FPEN (EC 0x07).
    Fp,
}

/// CNTKCTL_EL1 bits.
const EL0PCTEN: u64 = 1;
const EL0VCTEN: u64 = 2;
const EL0VTEN: u64 = 1 << 8;
const EL0PTEN: u64 = 1 << 9;

impl Core {
    /// EL0 access check for a register key; `Ok` means allowed.
    fn el0_check(&self, key: u32, write: bool) -> Result<(), Denied> {
        let s = self.sys.sctlr;
        let kc = self.sys.cntkctl;
        let allow = |b: bool| if b { Ok(()) } else { Err(Denied::Trap) };
        match key {
            k::NZCV | k::TPIDR_EL0 => Ok(()),
            k::FPCR | k::FPSR => {
                if fp_enabled(self) {
                    Ok(())
                } else {
                    Err(Denied::Fp)
                }
            }
            k::TPIDRRO_EL0 | k::DCZID_EL0 if !write => Ok(()),
            k::DAIF => allow(s & sctlr::UMA != 0),
            k::CTR_EL0 if !write => allow(s & sctlr::UCT != 0),
            k::CNTFRQ_EL0 if !write => allow(kc & (EL0PCTEN | EL0VCTEN) != 0),
            k::CNTVCT_EL0 if !write => allow(kc & EL0VCTEN != 0),
            k::CNTPCT_EL0 if !write => allow(kc & EL0PCTEN != 0),
            k::CNTV_CTL_EL0 | k::CNTV_CVAL_EL0 | k::CNTV_TVAL_EL0 => allow(kc & EL0VTEN != 0),
            k::CNTP_CTL_EL0 | k::CNTP_CVAL_EL0 | k::CNTP_TVAL_EL0 => allow(kc & EL0PTEN != 0),
            _ if is_id_space(key) && !write && self.profile.el0_id_traps_as_sysreg => {
                Err(Denied::Trap)
            }
            _ => Err(Denied::Undefined),
        }
    }

    /// MRS: read system register `key` at the current EL.
    ///
    /// # Errors
    /// How the access is refused.
    pub fn sysreg_read(&mut self, key: u32) -> Result<u64, Denied> {
        if self.regs.pstate.el == 0 && !self.user_mode {
            self.el0_check(key, false)?;
        } else if self.user_mode {
            // Linux user mode: what Linux gives EL0 (CTR, DCZID, counters enabled).
            match key {
                k::NZCV
                | k::TPIDR_EL0
                | k::TPIDRRO_EL0
                | k::FPCR
                | k::FPSR
                | k::DCZID_EL0
                | k::CTR_EL0
                | k::CNTFRQ_EL0
                | k::CNTVCT_EL0 => {}
                _ if is_id_space(key) => {}
                _ => return Err(Denied::Undefined),
            }
        }
        let s = &self.sys;
        Ok(match key {
            k::NZCV => u64::from(self.regs.nzcv),
            k::DAIF => u64::from(self.regs.pstate.daif),
            k::FPCR => u64::from(self.regs.fpcr),
            k::FPSR => u64::from(self.regs.fpsr),
            k::TPIDR_EL0 => s.tpidr_el0,
            k::TPIDRRO_EL0 => s.tpidrro_el0,
            k::CTR_EL0 => self.profile.ctr,
            k::DCZID_EL0 => {
                let dzp = self.regs.pstate.el == 0 && !self.user_mode && s.sctlr & sctlr::DZE == 0;
                self.profile.dczid | (u64::from(dzp) << 4)
            }
            k::CNTFRQ_EL0 => self.profile.cntfrq,
            k::CNTVCT_EL0 | k::CNTPCT_EL0 => self.counter(),
            k::CNTV_CTL_EL0 => self.timer_ctl_read(s.cntv_ctl, s.cntv_cval),
            k::CNTV_CVAL_EL0 => s.cntv_cval,
            k::CNTV_TVAL_EL0 => self.timer_tval_read(s.cntv_cval),
            k::CNTP_CTL_EL0 => self.timer_ctl_read(s.cntp_ctl, s.cntp_cval),
            k::CNTP_CVAL_EL0 => s.cntp_cval,
            k::CNTP_TVAL_EL0 => self.timer_tval_read(s.cntp_cval),
            k::SCTLR_EL1 => s.sctlr,
            k::ACTLR_EL1 => s.actlr,
            k::CPACR_EL1 => s.cpacr,
            k::TTBR0_EL1 => s.ttbr0,
            k::TTBR1_EL1 => s.ttbr1,
            k::TCR_EL1 => s.tcr,
            k::SPSR_EL1 => s.spsr,
            k::ELR_EL1 => s.elr,
            k::SP_EL0 => {
                if !self.regs.pstate.sp_sel {
                    return Err(Denied::Undefined);
                }
                self.regs.sp_el0()
            }
            k::SPSEL => u64::from(self.regs.pstate.sp_sel),
            k::CURRENT_EL => u64::from(self.regs.pstate.el) << 2,
            k::AFSR0_EL1 => s.afsr0,
            k::AFSR1_EL1 => s.afsr1,
            k::ESR_EL1 => s.esr,
            k::FAR_EL1 => s.far,
            k::PAR_EL1 => s.par,
            k::MAIR_EL1 => s.mair,
            k::AMAIR_EL1 => s.amair,
            k::VBAR_EL1 => s.vbar,
            k::ISR_EL1 => u64::from(self.irq_line.load(std::sync::atomic::Ordering::Relaxed)) << 7,
            k::CONTEXTIDR_EL1 => s.contextidr,
            k::TPIDR_EL1 => s.tpidr_el1,
            k::CNTKCTL_EL1 => s.cntkctl,
            k::CCSIDR_EL1 => self.profile.ccsidr,
            k::CLIDR_EL1 => self.profile.clidr,
            k::AIDR_EL1 => 0,
            k::CSSELR_EL1 => s.csselr,
            k::PMUSERENR_EL0 => 0,
            k::MDCCINT_EL1 => s.mdccint,
            k::MDSCR_EL1 => s.mdscr,
            k::OSLSR_EL1 => s.oslsr,
            k::OSDLR_EL1 => s.osdlr,
            k::MDRAR_EL1 => 0,
            _ if is_debug_raz_wi(key) => 0,
            _ if is_id_space(key) => self.profile.id_reg(key),
            _ if self.regs.pstate.el == 1 && !self.user_mode => {
                return self.mem.mmio.sysreg_read(key).ok_or(Denied::Undefined)
            }
            _ => return Err(Denied::Undefined),
        })
    }

    /// MSR: write system register `key` at the current EL. Returns whether
    /// the block must end (translation, interrupt or timer state changed).
    ///
    /// # Errors
    /// How the access is refused.
    pub fn sysreg_write(&mut self, key: u32, v: u64) -> Result<bool, Denied> {
        if self.user_mode {
            match key {
                k::NZCV | k::TPIDR_EL0 | k::FPCR | k::FPSR => {}
                _ => return Err(Denied::Undefined),
            }
        } else if self.regs.pstate.el == 0 {
            self.el0_check(key, true)?;
        }
        let s = &mut self.sys;
        let mut end = false;
        match key {
            k::NZCV => self.regs.nzcv = (v as u32) & 0xf000_0000,
            k::DAIF => {
                self.regs.pstate.daif = (v as u32) & DAIF_ALL;
                end = true;
            }
            // Cortex-A53 (Armv8.0): AHP, DN, FZ, RMode, Stride, Len; FZ16
            // (FEAT_FP16) and the trap enables (no trapped FP exceptions) are
            // RES0, as qemu-aarch64 -cpu cortex-a53 shows.
            k::FPCR => self.regs.fpcr = (v as u32) & 0x07f7_0000,
            k::FPSR => self.regs.fpsr = (v as u32) & 0xf800_009f,
            k::TPIDR_EL0 => s.tpidr_el0 = v,
            k::TPIDRRO_EL0 => s.tpidrro_el0 = v,
            k::CNTV_CTL_EL0 => {
                s.cntv_ctl = v & 3;
                end = true;
            }
            k::CNTV_CVAL_EL0 => {
                s.cntv_cval = v;
                end = true;
            }
            k::CNTV_TVAL_EL0 => {
                self.sys.cntv_cval = self.timer_tval_to_cval(v);
                end = true;
            }
            k::CNTP_CTL_EL0 => {
                s.cntp_ctl = v & 3;
                end = true;
            }
            k::CNTP_CVAL_EL0 => {
                s.cntp_cval = v;
                end = true;
            }
            k::CNTP_TVAL_EL0 => {
                self.sys.cntp_cval = self.timer_tval_to_cval(v);
                end = true;
            }
            k::SCTLR_EL1 => {
                s.sctlr = v;
                self.tlb.flush_all();
                end = true;
            }
            k::ACTLR_EL1 => s.actlr = v,
            k::CPACR_EL1 => s.cpacr = v & (3 << 20),
            k::TTBR0_EL1 | k::TTBR1_EL1 => {
                if key == k::TTBR0_EL1 {
                    s.ttbr0 = v;
                } else {
                    s.ttbr1 = v;
                }
                self.sync_asid();
                end = true;
            }
            k::TCR_EL1 => {
                s.tcr = v;
                self.tlb.flush_all();
                self.sync_asid();
                end = true;
            }
            k::SPSR_EL1 => s.spsr = v,
            k::ELR_EL1 => s.elr = v,
            k::SP_EL0 => {
                if !self.regs.pstate.sp_sel {
                    return Err(Denied::Undefined);
                }
                self.regs.set_sp_el0(v);
            }
            k::SPSEL => {
                let el = self.regs.pstate.el;
                self.regs.switch_sp(el, v & 1 != 0);
            }
            k::AFSR0_EL1 => s.afsr0 = v,
            k::AFSR1_EL1 => s.afsr1 = v,
            k::ESR_EL1 => s.esr = v,
            k::FAR_EL1 => s.far = v,
            k::PAR_EL1 => s.par = v,
            k::MAIR_EL1 => {
                s.mair = v;
                self.tlb.flush_all();
            }
            k::AMAIR_EL1 => s.amair = v,
            k::VBAR_EL1 => s.vbar = v & !0x7ff,
            k::CONTEXTIDR_EL1 => s.contextidr = v & 0xffff_ffff,
            k::TPIDR_EL1 => s.tpidr_el1 = v,
            k::CNTKCTL_EL1 => s.cntkctl = v & 0x3ff,
            k::CSSELR_EL1 => s.csselr = v & 0xf,
            k::PMUSERENR_EL0 => {}
            k::MDCCINT_EL1 => s.mdccint = v,
            k::MDSCR_EL1 => s.mdscr = v,
            k::OSLAR_EL1 => s.oslsr = (s.oslsr & !2) | ((v & 1) << 1),
            k::OSDLR_EL1 => s.osdlr = v & 1,
            _ if is_debug_raz_wi(key) && key != crate::sysreg::key(2, 3, 0, 1, 0) => {}
            _ if self.regs.pstate.el == 1 && !self.user_mode => {
                if !self.mem.mmio.sysreg_write(key, v) {
                    return Err(Denied::Undefined);
                }
                end = true;
            }
            _ => return Err(Denied::Undefined),
        }
        if end {
            self.attention = true;
        }
        let timer = matches!(
            key,
            k::CNTV_CTL_EL0
                | k::CNTV_CVAL_EL0
                | k::CNTV_TVAL_EL0
                | k::CNTP_CTL_EL0
                | k::CNTP_CVAL_EL0
                | k::CNTP_TVAL_EL0
        );
        if timer && self.exit.is_none() {
            // The timer output may have changed: let the embedder re-sample it.
            self.exit = Some(Exit::Budget);
        }
        Ok(end)
    }

    /// Raise the exception for a refused system access.
    pub fn sys_denied(&mut self, d: Denied, iss: u32) -> Flow {
        match d {
            Denied::Undefined => self.undefined(),
            Denied::Fp => fp_trap(self),
            Denied::Trap => {
                let pc = self.regs.pc;
                self.take_sync(SyncException {
                    ec: ec::SYS,
                    iss,
                    far: None,
                    ret: pc,
                })
            }
        }
    }
}

/// ISS of a trapped MRS/MSR/SYS (EC 0x18) from the instruction word.
fn sys_iss(word: u32) -> u32 {
    let op0 = (word >> 19) & 3;
    let op1 = (word >> 16) & 7;
    let crn = (word >> 12) & 15;
    let crm = (word >> 8) & 15;
    let op2 = (word >> 5) & 7;
    let rt = word & 31;
    let read = (word >> 21) & 1;
    (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read
}

fn mrs(c: &mut Core, op: &Op) -> Step {
    match c.sysreg_read(op.aux & 0xffff) {
        Ok(v) => {
            c.set_x(op.rd, v);
            Ok(())
        }
        Err(d) => Err(c.sys_denied(d, op.imm as u32)),
    }
}

fn msr(c: &mut Core, op: &Op) -> Step {
    let v = c.x(op.rd);
    match c.sysreg_write(op.aux & 0xffff, v) {
        Ok(false) => Ok(()),
        Ok(true) => {
            c.regs.pc = c.regs.pc.wrapping_add(4);
            Err(Flow::End)
        }
        Err(d) => Err(c.sys_denied(d, op.imm as u32)),
    }
}

/// Build MRS/MSR (register).
pub fn build_mrs_msr(f: &Fields) -> Option<Op> {
    let read = f.get("l") == 1;
    let rt = f.get("rt");
    Some(Op {
        rd: if read { w_zr(rt) } else { r_zr(rt) },
        aux: (f.word >> 5) & 0xffff,
        imm: u64::from(sys_iss(f.word)),
        ..Op::new(if read { mrs } else { msr })
    })
}

fn msr_imm(c: &mut Core, op: &Op) -> Step {
    let imm = op.imm as u32;
    match op.aux {
        0 => {
            // SPSel
            if c.regs.pstate.el == 0 || c.user_mode {
                return Err(c.undefined());
            }
            c.regs.switch_sp(1, imm & 1 != 0);
        }
        1 | 2 => {
            if c.regs.pstate.el == 0 && c.sys.sctlr & sctlr::UMA == 0 {
                let iss = op.rm as u32;
                return Err(c.sys_denied(Denied::Trap, iss));
            }
            let bits = (imm & 0xf) << 6;
            if op.aux == 1 {
                c.regs.pstate.daif |= bits;
            } else {
                c.regs.pstate.daif &= !bits;
            }
            c.attention = true;
        }
        _ => return Err(c.undefined()),
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

/// Build MSR (immediate): SPSel, DAIFSet, DAIFClr.
pub fn build_msr_imm(f: &Fields) -> Option<Op> {
    let which = match (f.get("op1"), f.get("op2")) {
        (0, 5) => 0,
        (3, 6) => 1,
        (3, 7) => 2,
        _ => return None,
    };
    Some(Op {
        imm: u64::from(f.get("crm")),
        aux: which,
        rm: 0,
        ..Op::new(msr_imm)
    })
}

fn nop(_: &mut Core, _: &Op) -> Step {
    Ok(())
}

fn wfi(c: &mut Core, _: &Op) -> Step {
    if c.user_mode {
        return Ok(());
    }
    if c.regs.pstate.el == 0 && c.sys.sctlr & sctlr::NTWI == 0 {
        let pc = c.regs.pc;
        return Err(c.take_sync(SyncException {
            ec: ec::WFX,
            iss: crate::exception::ISS_CV_AL,
            far: None,
            ret: pc,
        }));
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    if !c.irq_line.load(std::sync::atomic::Ordering::Relaxed) {
        c.exit = Some(Exit::Idle {
            deadline: c.timer_deadline(),
        });
    }
    Err(Flow::End)
}

/// WFE: with the event register set, clear it and go on; else, on a PE that shares the
/// machine, let the others run first ([`Exit::Yield`]); alone, a NOP (nothing but an
/// interrupt could set the event, and the loop around a WFE rechecks its condition).
fn wfe(c: &mut Core, _: &Op) -> Step {
    if c.event {
        c.event = false;
        return Ok(());
    }
    if c.user_mode {
        return Ok(());
    }
    // SCTLR_EL1.nTWE clear: an EL0 WFE that would wait traps to EL1 (ISS TI = 0b01: WFE).
    if c.regs.pstate.el == 0 && c.sys.sctlr & sctlr::NTWE == 0 {
        let pc = c.regs.pc;
        return Err(c.take_sync(SyncException {
            ec: ec::WFX,
            iss: crate::exception::ISS_CV_AL | 1,
            far: None,
            ret: pc,
        }));
    }
    if !c.multi_pe {
        return Ok(());
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    c.exit = Some(Exit::Yield);
    Err(Flow::End)
}

/// SEV: an event for every PE (the embedder sets the others').
fn sev(c: &mut Core, _: &Op) -> Step {
    c.event = true;
    if !c.multi_pe || c.user_mode {
        return Ok(());
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    c.exit = Some(Exit::Sev);
    Err(Flow::End)
}

/// SEVL: an event for this PE only.
fn sevl(c: &mut Core, _: &Op) -> Step {
    c.event = true;
    Ok(())
}

/// Build the HINT space: WFI, WFE, SEV, SEVL; everything else (YIELD, BTI, PAC hints,
/// CSDB...) executes as NOP.
pub fn build_hint(f: &Fields) -> Option<Op> {
    let n = (f.get("crm") << 3) | f.get("op2");
    Some(Op::new(match n {
        2 => wfe,
        3 => wfi,
        4 => sev,
        5 => sevl,
        _ => nop,
    }))
}

fn isb(c: &mut Core, _: &Op) -> Step {
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn clrex(c: &mut Core, _: &Op) -> Step {
    c.monitor = None;
    Ok(())
}

/// Build barriers and CLREX.
pub fn build_barrier(f: &Fields) -> Option<Op> {
    let h: Handler = match f.get("op2") {
        2 => clrex,
        4 | 5 => nop, // DSB, DMB
        6 => isb,
        _ => return None,
    };
    Some(Op::new(h))
}

fn dc_zva(c: &mut Core, op: &Op) -> Step {
    if c.regs.pstate.el == 0 && !c.user_mode && c.sys.sctlr & sctlr::DZE == 0 {
        return Err(c.sys_denied(Denied::Trap, op.imm as u32));
    }
    let n = c.profile.zva_bytes();
    let base = c.x(op.rd) & !(n - 1);
    let el = c.regs.pstate.el;
    // "If the memory region being zeroed is any type of Device memory, DC
    // ZVA generates an Alignment fault." A write entry in the TLB says the
    // page is writable normal RAM: no walk (clear_page runs 64 of these per
    // page, and a walk each made them the costliest instruction of a boot).
    if !c.tlb_hit(base, AccessKind::Write, el) {
        match c.translate(base, AccessKind::Write, el) {
            Ok(t) if t.device() => {
                return Err(c.data_abort(c.x(op.rd), crate::exception::FSC_ALIGNMENT, true, false))
            }
            Ok(_) => {}
            Err(f) => return Err(c.data_abort(c.x(op.rd), f.status(), true, false)),
        }
    }
    for i in 0..n / 8 {
        c.write_el::<8>(base.wrapping_add(8 * i), 0, el)?;
    }
    Ok(())
}

/// Cache maintenance by VA (no caches are modelled): the address must
/// still translate, otherwise a data abort with CM = 1 is taken.
fn dc_va(c: &mut Core, op: &Op) -> Step {
    if c.regs.pstate.el == 0 && !c.user_mode && c.sys.sctlr & sctlr::UCI == 0 {
        return Err(c.sys_denied(Denied::Trap, op.imm as u32));
    }
    let va = c.x(op.rd);
    let el = c.regs.pstate.el;
    // A cached translation says the address translates (dma-buf syncs clean
    // buffers line by line: a walk per line otherwise).
    if c.tlb_hit(va, AccessKind::Read, el) || c.tlb_hit(va, AccessKind::Write, el) {
        return Ok(());
    }
    if let Err(f) = c.translate(va, AccessKind::Read, el) {
        return Err(c.data_abort(va, f.status(), true, true));
    }
    Ok(())
}

fn dc_ivac(c: &mut Core, op: &Op) -> Step {
    el1_only(c)?;
    dc_va(c, op)
}

fn ic_ivau(c: &mut Core, op: &Op) -> Step {
    if c.regs.pstate.el == 0 && !c.user_mode && c.sys.sctlr & sctlr::UCI == 0 {
        return Err(c.sys_denied(Denied::Trap, op.imm as u32));
    }
    let va = c.x(op.rd) & !63;
    let el = c.regs.pstate.el;
    match c.translate(va, AccessKind::Read, el) {
        Ok(t) => {
            c.queue_inval(t.pa, 64);
            // IC IVAU is broadcast to the inner shareable domain.
            c.broadcast(crate::cpu::Shootdown::Code(t.pa, 64));
        }
        Err(f) => return Err(c.data_abort(va, f.status(), true, true)),
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn ic_iallu(c: &mut Core, op: &Op) -> Step {
    if c.regs.pstate.el == 0 {
        return Err(c.undefined());
    }
    c.inval_all = true;
    c.attention = true;
    if op.aux == 1 {
        c.broadcast(crate::cpu::Shootdown::CodeAll); // IC IALLUIS
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn el1_only(c: &mut Core) -> Result<(), Flow> {
    if c.regs.pstate.el == 0 || c.user_mode {
        Err(c.undefined())
    } else {
        Ok(())
    }
}

fn tlbi_all(c: &mut Core, op: &Op) -> Step {
    el1_only(c)?;
    c.tlb.flush_all();
    if op.aux == 3 {
        c.broadcast(crate::cpu::Shootdown::TlbAll);
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn tlbi_asid(c: &mut Core, op: &Op) -> Step {
    el1_only(c)?;
    c.tlb.flush_non_global();
    if op.aux == 3 {
        c.broadcast(crate::cpu::Shootdown::TlbNonGlobal);
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn tlbi_va(c: &mut Core, op: &Op) -> Step {
    el1_only(c)?;
    // Xt<43:0> holds VA<55:12>.
    let va = (c.x(op.rd) & 0xfff_ffff_ffff) << 12;
    c.tlb.flush_va(va);
    if op.aux == 3 {
        c.broadcast(crate::cpu::Shootdown::TlbVa(va));
    }
    c.regs.pc = c.regs.pc.wrapping_add(4);
    Err(Flow::End)
}

fn at(c: &mut Core, op: &Op) -> Step {
    el1_only(c)?;
    let va = c.x(op.rd);
    let (kind, el) = match op.aux {
        0 => (AccessKind::Read, 1),
        1 => (AccessKind::Write, 1),
        2 => (AccessKind::Read, 0),
        _ => (AccessKind::Write, 0),
    };
    c.sys.par = match c.translate(va, kind, el) {
        // PAR_EL1: F=0, SH<8:7>, PA<47:12>, ATTR<63:56>.
        Ok(t) => {
            (u64::from(t.attr) << 56) | (t.pa & 0x0000_ffff_ffff_f000) | (u64::from(t.sh) << 7)
        }
        Err(f) => {
            1 | (u64::from(f.status()) << 1)
                | (u64::from(f.kind == mmu::FaultKind::WalkExternal) << 8)
                | (1 << 11)
        }
    };
    Ok(())
}

/// Build SYS: DC, IC, TLBI, AT.
pub fn build_sys(f: &Fields) -> Option<Op> {
    let key = (f.get("op1"), f.get("crn"), f.get("crm"), f.get("op2"));
    let h: Handler = match key {
        (3, 7, 4, 1) => dc_zva,
        (3, 7, 14, 1) | (3, 7, 10, 1) | (3, 7, 11, 1) => dc_va,
        (0, 7, 6, 1) => dc_ivac,
        (0, 7, 6, 2) | (0, 7, 10, 2) | (0, 7, 14, 2) => |c: &mut Core, _: &Op| el1_only(c),
        (3, 7, 5, 1) => ic_ivau,
        (0, 7, 1, 0) | (0, 7, 5, 0) => ic_iallu,
        (0, 8, 3 | 7, 0) => tlbi_all,
        (0, 8, 3 | 7, 2) => tlbi_asid,
        (0, 8, 3 | 7, 1 | 3 | 5 | 7) => tlbi_va,
        (0, 7, 8, op2 @ 0..=3) => {
            return Some(Op {
                rd: r_zr(f.get("rt")),
                aux: op2,
                ..Op::new(at)
            })
        }
        _ => return None,
    };
    // aux: CRm, which tells the inner-shareable (broadcast) forms: TLBI CRm 3, IC CRm 1.
    Some(Op {
        rd: r_zr(f.get("rt")),
        imm: u64::from(sys_iss(f.word)),
        aux: f.get("crm"),
        ..Op::new(h)
    })
}
