//! The scheduler: PEs in turn, in rounds, on one host thread.
//!
//! Each round, every PE that can run gets a quantum of at most [`SLICE`] instructions,
//! starting at the same guest time. Between turns, what one PE did that the others must
//! see is applied to them: its broadcast TLB/IC maintenance (TLBI ...IS, IC IVAU/IALLUIS)
//! and the loss of its exclusive reservation (only one PE runs at a time, so a
//! load-exclusive/store-exclusive pair that a turn ends in between fails and is retried,
//! as the architecture allows; within a turn no other PE can write). Interrupts one PE
//! raises for another (IPIs, SPIs) reach it at its next turn. When no PE can run, time
//! skips to the next timer or device deadline.

use a64::Exit;
use vm_memory::{Bytes, GuestAddress};

use super::{PeState, RunSummary, Stop, Vm, SLICE};
use crate::psci::{self, Action};

impl Vm {
    /// Runs until the guest powers off or `max_insns` instructions have retired (over all
    /// PEs).
    ///
    /// Under KVM, which counts no instructions, a run is a slice of host time (10 ms):
    /// `max_insns` does not apply.
    pub fn run(&mut self, max_insns: u64) -> RunSummary {
        if self.kvm.is_some() {
            return self.run_kvm();
        }
        let start = self.instructions();
        let stop = loop {
            let done = self.instructions() - start;
            if done >= max_insns {
                break Stop::InsnLimit;
            }
            self.sync_devices();
            let now = self.counter();
            let mut ran = false;
            let mut stopped = None;
            for k in 0..self.pes.len() {
                let left = max_insns - (self.instructions() - start);
                if left == 0 {
                    break;
                }
                match self.turn(k, now, SLICE.min(left)) {
                    Turn::Skipped => {}
                    Turn::Ran => ran = true,
                    Turn::Stop(s) => {
                        stopped = Some(s);
                        break;
                    }
                }
            }
            if let Some(s) = stopped {
                break s;
            }
            if ran {
                continue;
            }
            if let Some(s) = self.everyone_waits() {
                break s;
            }
        };
        self.sync_devices();
        RunSummary {
            stop,
            insns: self.instructions() - start,
            counter: self.counter(),
            undefined: self.undefined_counts(),
            unmapped: self.unmapped.borrow().clone(),
            spurious_acks: self.machine.gic.borrow().spurious_acks(),
            unsupported_calls: self.unsupported_calls.clone(),
        }
    }

    /// PE `k`'s turn at guest time `now`, for at most `budget` instructions.
    fn turn(&mut self, k: usize, now: u64, budget: u64) -> Turn {
        match self.pes[k].state {
            PeState::Running => {}
            PeState::Idle { deadline, resume } => {
                self.pes[k].cpu.advance_counter_to(now);
                self.sync_timers(k);
                let woken = self.machine.gic.borrow().irq_pending_for(k)
                    || deadline.is_some_and(|d| d <= now);
                if !woken {
                    return Turn::Skipped;
                }
                if let Some((entry, context)) = resume {
                    // A power-down suspend wakes at its entry point.
                    self.pes[k].cpu.power_on(entry, context);
                }
                self.pes[k].state = PeState::Running;
            }
            PeState::Off | PeState::Parked { .. } | PeState::Halted | PeState::Excluded => {
                return Turn::Skipped
            }
        }
        // More than one PE can start (set once at boot; `--smp` excluded the rest).
        let multi = self.pes[k].cpu.core.multi_pe;
        if multi {
            self.pes[k].cpu.advance_counter_to(now);
            self.machine.gic.borrow_mut().set_current_pe(k);
            self.sync_timers(k);
        }
        let start = self.pes[k].cpu.core.icount;
        let exit = loop {
            let used = self.pes[k].cpu.core.icount - start;
            let exit = self.pes[k].cpu.run(budget - used);
            // A timer register write or a reached deadline ends `run` early: update the
            // PE's timer interrupts and go on with its quantum. Ending the turn there
            // instead would cost the PE the rest of the round's guest time for every
            // timer write, and a kernel whose tick handler writes the timer more often
            // than rounds fit in a tick period (a board with a slow counter) would never
            // finish one.
            if multi && exit == Exit::Budget && self.pes[k].cpu.core.icount - start < budget {
                self.sync_timers(k);
                continue;
            }
            break exit;
        };
        let outcome = self.after(k, exit);
        if multi {
            // What the others must see before they run again.
            let shootdowns = self.pes[k].cpu.take_shootdowns();
            for (j, p) in self.pes.iter_mut().enumerate() {
                if j != k {
                    for &op in &shootdowns {
                        p.cpu.apply_shootdown(op);
                    }
                }
            }
            self.pes[k].cpu.clear_monitor();
        }
        outcome
    }

    /// Handles what made PE `k` stop running.
    fn after(&mut self, k: usize, exit: Exit) -> Turn {
        match exit {
            Exit::Budget | Exit::Yield => {}
            Exit::Idle { deadline } => {
                self.sync_timers(k);
                if !self.machine.gic.borrow().irq_pending_for(k) {
                    self.pes[k].state = PeState::Idle {
                        deadline,
                        resume: None,
                    };
                }
            }
            // Firmware calls: PSCI over HVC or SMC (as the DT's `method` says), and the
            // SMCCC services vendor kernels probe, which answer NOT_SUPPORTED.
            Exit::Hvc(_) | Exit::Smc(_) => return self.firmware(k),
            Exit::Sev => {
                for p in &mut self.pes {
                    p.cpu.core.event = true;
                }
                self.release_parked();
            }
            Exit::Halted => {
                self.pes[k].state = PeState::Halted;
            }
            Exit::ExceptionLoop => return Turn::Stop(Stop::ExceptionLoop(self.diagnose_loop(k))),
            other => {
                return Turn::Stop(Stop::Fault(format!(
                    "unexpected CPU exit {other:?} at pc 0x{:x}",
                    self.pes[k].cpu.core.regs.pc
                )))
            }
        }
        Turn::Ran
    }

