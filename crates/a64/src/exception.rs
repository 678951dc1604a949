//! Exception entry to EL1 and exception return (AArch64.TakeException,
//! AArch64.ExceptionReturn), and the syndrome values the interpreter reports.
//!
//! In user mode (the Linux-user runner) there is no EL1 software: instead of
//! vectoring, exceptions stop the run with an [`Exit`] describing them.

use crate::cpu::{Core, Exit, TakenException, EXCEPTION_LOOP};
use crate::decode::Flow;
use crate::state::DAIF_ALL;

/// Exception classes (ESR_ELx.EC) the interpreter generates.
pub mod ec {
    /// Unknown reason (UNDEFINED instructions).
    pub const UNKNOWN: u32 = 0x00;
    /// WFI/WFE trapped.
    pub const WFX: u32 = 0x01;
    /// Access to SIMD/FP trapped by CPACR_EL1.FPEN.
    pub const FP: u32 = 0x07;
    /// Illegal execution state.
    pub const ILLEGAL: u32 = 0x0E;
    /// SVC in AArch64.
    pub const SVC: u32 = 0x15;
    /// HVC in AArch64.
    pub const HVC: u32 = 0x16;
    /// SMC in AArch64.
    pub const SMC: u32 = 0x17;
    /// MSR/MRS/System instruction trapped.
    pub const SYS: u32 = 0x18;
    /// Instruction abort from a lower EL.
    pub const IABT_LOWER: u32 = 0x20;
    /// Instruction abort from the same EL.
    pub const IABT_SAME: u32 = 0x21;
    /// PC alignment fault.
    pub const PC_ALIGN: u32 = 0x22;
    /// Data abort from a lower EL.
    pub const DABT_LOWER: u32 = 0x24;
    /// Data abort from the same EL.
    pub const DABT_SAME: u32 = 0x25;
    /// SP alignment fault.
    pub const SP_ALIGN: u32 = 0x26;
    /// BRK instruction.
    pub const BRK: u32 = 0x3C;
}

/// ISS.{CV,COND} for traps of AArch64 instructions (WFx, FP access): CV = 1,
/// COND = 0b1110, as the Arm ARM specifies for instructions without a
/// condition field.
pub const ISS_CV_AL: u32 = (1 << 24) | (0xE << 20);

/// Fault status code of a synchronous external abort (not on a walk).
pub const FSC_EXTERNAL: u32 = 0x10;
/// Fault status code of an alignment fault.
pub const FSC_ALIGNMENT: u32 = 0x21;

/// Kind of exception, selecting the vector offset within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vector {
    /// Synchronous exception.
    Sync = 0,
    /// IRQ.
    Irq = 1,
    /// FIQ.
    Fiq = 2,
    /// SError.
    SError = 3,
}

/// A synchronous exception about to be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncException {
    /// Exception class.
    pub ec: u32,
    /// Instruction-specific syndrome (ISS, 25 bits).
    pub iss: u32,
    /// Faulting virtual address for aborts and alignment faults.
    pub far: Option<u64>,
    /// Preferred return address.
    pub ret: u64,
}

impl SyncException {
    /// ESR_EL1 value (IL = 1: every A64 instruction is 32 bits).
    #[must_use]
    pub fn esr(&self) -> u64 {
        (u64::from(self.ec) << 26) | (1 << 25) | u64::from(self.iss & 0x1ff_ffff)
    }
}

