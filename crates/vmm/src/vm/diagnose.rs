//! What an exception loop is, and its likely cause, in words for the user.

use vm_memory::{GuestAddress, GuestMemoryBackend};

use super::Vm;

/// ESR_ELx.EC as words.
fn exception_class(esr: u64) -> &'static str {
    match (esr >> 26) & 0x3f {
        0x00 => "UNDEFINED instruction",
        0x0e => "illegal execution state",
        0x20 | 0x21 => "instruction abort",
        0x22 => "PC alignment fault",
        0x24 | 0x25 => "data abort",
        0x26 => "SP alignment fault",
        0x3c => "BRK",
        _ => "synchronous exception",
    }
}

impl Vm {
    /// What the exception loop the CPU reported is, and its likely cause.
    pub(super) fn diagnose_loop(&self, pe: usize) -> String {
        let Some((e, n, before)) = self.pes[pe].cpu.exception_loop() else {
            return "exception loop (no details)".to_string();
        };
        let who = if self.pes.len() > 1 {
            format!("CPU {pe} ({}): ", self.pes[pe].node)
        } else {
            String::new()
        };
        let mut out = format!(
            "{who}exception loop: {n} identical {}s in a row at pc 0x{:x} (ESR 0x{:x}{}) to vector 0x{:x} (VBAR_EL1 + 0x{:x}); likely cause: {}",
            exception_class(e.esr),
            e.ret,
            e.esr,
            e.far.map(|f| format!(", FAR 0x{f:x}")).unwrap_or_default(),
            e.vector,
            e.vector.wrapping_sub(e.vbar & !0x7ff),
            self.loop_cause(&e)
        );
        if let Some(b) = before {
            out.push_str(&format!(
                "; before it: {} at pc 0x{:x} (ESR 0x{:x}), which {}",
                exception_class(b.esr),
                b.ret,
                b.esr,
                self.pc_place(b.ret)
            ));
        }
        out
    }

    /// Why exception `e` keeps recurring, as far as the machine can tell.
    fn loop_cause(&self, e: &a64::TakenException) -> String {
        if e.ret >= e.vbar && e.ret < e.vbar.saturating_add(0x800) {
            let vbar = format!("VBAR_EL1 0x{:x}", e.vbar);
            return format!(
                "the exception vector itself faults: {vbar} {}",
                self.pc_place(e.vbar)
            );
        }
        match self.pc_place(e.ret) {
            p if p.starts_with("is in RAM") => {
                "the handler returns to the faulting instruction without fixing its cause"
                    .to_string()
            }
            p => format!("pc {p}"),
        }
    }

    /// Where guest-physical `pa` lies, as a phrase that helps explain a fault there.
    fn pc_place(&self, pa: u64) -> String {
        let kernel = self.layout.kernel;
        let file_end = kernel.base + self.kernel_file_len;
        if pa >= file_end && pa < kernel.end() {
            format!(
                "lies past the end of the kernel file (loaded at 0x{:x}, 0x{:x} bytes of the 0x{:x} its header declares): the Image looks truncated",
                kernel.base, self.kernel_file_len, kernel.size
            )
        } else if !self.machine.memory.address_in_range(GuestAddress(pa)) {
            "is not RAM: nothing is loaded there (the kernel never set up its vectors, or jumped astray: a truncated or wrong Image?)".to_string()
        } else if pa >= kernel.base && pa < file_end {
            "is in RAM, inside the kernel".to_string()
        } else {
            "is in RAM, outside the kernel".to_string()
        }
    }
}

impl Vm {
    /// Where every PE is, one line each (`/cpus/cpu@1: running at pc 0x... (EL1)`), for a
    /// run that did not end cleanly.
    pub fn where_cpus_are(&self) -> Vec<String> {
        if let Some(k) = &self.kvm {
            // KVM keeps the registers of a running vCPU to itself.
            let running = k.host.running();
            return k
                .plan
                .vcpus
                .iter()
                .map(|v| {
                    let what = if running.get(v.index).copied().unwrap_or(false) {
                        "running under KVM"
                    } else {
                        "stopped (its vCPU thread ended)"
                    };
                    format!("{}: {what}", v.node)
                })
                .collect();
        }
        self.pes
            .iter()
            .map(|p| {
                let r = &p.cpu.core.regs;
                let at = format!("at pc 0x{:x} (EL{})", r.pc, r.pstate.el);
                let what = match p.state {
                    super::PeState::Running => format!("running {at}"),
                    super::PeState::Idle { .. } => format!("waiting (WFI) {at}"),
                    super::PeState::Halted => format!("halted {at}"),
                    super::PeState::Off => "off (never started, or CPU_OFF)".to_string(),
                    super::PeState::Parked { release } => format!(
                        "parked: spin-table, the kernel has not released it (cpu-release-addr 0x{release:x})"
                    ),
                    super::PeState::Excluded => "not started (--smp)".to_string(),
                };
                format!("{}: {what}", p.node)
            })
            .collect()
    }
}