    /// A firmware call from PE `k` (x0 the function, x1-x3 its arguments).
    fn firmware(&mut self, k: usize) -> Turn {
        let core = &self.pes[k].cpu.core;
        let function = core.x(0);
        let args = [core.x(1), core.x(2), core.x(3)];
        let ret = match psci::call(function, args) {
            Action::Return(v) => {
                if !psci::implements(function) {
                    self.note_unsupported_call(function);
                }
                v
            }
            Action::PowerOff => return Turn::Stop(Stop::PowerOff),
            Action::Reset => return Turn::Stop(Stop::Reset),
            Action::CpuOn {
                target,
                entry,
                context,
            } => self.cpu_on(target, entry, context),
            Action::CpuOff => {
                self.pes[k].state = PeState::Off;
                return Turn::Ran;
            }
            Action::AffinityInfo { target, level } => {
                let pe = self.pes.iter().find(|p| psci::affinity(p.mpidr) == target);
                match (pe, level) {
                    (Some(p), 0) => match p.state {
                        PeState::Running | PeState::Idle { .. } | PeState::Halted => {
                            psci::AFFINITY_ON
                        }
                        _ => psci::AFFINITY_OFF,
                    },
                    _ => psci::INVALID_PARAMETERS,
                }
            }
            Action::CpuSuspend {
                power_down,
                entry,
                context,
            } => {
                // Like WFI until an interrupt for this PE; a power-down state then resumes
                // at its entry point instead of returning.
                let deadline = self.pes[k].cpu.core.timer_deadline();
                self.pes[k].state = PeState::Idle {
                    deadline,
                    resume: power_down.then_some((entry, context)),
                };
                psci::SUCCESS
            }
        };
        self.pes[k].cpu.core.set_x(0, ret as u64);
        Turn::Ran
    }

    /// PSCI CPU_ON for the PE whose affinity is `target`.
    fn cpu_on(&mut self, target: u64, entry: u64, context: u64) -> i64 {
        let Some(p) = self
            .pes
            .iter_mut()
            .find(|p| psci::affinity(p.mpidr) == target)
        else {
            return psci::INVALID_PARAMETERS;
        };
        match p.state {
            PeState::Off => {
                p.cpu.power_on(entry, context);
                p.state = PeState::Running;
                psci::SUCCESS
            }
            // Beyond --smp, or a spin-table CPU that PSCI does not own: to PSCI (DEN0022,
            // CPU_ON's return codes) not a CPU it can power.
            PeState::Excluded | PeState::Parked { .. } => psci::INVALID_PARAMETERS,
            _ => psci::ALREADY_ON,
        }
    }

    /// Spin-table: a parked PE whose release address the kernel has written starts there
    /// (Documentation/arch/arm64/booting.rst: x0-x3 zero, MMU off, same EL).
    fn release_parked(&mut self) {
        for p in &mut self.pes {
            let PeState::Parked { release } = p.state else {
                continue;
            };
            let entry: u64 = self
                .machine
                .memory
                .read_obj::<u64>(GuestAddress(release))
                .map(u64::from_le)
                .unwrap_or(0);
            if entry != 0 {
                p.cpu.power_on(entry, 0);
                p.state = PeState::Running;
            }
        }
    }

    /// No PE could run this round: skip time to the next deadline, or say why the guest
    /// can never go on.
    fn everyone_waits(&mut self) -> Option<Stop> {
        let idle_deadlines = self.pes.iter().filter_map(|p| match p.state {
            PeState::Idle { deadline, .. } => Some(deadline),
            _ => None,
        });
        let any_idle = self
            .pes
            .iter()
            .any(|p| matches!(p.state, PeState::Idle { .. }));
        if !any_idle {
            // Every PE is off, parked or halted: nothing will ever run again.
            let halted = self.pes.iter().find(|p| p.state == PeState::Halted);
            return Some(Stop::Halted {
                pc: halted.map_or(self.pes[0].cpu.core.regs.pc, |p| p.cpu.core.regs.pc),
            });
        }
        let next = idle_deadlines
            .flatten()
            .chain(self.next_device_deadline())
            .min();
        if self.realtime {
            self.idle_in_real_time(next.unwrap_or(u64::MAX));
            // Back to the runner after every slice of sleep (at most 10 ms), armed timer or
            // not: it may have console input to deliver and output to flush.
            return Some(Stop::Yield);
        }
        match next {
            Some(t) => {
                for p in &mut self.pes {
                    p.cpu.advance_counter_to(t);
                }
                None
            }
            None => {
                let pc = self.pes[0].cpu.core.regs.pc;
                // Nothing can ever wake them. With IRQs masked on every waiting PE the
                // kernel stopped them itself (machine_halt and cpu_park_loop on a board
                // without PSCI): a halt. With IRQs on, a PE waits for an interrupt that
                // will never come: a hang.
                let masked = self
                    .pes
                    .iter()
                    .filter(|p| matches!(p.state, PeState::Idle { .. }))
                    .all(|p| p.cpu.core.regs.pstate.daif & a64::state::DAIF_I != 0);
                Some(if masked {
                    Stop::Halted { pc }
                } else {
                    Stop::Hung { pc }
                })
            }
        }
    }
}

/// How a PE's turn went.
enum Turn {
    /// It could not run (off, parked, halted, idle and not woken).
    Skipped,
    Ran,
    /// The run is over.
    Stop(Stop),
}
