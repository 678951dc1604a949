//! The KVM ioctls (kvm-ioctls), on an aarch64 Linux host: the VM, its memory slots, the
//! in-kernel vGIC, one vCPU per planned CPU on its own thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use kvm_bindings::{
    kvm_create_device, kvm_device_attr, kvm_userspace_memory_region, kvm_vcpu_events, kvm_vcpu_init,
};
use kvm_ioctls::{DeviceFd, Kvm, VcpuExit, VcpuFd, VmFd};
use vm_memory::{GuestMemoryBackend, GuestMemoryRegion, MemoryRegionAddress};

use super::plan::{kvm_default_mpidr, mpidr_of, spi_line, KvmPlan};
use super::{uapi, Exit};

/// errno values KVM_RUN returns when a signal or an immediate exit interrupted it.
const EINTR: i32 = 4;
const EAGAIN: i32 = 11;

/// Whether `/dev/kvm` can run an aarch64 guest with PSCI 0.2 here.
pub fn usable() -> Result<(), String> {
    open().map(drop)
}

/// `/dev/kvm`, if it can run an aarch64 guest with PSCI 0.2.
fn open() -> Result<Kvm, String> {
    let kvm = Kvm::new().map_err(|e| format!("cannot open /dev/kvm: {e}"))?;
    if kvm.check_extension_raw(u64::from(uapi::KVM_CAP_ARM_PSCI_0_2)) <= 0 {
        return Err("this host's KVM lacks PSCI 0.2 (KVM_CAP_ARM_PSCI_0_2)".to_string());
    }
    Ok(kvm)
}

/// A running KVM VM: its vCPUs are on their own threads from [`Host::create`] on.
pub struct Host {
    vm: Rc<VmFd>,
    /// The vGIC device: closing it would not remove the vGIC, but it is kept for its
    /// lifetime's sake.
    _vgic: DeviceFd,
    exits: Receiver<Exit>,
    /// Per vCPU: the answer to its MMIO exit, `None` for an external abort.
    replies: Vec<Sender<Option<[u8; 8]>>>,
    /// Whether each vCPU's thread is still running.
    running: Rc<RefCell<Vec<bool>>>,
    /// The first KVM_IRQ_LINE failure.
    irq_error: Rc<RefCell<Option<String>>>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("vcpus", &self.replies.len())
            .finish_non_exhaustive()
    }
}

fn attr(group: u32, attr: u64, addr: u64) -> kvm_device_attr {
    kvm_device_attr {
        flags: 0,
        group,
        attr,
        addr,
    }
}