impl Core {
    /// Take an exception to EL1: save PSTATE and the return address, switch
    /// to EL1h with DAIF masked, and jump to VBAR_EL1 + offset.
    pub fn enter_el1(&mut self, vector: Vector, ret: u64) {
        // "The vector offset is 0x000 from the current EL with SP_EL0, 0x200
        // with SP_ELx, 0x400 from a lower EL using AArch64."
        let group = match (self.regs.pstate.el, self.regs.pstate.sp_sel) {
            (0, _) => 0x400,
            (_, false) => 0x000,
            (_, true) => 0x200,
        };
        self.sys.spsr = self.regs.spsr();
        self.sys.elr = ret;
        self.regs.switch_sp(1, true);
        self.regs.pstate.daif = DAIF_ALL;
        self.regs.pstate.ss = false;
        self.regs.pstate.il = false;
        self.monitor = None;
        self.regs.pc = (self.sys.vbar & !0x7ff) + group + 0x80 * vector as u64;
        self.el_changed();
    }

    /// Take a synchronous exception (or, in user mode, stop with an exit).
    /// Returns the flow the instruction reports.
    pub fn take_sync(&mut self, e: SyncException) -> Flow {
        if self.user_mode {
            self.regs.pc = e.ret;
            self.exit = Some(Exit::Exception(e));
            return Flow::End;
        }
        if let Some(far) = e.far {
            self.sys.far = far;
        }
        self.sys.esr = e.esr();
        self.enter_el1(Vector::Sync, e.ret);
        self.watch_for_loop(e);
        Flow::End
    }

    /// Counts identical synchronous exceptions in a row; at [`EXCEPTION_LOOP`] the run
    /// stops with [`Exit::ExceptionLoop`]. Calls (SVC, HVC, SMC) are left out: a program
    /// may make the same call from the same place as often as it likes.
    fn watch_for_loop(&mut self, e: SyncException) {
        if matches!(e.ec, ec::SVC | ec::HVC | ec::SMC) {
            return;
        }
        let taken = TakenException {
            ret: e.ret,
            esr: e.esr(),
            far: e.far,
            vector: self.regs.pc,
            vbar: self.sys.vbar,
        };
        let n = match self.sync_repeat {
            Some((last, n)) if last == taken => n + 1,
            Some((last, _)) => {
                self.sync_before = Some(last);
                1
            }
            None => 1,
        };
        self.sync_repeat = Some((taken, n));
        if n == EXCEPTION_LOOP {
            self.exit = Some(Exit::ExceptionLoop);
        }
    }

    /// The UNDEFINED exception for the instruction at `pc`.
    pub fn undefined(&mut self) -> Flow {
        let pc = self.regs.pc;
        self.take_sync(SyncException {
            ec: ec::UNKNOWN,
            iss: 0,
            far: None,
            ret: pc,
        })
    }

    /// ERET: restore PSTATE from SPSR_EL1 and branch to ELR_EL1.
    pub fn exception_return(&mut self) -> Flow {
        let spsr = self.sys.spsr;
        let target = self.sys.elr;
        let m = spsr & 0x1f;
        // "An illegal exception return": AArch32 (M<4>), EL2/EL3, or M<1> set.
        let legal = matches!(m, 0b00000 | 0b00100 | 0b00101);
        self.monitor = None;
        self.regs.nzcv = (spsr as u32) & 0xf000_0000;
        self.regs.pstate.daif = (spsr as u32) & DAIF_ALL;
        self.regs.pstate.ss = spsr & (1 << 21) != 0;
        if legal {
            self.regs.pstate.il = spsr & (1 << 20) != 0;
            let el = ((m >> 2) & 3) as u8;
            self.regs.switch_sp(el, m & 1 != 0);
        } else {
            // PSTATE.{EL,SP} unchanged, PSTATE.IL set; the next instruction
            // then takes an Illegal Execution State exception.
            self.regs.pstate.il = true;
        }
        // Returning to EL0 with TBI0: the PC drops the tag byte.
        self.regs.pc = if self.regs.pstate.el == 0 && crate::mmu::tbi(self.sys.tcr, target) {
            ((target << 8) as i64 >> 8) as u64
        } else {
            target
        };
        self.el_changed();
        Flow::End
    }

    /// Hook run after the EL changes (cached per-EL state).
    pub(crate) fn el_changed(&mut self) {
        self.attention = true;
    }
}
