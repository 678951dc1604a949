//! The run loop under KVM: the vCPUs run on their own threads; this thread answers their
//! exits (MMIO to the bus, system events), ticks the device clocks on the host's time and
//! hands control back to the runner every [`KVM_SLICE`].

use std::time::{Duration, Instant};

use board::Board;

use super::{KvmCpus, RunSummary, Stop, UnmappedAccess, Vm, VmError};
use crate::kvm::{self, uapi, Accel, Exit};
use crate::machine::Machine;

/// Host time between returns to the runner (console input and output, the watch).
const KVM_SLICE: Duration = Duration::from_millis(10);

/// The backend `accel` asks for on this host and board: KVM's CPUs (started at `entry`
/// with x0 = `dtb`), or `None` for the interpreter, with a note when `auto` passed KVM by.
pub(super) fn choose(
    accel: Accel,
    board: &Board,
    machine: &Machine,
    smp: Option<usize>,
    entry: u64,
    dtb: u64,
) -> Result<(Option<KvmCpus>, Option<String>), VmError> {
    match accel {
        Accel::Interp | Accel::Translate => Ok((None, None)),
        Accel::Kvm => {
            kvm::usable().map_err(|e| VmError::Kvm(format!("{e} (use --accel interp)")))?;
            let plan =
                kvm::plan(board, &machine.mpidrs, smp).map_err(|e| VmError::Kvm(e.to_string()))?;
            start(plan, machine, entry, dtb).map(|k| (Some(k), None))
        }
        Accel::Auto => {
            if kvm::usable().is_err() {
                return Ok((None, None));
            }
            match kvm::plan(board, &machine.mpidrs, smp) {
                Ok(plan) => start(plan, machine, entry, dtb).map(|k| (Some(k), None)),
                Err(e) => Ok((
                    None,
                    Some(format!(
                        "--accel auto: the interpreter runs this board: {e}"
                    )),
                )),
            }
        }
    }
}

fn start(plan: kvm::KvmPlan, machine: &Machine, entry: u64, dtb: u64) -> Result<KvmCpus, VmError> {
    let host = kvm::Host::create(&plan, &machine.memory, entry, dtb)
        .map_err(|e| VmError::Kvm(format!("{e} (use --accel interp)")))?;
    machine.forward_irqs(host.irq_sink());
    Ok(KvmCpus {
        host,
        plan,
        started: Instant::now(),
    })
}

impl Vm {
    /// One slice of a KVM run: answers the vCPUs' exits for [`KVM_SLICE`] of host time,
    /// or until a system event or failure ends the run.
    pub(super) fn run_kvm(&mut self) -> RunSummary {
        let slice_end = Instant::now() + KVM_SLICE;
        let stop = loop {
            self.sync_devices();
            let Some(k) = &self.kvm else {
                break Stop::Fault("no KVM backend".to_string());
            };
            if let Some(e) = k.host.irq_error() {
                break Stop::Fault(e);
            }
            let now = Instant::now();
            if now >= slice_end {
                break Stop::Yield;
            }
            // Wake for the next device deadline (a display's frame) too.
            let mut wait = slice_end - now;
            if let Some(d) = self.next_device_deadline() {
                let ticks = d.saturating_sub(self.counter());
                let hz = self.counter_hz.max(1) as f64;
                wait = wait.min(Duration::from_secs_f64(ticks as f64 / hz));
            }
            let Some(exit) = self.kvm.as_ref().and_then(|k| k.host.next_exit(wait)) else {
                continue;
            };
            match exit {
                Exit::MmioRead { vcpu, addr, len } => {
                    let mut data = [0u8; 8];
                    let answer = if self.bus.borrow_mut().read(addr, &mut data[..len]).is_ok() {
                        Some(data)
                    } else {
                        self.note_unmapped(addr, len, false);
                        None
                    };
                    self.reply(vcpu, answer);
                }
                Exit::MmioWrite {
                    vcpu,
                    addr,
                    data,
                    len,
                } => {
                    let answer = if self.bus.borrow_mut().write(addr, &data[..len]).is_ok() {
                        Some([0; 8])
                    } else {
                        self.note_unmapped(addr, len, true);
                        None
                    };
                    self.reply(vcpu, answer);
                }
                Exit::SystemEvent { vcpu, kind } => {
                    break match kind {
                        uapi::KVM_SYSTEM_EVENT_SHUTDOWN => Stop::PowerOff,
                        uapi::KVM_SYSTEM_EVENT_RESET => Stop::Reset,
                        uapi::KVM_SYSTEM_EVENT_CRASH => Stop::Fault(format!(
                            "vCPU {vcpu}: the guest reported a crash (PSCI SYSTEM_EVENT crash)"
                        )),
                        other => Stop::Fault(format!("vCPU {vcpu}: KVM system event {other}")),
                    }
                }
                Exit::Failed { message, .. } => break Stop::Fault(message),
            }
        };
        self.sync_devices();
        RunSummary {
            stop,
            insns: 0,
            counter: self.counter(),
            undefined: Vec::new(),
            unmapped: self.unmapped.borrow().clone(),
            spurious_acks: 0,
            unsupported_calls: Vec::new(),
        }
    }

    fn reply(&self, vcpu: usize, data: Option<[u8; 8]>) {
        if let Some(k) = &self.kvm {
            k.host.reply(vcpu, data);
        }
    }

    /// An MMIO access nobody answered, for the report. The guest takes a synchronous
    /// external abort, as on the interpreter (where the host's KVM can inject one).
    fn note_unmapped(&self, addr: u64, len: usize, write: bool) {
        UnmappedAccess {
            addr,
            size: len as u8,
            write,
        }
        .record(&self.unmapped);
    }
}