impl Host {
    /// Creates the VM for `plan` on `memory` (one slot per region), starts the boot vCPU
    /// at `entry` with x0 = `dtb` (Documentation/arch/arm64/booting.rst) and the others
    /// powered off, each on its own thread.
    pub fn create(
        plan: &KvmPlan,
        memory: &crate::GuestMemory,
        entry: u64,
        dtb: u64,
    ) -> Result<Host, String> {
        let kvm = open()?;
        let vm = kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))?;
        for (slot, region) in memory.iter().enumerate() {
            let host = region
                .get_host_address(MemoryRegionAddress(0))
                .map_err(|e| format!("RAM at 0x{:x}: {e}", region.start_addr().0))?;
            let r = kvm_userspace_memory_region {
                slot: slot as u32,
                flags: 0,
                guest_phys_addr: region.start_addr().0,
                memory_size: region.len(),
                userspace_addr: host as u64,
            };
            // SAFETY: `host` is the start of the region's mapping of `region.len()` bytes.
            // The mapping outlives every use KVM makes of it: each vCPU thread holds a clone
            // of `memory` (the regions are reference-counted) until it ends, and the VM
            // runs only while a vCPU thread runs.
            unsafe { vm.set_user_memory_region(r) }.map_err(|e| {
                format!(
                    "KVM_SET_USER_MEMORY_REGION for RAM 0x{:x}+0x{:x}: {e}",
                    r.guest_phys_addr, r.memory_size
                )
            })?;
        }
        let mut init = kvm_vcpu_init::default();
        vm.get_preferred_target(&mut init)
            .map_err(|e| format!("KVM_ARM_PREFERRED_TARGET: {e}"))?;
        init.features[0] |= 1 << uapi::KVM_ARM_VCPU_PSCI_0_2;
        let mut vcpus: Vec<VcpuFd> = Vec::with_capacity(plan.vcpus.len());
        for v in &plan.vcpus {
            let vcpu = vm
                .create_vcpu(v.index as u64)
                .map_err(|e| format!("{}: KVM_CREATE_VCPU: {e}", v.node))?;
            let mut kvi = init;
            if v.index > 0 {
                kvi.features[0] |= 1 << uapi::KVM_ARM_VCPU_POWER_OFF;
            }
            vcpu.vcpu_init(&kvi)
                .map_err(|e| format!("{}: KVM_ARM_VCPU_INIT: {e}", v.node))?;
            let mpidr = mpidr_of(v.mpidr);
            if mpidr != kvm_default_mpidr(v.index) {
                vcpu.set_one_reg(uapi::REG_MPIDR_EL1, &mpidr.to_le_bytes())
                    .map_err(|e| {
                        format!(
                            "{}: KVM refused MPIDR_EL1 0x{mpidr:x} (the DT's reg): {e}",
                            v.node
                        )
                    })?;
            }
            vcpus.push(vcpu);
        }
        // The vGIC, once every vCPU exists (its redistributors are per vCPU).
        let mut dev = kvm_create_device {
            type_: plan.vgic.device_type(),
            fd: 0,
            flags: 0,
        };
        let vgic = vm
            .create_device(&mut dev)
            .map_err(|e| format!("KVM_CREATE_DEVICE (vGIC type {}): {e}", dev.type_))?;
        for (kind, base) in plan.vgic.addresses() {
            vgic.set_device_attr(&attr(
                uapi::KVM_DEV_ARM_VGIC_GRP_ADDR,
                kind,
                &base as *const u64 as u64,
            ))
            .map_err(|e| format!("vGIC address type {kind} at 0x{base:x}: {e}"))?;
        }
        let nr_irqs: u32 = plan.nr_irqs;
        vgic.set_device_attr(&attr(
            uapi::KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
            0,
            &nr_irqs as *const u32 as u64,
        ))
        .map_err(|e| format!("vGIC with {nr_irqs} interrupts: {e}"))?;
        vgic.set_device_attr(&attr(
            uapi::KVM_DEV_ARM_VGIC_GRP_CTRL,
            uapi::KVM_DEV_ARM_VGIC_CTRL_INIT,
            0,
        ))
        .map_err(|e| format!("vGIC initialisation: {e}"))?;
        for (vcpu, v) in vcpus.iter().zip(&plan.vcpus) {
            for (which, intid) in [
                (uapi::KVM_ARM_VCPU_TIMER_IRQ_VTIMER, plan.vtimer_intid),
                (uapi::KVM_ARM_VCPU_TIMER_IRQ_PTIMER, plan.ptimer_intid),
            ] {
                if let Some(intid) = intid {
                    let irq = intid as i32;
                    vcpu.set_device_attr(&attr(
                        uapi::KVM_ARM_VCPU_TIMER_CTRL,
                        which,
                        &irq as *const i32 as u64,
                    ))
                    .map_err(|e| format!("{}: timer PPI {intid}: {e}", v.node))?;
                }
            }
        }
        let boot = vcpus
            .first()
            .ok_or_else(|| "no vCPU to boot (the plan has none)".to_string())?;
        boot.set_one_reg(uapi::REG_PC, &entry.to_le_bytes())
            .map_err(|e| format!("setting the boot CPU's pc: {e}"))?;
        boot.set_one_reg(uapi::reg_x(0), &dtb.to_le_bytes())
            .map_err(|e| format!("setting the boot CPU's x0: {e}"))?;

        // Without the capability an access nothing answers reads 0 and writes nothing.
        let ext_dabt = kvm.check_extension_raw(u64::from(uapi::KVM_CAP_ARM_INJECT_EXT_DABT)) > 0;
        let (exit_tx, exits) = mpsc::channel();
        let mut replies = Vec::with_capacity(vcpus.len());
        let running = Rc::new(RefCell::new(vec![true; vcpus.len()]));
        for (index, vcpu) in vcpus.into_iter().enumerate() {
            let (reply_tx, reply_rx) = mpsc::channel();
            replies.push(reply_tx);
            let exits = exit_tx.clone();
            let memory = memory.clone();
            std::thread::Builder::new()
                .name(format!("vcpu{index}"))
                .spawn(move || vcpu_loop(index, vcpu, exits, reply_rx, ext_dabt, memory))
                .map_err(|e| format!("starting vCPU {index}'s thread: {e}"))?;
        }
        Ok(Host {
            vm: Rc::new(vm),
            _vgic: vgic,
            exits,
            replies,
            running,
            irq_error: Rc::new(RefCell::new(None)),
        })
    }

    /// The next exit a vCPU needs answered, waiting at most `timeout`.
    pub fn next_exit(&self, timeout: Duration) -> Option<Exit> {
        match self.exits.recv_timeout(timeout) {
            Ok(exit) => {
                if let Exit::SystemEvent { vcpu, .. } | Exit::Failed { vcpu, .. } = exit {
                    if let Some(r) = self.running.borrow_mut().get_mut(vcpu) {
                        *r = false;
                    }
                }
                Some(exit)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Exit::Failed {
                vcpu: 0,
                message: "every vCPU thread has ended".to_string(),
            }),
        }
    }

    /// Answers vCPU `vcpu`'s MMIO exit: the loaded value for a read (anything for a
    /// write), or `None` when nothing answers at the address (an external abort).
    pub fn reply(&self, vcpu: usize, data: Option<[u8; 8]>) {
        if let Some(r) = self.replies.get(vcpu) {
            // A vCPU whose thread ended does not wait for the answer.
            let _ = r.send(data);
        }
    }

    /// Drives the vGIC's SPI inputs: `(intid, level)` as the devices' wires change.
    pub fn irq_sink(&self) -> Box<dyn Fn(u32, bool)> {
        let vm = self.vm.clone();
        let error = self.irq_error.clone();
        Box::new(move |intid, level| {
            let Some(line) = spi_line(intid) else {
                return;
            };
            if let Err(e) = vm.set_irq_line(line, level) {
                error
                    .borrow_mut()
                    .get_or_insert_with(|| format!("KVM_IRQ_LINE for INTID {intid}: {e}"));
            }
        })
    }

    /// The first interrupt the vGIC refused, if any.
    pub fn irq_error(&self) -> Option<String> {
        self.irq_error.borrow().clone()
    }

    /// Whether each vCPU's thread is still running.
    pub fn running(&self) -> Vec<bool> {
        self.running.borrow().clone()
    }
}

/// A vCPU's thread: KVM_RUN until a system event or an error, with each MMIO exit sent to
/// the machine's thread and answered before the vCPU goes on.
fn vcpu_loop(
    index: usize,
    mut vcpu: VcpuFd,
    exits: Sender<Exit>,
    replies: Receiver<Option<[u8; 8]>>,
    ext_dabt: bool,
    // Keeps guest RAM mapped while this vCPU can run.
    _memory: crate::GuestMemory,
) {
    loop {
        let mut abort = false;
        match vcpu.run() {
            Ok(VcpuExit::MmioRead(addr, data)) => {
                let len = data.len().min(8);
                if exits
                    .send(Exit::MmioRead {
                        vcpu: index,
                        addr,
                        len,
                    })
                    .is_err()
                {
                    return;
                }
                match replies.recv() {
                    Ok(Some(value)) => data[..len].copy_from_slice(&value[..len]),
                    Ok(None) => {
                        data[..len].fill(0);
                        abort = true;
                    }
                    Err(_) => return,
                }
            }
            Ok(VcpuExit::MmioWrite(addr, bytes)) => {
                let len = bytes.len().min(8);
                let mut data = [0u8; 8];
                data[..len].copy_from_slice(&bytes[..len]);
                let exit = Exit::MmioWrite {
                    vcpu: index,
                    addr,
                    data,
                    len,
                };
                if exits.send(exit).is_err() {
                    return;
                }
                match replies.recv() {
                    Ok(answer) => abort = answer.is_none(),
                    Err(_) => return,
                }
            }
            Ok(VcpuExit::SystemEvent(kind, _)) => {
                let _ = exits.send(Exit::SystemEvent { vcpu: index, kind });
                return;
            }
            Ok(VcpuExit::Intr) => {}
            Ok(other) => {
                let _ = exits.send(Exit::Failed {
                    vcpu: index,
                    message: format!("vCPU {index}: unexpected KVM exit {other:?}"),
                });
                return;
            }
            Err(e) if e.errno() == EINTR || e.errno() == EAGAIN => {}
            Err(e) => {
                let _ = exits.send(Exit::Failed {
                    vcpu: index,
                    message: format!("vCPU {index}: KVM_RUN: {e}"),
                });
                return;
            }
        }
        if abort && ext_dabt {
            // As on the interpreter: the access takes a synchronous external abort and does
            // not retire (KVM leaves the MMIO uncompleted when an abort is pending).
            let mut events = kvm_vcpu_events::default();
            events.exception.ext_dabt_pending = 1;
            if let Err(e) = vcpu.set_vcpu_events(&events) {
                let _ = exits.send(Exit::Failed {
                    vcpu: index,
                    message: format!("vCPU {index}: injecting an external abort: {e}"),
                });
                return;
            }
        }
    }
}
