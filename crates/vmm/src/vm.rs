//! The run loop: the a64 interpreter on the machine a board describes, one a64 CPU per PE.
//!
//! ```text
//! Vm::boot: machine (RAM, bus, devices) + Image/initramfs/DTB laid out per booting.rst;
//!           the boot PE at the kernel entry, the others off (PSCI) or parked (spin-table)
//! Vm::run:  rounds: each running PE in turn runs a quantum (MMIO through the bus, HVC/SMC
//!           -> firmware, WFI -> idle); between turns the PE's broadcast TLB/IC maintenance
//!           reaches the others and its exclusive monitor clears; between rounds timer PPIs
//!           and device clocks -> GIC -> the PEs' IRQ lines; when every PE idles, time skips
//!           to the next deadline
//! ```
//! Guest time is global: each round starts every PE at the same counter value (retired
//! instructions plus skipped idle time), so the same inputs give the same run. With one PE
//! this is the single CPU's counter.

mod diagnose;
mod io;
mod kvm_run;
mod run;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use a64::{Cpu, CpuProfile};
use board::{Board, ChosenPatch, Range, Tree};
use devices::Bus;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryRegion, MemoryRegionAddress};

use crate::kvm::Accel;
use crate::loader::{self, ImageHeader, Layout, LoadError};
use crate::machine::{self, Machine, MachineError};

/// Instructions per quantum: a PE's turn, and the time between device and interrupt
/// updates.
const SLICE: u64 = 20_000;

/// Booting or running failed.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error(transparent)]
    Machine(#[from] MachineError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Board(#[from] board::BoardError),
    /// `--accel kvm` and KVM cannot run here, or cannot host this board.
    #[error("--accel kvm: {0}")]
    Kvm(String),
    /// `--accel translate` on a host without a translator.
    #[error(
        "--accel translate: this host has no translator (x86-64 hosts only); use --accel interp"
    )]
    NoTranslator,
    #[error("cannot add the console: {message}")]
    Console { message: String },
    #[error("cannot place {what} at {range}: {message}")]
    Place {
        what: &'static str,
        range: Range,
        message: String,
    },
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// PSCI SYSTEM_OFF.
    PowerOff,
    /// PSCI SYSTEM_RESET.
    Reset,
    /// The instruction budget ran out.
    InsnLimit,
    /// With realtime idling: every PE waits, and the run slept on the host clock for at
    /// most 10 ms; control goes back to the runner (which may have console input for it);
    /// run again to continue.
    Yield,
    /// WFI with interrupts that can never arrive: no timer armed, no device clock.
    Hung { pc: u64 },
    /// The CPU reported something the machine cannot handle here.
    Fault(String),
    /// The runner's watch stopped it (a kernel panic on the console, an UNDEFINED storm).
    Aborted(String),
    /// Every PE stopped for good with IRQs masked (`b .`, or WFI with nothing left to wake
    /// it): a kernel that has nothing left to do and no firmware to power the board off;
    /// boards without PSCI end this way. `pc`: the first PE's.
    Halted { pc: u64 },
    /// The guest took the same synchronous exception over and over without progress;
    /// the message names the PC, the vector and the likely cause.
    ExceptionLoop(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::PowerOff => f.write_str("PowerOff"),
            Stop::Reset => f.write_str("Reset"),
            Stop::InsnLimit => f.write_str("instruction budget used up"),
            Stop::Yield => f.write_str("idle, waiting for input"),
            Stop::Hung { pc } => write!(
                f,
                "hung: WFI at pc 0x{pc:x} with no timer armed and no device to wake it"
            ),
            Stop::Halted { pc } => write!(
                f,
                "halted: the CPUs stopped with interrupts masked, the first at pc 0x{pc:x} (no PSCI to power off)"
            ),
            Stop::Fault(m) | Stop::Aborted(m) | Stop::ExceptionLoop(m) => f.write_str(m),
        }
    }
}

/// An MMIO access nobody answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnmappedAccess {
    pub addr: u64,
    pub size: u8,
    pub write: bool,
}

/// The unmapped accesses a run lists, at most this many.
const UNMAPPED_KEPT: usize = 1024;

impl UnmappedAccess {
    /// Adds this access to the run's list (both backends), unless the list is full.
    fn record(self, list: &RefCell<Vec<UnmappedAccess>>) {
        let mut u = list.borrow_mut();
        if u.len() < UNMAPPED_KEPT {
            u.push(self);
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub stop: Stop,
    /// Instructions retired.
    pub insns: u64,
    /// Final guest counter (instructions plus skipped idle ticks).
    pub counter: u64,
    /// UNDEFINED instructions by encoding group.
    pub undefined: Vec<(&'static str, u64)>,
    /// MMIO accesses nobody answered (the guest got an external abort).
    pub unmapped: Vec<UnmappedAccess>,
    /// IRQ exceptions the guest took for nothing (its IAR read found no interrupt).
    pub spurious_acks: u64,
    /// Firmware calls answered NOT_SUPPORTED: (function ID, count), the first 16 distinct.
    pub unsupported_calls: Vec<(u64, u64)>,
}

/// How to boot, beyond the board and the guest's files.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// The kernel command line (replaces /chosen/bootargs), if given.
    pub bootargs: Option<String>,
    /// The CPU's identification and features.
    pub profile: CpuProfile,
    /// The display mode virtio-gpu reports.
    pub gpu_mode: (u32, u32),
    /// At most this many PEs are started (`--smp`); `None`: every CPU the DT declares.
    pub smp: Option<usize>,
    /// The CPU backend: the interpreter, or KVM where it can run.
    pub accel: crate::kvm::Accel,
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            bootargs: None,
            profile: CpuProfile::default(),
            gpu_mode: machine::DEFAULT_GPU_MODE,
            smp: None,
            accel: crate::kvm::Accel::Interp,
        }
    }
}

/// What a PE is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeState {
    /// Not started (PSCI CPU_ON starts it), or off after CPU_OFF.
    Off,
    /// A spin-table CPU waiting for the kernel to write its entry point at `release`.
    Parked {
        release: u64,
    },
    Running,
    /// In WFI (or PSCI CPU_SUSPEND) until an interrupt for it, or the counter reaches
    /// `deadline`; `resume` is a power-down suspend's entry point and context.
    Idle {
        deadline: Option<u64>,
        resume: Option<(u64, u64)>,
    },
    /// `b .` with IRQs masked: it never runs again.
    Halted,
    /// Beyond `--smp`: never started.
    Excluded,
}

/// One processing element: an a64 CPU and what it is doing.
struct Pe {
    cpu: Cpu,
    mpidr: u64,
    /// The DT node of the CPU.
    node: String,
    state: PeState,
}

/// Entries into a block after which the translator translates it (see
/// [`a64::jit::TRANSLATE_AFTER`]).
pub const TRANSLATE_AFTER: u16 = a64::jit::TRANSLATE_AFTER;

/// A booted machine with its CPUs.
///
/// The CPUs point into the machine's RAM, so the machine can be borrowed but never
/// replaced:
///
/// ```compile_fail
/// fn swap(vm: &mut vmm::vm::Vm, other: vmm::machine::Machine) {
///     vm.machine = other; // private: replacing it would unmap RAM the CPU uses
/// }
/// ```
pub struct Vm {
    /// Declared first: dropped before `machine`, whose RAM they point into. Empty when KVM
    /// runs the guest.
    pes: Vec<Pe>,
    /// The KVM backend, when it runs the guest instead of the interpreter.
    kvm: Option<KvmCpus>,
    /// Private: the CPUs hold pointers into its RAM, so it must live as long as the Vm and
    /// never be replaced ([`Vm::machine`] lends it out).
    machine: Machine,
    bus: Rc<RefCell<Bus>>,
    unmapped: Rc<RefCell<Vec<UnmappedAccess>>>,
    pub layout: Layout,
    /// Bytes of the kernel file loaded at `layout.kernel.base`.
    kernel_file_len: u64,
    vtimer_intid: Option<u32>,
    ptimer_intid: Option<u32>,
    /// When set, the first display's newest distinct frame (mode and RGB pixels).
    keep_frames: bool,
    last_frame: Option<(devices::pl111::Mode, Vec<u8>)>,
    /// The display's frame count at the last capture.
    frames_seen: u64,
    counter_hz: u64,
    /// With `--realtime`: idle time is spent on the host clock.
    realtime: bool,
    /// Firmware calls answered NOT_SUPPORTED, by function ID.
    unsupported_calls: Vec<(u64, u64)>,
    /// The guest's console and why.
    console_plan: crate::console::Console,
    /// The kernel command line the guest got.
    bootargs: String,
    /// Why `--accel auto` chose the interpreter on a host where KVM runs.
    accel_note: Option<String>,
}

/// The guest's CPUs under KVM.
#[derive(Debug)]
struct KvmCpus {
    host: crate::kvm::Host,
    plan: crate::kvm::KvmPlan,
    /// Guest time: the host clock since the vCPUs started, in counter ticks.
    started: std::time::Instant,
}

/// Which CPU backend runs a booted guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// heapsoc's a64 interpreter: deterministic, instructions counted; with `translated`,
    /// its translator runs hot code as host code, with the same results.
    Interpreter { translated: bool },
    /// KVM on this aarch64 host: native speed, not deterministic, no instruction count.
    Kvm { vcpus: usize },
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Interpreter { translated: false } => {
                f.write_str("the a64 interpreter (deterministic)")
            }
            Backend::Interpreter { translated: true } => f.write_str(
                "the a64 interpreter and its translator (deterministic; the same run as the interpreter alone)",
            ),
            Backend::Kvm { vcpus } => write!(
                f,
                "KVM, {vcpus} vCPU(s) on the host's CPUs (not deterministic: timing follows the host; no instruction count)"
            ),
        }
    }
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

fn place(
    mem: &crate::GuestMemory,
    what: &'static str,
    base: u64,
    data: &[u8],
) -> Result<(), VmError> {
    mem.write_slice(data, GuestAddress(base))
        .map_err(|e| VmError::Place {
            what,
            range: Range {
                base,
                size: data.len() as u64,
            },
            message: e.to_string(),
        })
}

/// The kernel command line: `base` (the caller's, else the DT's) with what the console
/// needs added, unless it names a console itself; `earlycon` only when the console is a
/// UART heapsoc models (an early console on a UART nobody answers for can spin forever
/// waiting for its transmitter).
pub fn console_bootargs(base: Option<String>, plan: &crate::console::Console) -> String {
    let base = base.unwrap_or_default();
    let uart = plan.added.is_none() && !plan.node.is_empty();
    let mut words: Vec<&str> = base
        .split_whitespace()
        .filter(|w| uart || (*w != "earlycon" && !w.starts_with("earlycon=")))
        .collect();
    if !words.iter().any(|w| w.starts_with("console=")) {
        for a in &plan.kernel_args {
            if !words.contains(&a.as_str()) {
                words.push(a);
            }
        }
    }
    words.join(" ")
}

impl Vm {
    /// Builds the machine, loads the guest per Documentation/arch/arm64/booting.rst and
    /// sets the CPU at the kernel entry: EL1h, DAIF masked, MMU off, x0 = DTB.
    pub fn boot(
        board: &Board,
        tree: &Tree,
        kernel: (&str, &[u8]),
        initrd: Option<&[u8]>,
        console: Box<dyn Write>,
        config: VmConfig,
    ) -> Result<Vm, VmError> {
        let VmConfig {
            bootargs,
            mut profile,
            gpu_mode,
            smp,
            accel,
        } = config;
        // The console: the board's UART, or a virtio-console added to the guest's DT
        // (which the machine then builds like any node of the tree).
        let console_plan = crate::console::choose(board, tree);
        let edited;
        let (board, tree) = match console_plan.added {
            Some(slot) => {
                let mut t = tree.clone();
                crate::console::add_to_tree(&mut t, board, slot)
                    .map_err(|message| VmError::Console { message })?;
                let b = board::parse::board(&t)?;
                edited = (b, t);
                (&edited.0, &edited.1)
            }
            None => (board, tree),
        };
        let bootargs = console_bootargs(
            bootargs.or_else(|| board.chosen.bootargs.clone()),
            &console_plan,
        );
        // ID_AA64PFR0_EL1.GIC [27:24]: 1 when the GICv3 system-register interface exists.
        let gic3 = board
            .interrupt_controller
            .as_ref()
            .is_some_and(|g| g.version == board::GicVersion::V3);
        profile.id_aa64pfr0 = (profile.id_aa64pfr0 & !(0xf << 24)) | (u64::from(gic3) << 24);
        // A timer node's clock-frequency overrides CNTFRQ_EL0 for Linux
        // (arch_timer_detect_rate): make the counter run at what the kernel assumes.
        if let Some(f) = board.timer.as_ref().and_then(|t| t.frequency) {
            if f > 0 {
                profile.cntfrq = u64::from(f);
            }
        }
        let counter_hz = profile.cntfrq;
        let machine = machine::build_with(
            board,
            console,
            machine::Options {
                counter_hz,
                gpu_mode,
                console_node: Some(console_plan.node.clone()).filter(|n| !n.is_empty()),
            },
        )?;
        let header = ImageHeader::parse(kernel.0, kernel.1)?;
        let estimate = board::guest_dtb(tree, &ChosenPatch::default())?.len() as u64 + 4096;
        let layout = loader::plan(board, &header, estimate, initrd.map(|i| i.len() as u64))?;
        let dtb = board::guest_dtb(
            tree,
            &ChosenPatch {
                bootargs: Some(bootargs.clone()),
                stdout_path: console_plan.stdout_path.clone(),
                initrd: layout.initrd.map(|r| Range {
                    base: r.base,
                    size: initrd.map_or(0, |i| i.len() as u64),
                }),
            },
        )?;
        if dtb.len() as u64 > layout.dtb.size {
            return Err(LoadError::DtbTooLarge(dtb.len() as u64).into());
        }
        let final_bootargs = bootargs;
        place(&machine.memory, "kernel", layout.kernel.base, kernel.1)?;
        place(&machine.memory, "device tree", layout.dtb.base, &dtb)?;
        if let (Some(r), Some(data)) = (layout.initrd, initrd) {
            place(&machine.memory, "initramfs", r.base, data)?;
        }

        let mut machine = machine;
        let (kvm, accel_note) = kvm_run::choose(
            accel,
            board,
            &machine,
            smp,
            layout.kernel.base,
            layout.dtb.base,
        )?;
        // Under KVM no PE is made; under the interpreter, the translator where asked (or by
        // `auto`) and the host has one.
        let translate = match accel {
            Accel::Translate => {
                if !a64::jit::supported() {
                    return Err(VmError::NoTranslator);
                }
                true
            }
            Accel::Auto => a64::jit::supported(),
            Accel::Interp | Accel::Kvm => false,
        };
        let bus = Rc::new(RefCell::new(std::mem::take(&mut machine.bus)));
        let unmapped = Rc::new(RefCell::new(Vec::new()));
        // One a64 CPU per PE the GIC serves (every CPU of /cpus the DT enables).
        let cpu_nodes: Vec<&board::Cpu> = machine
            .mpidrs
            .iter()
            .filter_map(|m| board.cpus.iter().find(|c| c.mpidr == *m))
            .collect();
        let started = smp.unwrap_or(usize::MAX).max(1);
        let multi_pe = cpu_nodes.len().min(started) > 1;
        let mut pes = Vec::with_capacity(cpu_nodes.len());
        for (k, c) in cpu_nodes.iter().enumerate() {
            if kvm.is_some() {
                break;
            }
            let io = io::Io {
                bus: bus.clone(),
                gic: machine.gic.clone(),
                unmapped: unmapped.clone(),
            };
            // MPIDR_EL1: the CPU's `reg` (its affinity), bit 31 RES1; U (bit 30) clear, as
            // the PE is part of a multiprocessor system.
            let mut pe_profile = profile.clone();
            pe_profile.mpidr = 0x8000_0000 | (c.mpidr & 0xff_00ff_ffff);
            let mut cpu = Cpu::new(pe_profile, Box::new(io));
            cpu.core.multi_pe = multi_pe;
            if translate {
                cpu.set_translation(Some(TRANSLATE_AFTER));
            }
            for region in machine.memory.iter() {
                let range = Range {
                    base: region.start_addr().0,
                    size: region.len(),
                };
                let host = region
                    .get_host_address(MemoryRegionAddress(0))
                    .map_err(|e| VmError::Place {
                        what: "RAM bank",
                        range,
                        message: e.to_string(),
                    })?;
                // SAFETY: the mapping belongs to `machine.memory`, which the Vm owns and
                // which outlives every CPU (`pes` is declared before `machine`, so dropped
                // first). Nothing holds Rust references into guest RAM: devices and the
                // loader reach it through vm-memory's volatile copies, on this thread, and
                // what they write is passed to `invalidate_code` before the CPUs run on.
                unsafe { cpu.core.phys().add_ram(host, range.base, range.size) }.map_err(|e| {
                    VmError::Place {
                        what: "RAM bank",
                        range,
                        message: e.to_string(),
                    }
                })?;
            }
            cpu.reset();
            // The GIC drives the PE's IRQ input from inside every access that can change
            // it (ICC_* and GIC MMIO, device lines), so an interrupt is taken at the next
            // block boundary and the line drops as soon as the guest acknowledges.
            machine.gic.borrow_mut().connect_pe(k, cpu.irq_line());
            let state = if k == 0 {
                // booting.rst: x0 = DTB, x1-x3 = 0, at the kernel's first instruction.
                cpu.power_on(layout.kernel.base, layout.dtb.base);
                PeState::Running
            } else if k >= started {
                PeState::Excluded
            } else {
                match (c.enable_method.as_deref(), c.release_addr) {
                    (Some("spin-table"), Some(release)) => PeState::Parked { release },
                    _ => PeState::Off,
                }
            };
            pes.push(Pe {
                cpu,
                mpidr: c.mpidr,
                node: c.node.clone(),
                state,
            });
        }
        Ok(Vm {
            pes,
            kvm,
            accel_note,
            machine,
            bus,
            unmapped,
            layout,
            kernel_file_len: kernel.1.len() as u64,
            ptimer_intid: board.timer_intid(board::TIMER_PHYS),
            vtimer_intid: board.timer_intid(board::TIMER_VIRT),
            keep_frames: false,
            last_frame: None,
            frames_seen: 0,
            counter_hz,
            realtime: false,
            unsupported_calls: Vec::new(),
            console_plan,
            bootargs: final_bootargs,
        })
    }

    /// Which CPU backend runs the guest.
    pub fn backend(&self) -> Backend {
        match &self.kvm {
            Some(k) => Backend::Kvm {
                vcpus: k.plan.vcpus.len(),
            },
            None => Backend::Interpreter {
                translated: self.pes.iter().any(|p| p.cpu.translation_stats().is_some()),
            },
        }
    }

    /// What the translators of the PEs did, summed (`None` when no PE translates).
    pub fn translation_stats(&self) -> Option<a64::JitStats> {
        let mut total: Option<a64::JitStats> = None;
        for s in self.pes.iter().filter_map(|p| p.cpu.translation_stats()) {
            let t = total.get_or_insert_with(Default::default);
            t.translations += s.translations;
            t.ops += s.ops;
            t.native_ops += s.native_ops;
            t.code_bytes += s.code_bytes;
            t.code_in_use += s.code_in_use;
            t.translate_ns += s.translate_ns;
            t.invalidated += s.invalidated;
            t.flushes += s.flushes;
            t.entries += s.entries;
        }
        total
    }

    /// Why `--accel auto` did not choose KVM on a host where it runs, and what the run's
    /// report should say about the board under KVM.
    pub fn accel_notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self.accel_note.iter().cloned().collect();
        if let Some(k) = &self.kvm {
            notes.extend(k.plan.notes.iter().cloned());
        }
        notes
    }

    /// The kernel command line the guest got.
    pub fn bootargs(&self) -> &str {
        &self.bootargs
    }

    /// The guest-physical ranges the loader filled: kernel, DTB, initramfs.
    pub fn occupied(&self) -> Vec<Range> {
        [
            Some(self.layout.kernel),
            Some(self.layout.dtb),
            self.layout.initrd,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The guest's console: which device carries it, and why.
    pub fn console(&self) -> &crate::console::Console {
        &self.console_plan
    }

    /// The machine: devices, the DMA ledger, the memory controllers.
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// The bus (devices), e.g. to feed console input.
    pub fn bus(&self) -> Rc<RefCell<Bus>> {
        self.bus.clone()
    }

    /// Guest counter now: the furthest any PE has got (the counters of PEs that ran less
    /// catch up at their next turn).
    pub fn counter(&self) -> u64 {
        if let Some(k) = &self.kvm {
            return (k.started.elapsed().as_secs_f64() * self.counter_hz as f64) as u64;
        }
        self.pes
            .iter()
            .map(|p| p.cpu.core.counter())
            .max()
            .unwrap_or(0)
    }

    /// Instructions retired by all PEs.
    pub fn instructions(&self) -> u64 {
        self.pes.iter().map(|p| p.cpu.core.icount).sum()
    }

    /// What each PE is doing, with its MPIDR.
    pub fn pe_states(&self) -> Vec<(u64, PeState)> {
        if let Some(k) = &self.kvm {
            let running = k.host.running();
            return self
                .machine
                .mpidrs
                .iter()
                .enumerate()
                .map(|(i, &m)| {
                    let state = match running.get(i) {
                        Some(true) => PeState::Running,
                        Some(false) => PeState::Off,
                        None => PeState::Excluded,
                    };
                    (m, state)
                })
                .collect();
        }
        self.pes.iter().map(|p| (p.mpidr, p.state)).collect()
    }

    /// Keep the newest distinct frame of the first display, for [`Vm::last_frame`].
    pub fn keep_frames(&mut self, on: bool) {
        self.keep_frames = on;
    }

    /// The newest frame the first display scanned out (mode, RGB rows), if frames are kept
    /// and one was shown.
    pub fn last_frame(&self) -> Option<&(devices::pl111::Mode, Vec<u8>)> {
        self.last_frame.as_ref()
    }

    /// Ties guest time to the host clock while the guest idles (interactive use): WFI no
    /// longer skips ahead, it sleeps on the host; an idle guest hands control back to the
    /// runner every 10 ms or sooner so that console input can wake it. Busy guests still run as
    /// fast as they can. Runs are then no longer deterministic.
    pub fn set_realtime(&mut self, on: bool) {
        self.realtime = on;
    }

    /// Sleeps on the host towards counter value `target` (at most 10 ms), then moves the
    /// guest counter on by the time slept. The wait starts from where the guest's clock is:
    /// a busy guest's clock runs ahead of the host's (instructions are ticks), and an idle
    /// guest must not then wait for the host clock to catch up with the time it spent busy
    /// (a `sleep 1` after a busy stretch took 10 s when the tie was one fixed anchor).
    fn idle_in_real_time(&mut self, target: u64) {
        let hz = self.counter_hz.max(1);
        let guest = self.counter();
        let slept = std::time::Instant::now();
        if guest < target {
            let ticks = (target - guest).min(hz / 100);
            std::thread::sleep(std::time::Duration::from_secs_f64(ticks as f64 / hz as f64));
        }
        let t = guest
            .saturating_add((slept.elapsed().as_secs_f64() * hz as f64) as u64)
            .min(target);
        for p in &mut self.pes {
            p.cpu.advance_counter_to(t);
        }
    }

    fn sync_devices(&mut self) {
        {
            // Device DMA into guest RAM: decoded code there is stale.
            let mut written = self.machine.dma.written.borrow_mut();
            let overflow = std::mem::take(&mut written.overflow);
            for p in &mut self.pes {
                if overflow {
                    p.cpu.flush_all();
                }
                for r in &written.ranges {
                    p.cpu.invalidate_code(r.base, r.size);
                }
            }
            written.ranges.clear();
        }
        let now = self.counter();
        self.machine.dma.now.set(now);
        for d in &self.machine.displays {
            d.borrow_mut().tick(now);
        }
        if self.keep_frames {
            if let Some(d) = self.machine.displays.first() {
                let d = d.borrow();
                // Every frame the display scanned out since the last look: a new mode, or
                // new contents in the same buffer (a bit flipped under a held frame).
                if d.mode().is_some() && d.frames() != self.frames_seen {
                    self.frames_seen = d.frames();
                    self.last_frame = d.capture().or(self.last_frame.take());
                }
            }
        }
        for k in 0..self.pes.len() {
            self.sync_timers(k);
        }
    }

    /// PE `k`'s timer outputs to its PPIs.
    fn sync_timers(&mut self, k: usize) {
        let core = &self.pes[k].cpu.core;
        let (v, p) = (core.vtimer_irq(), core.ptimer_irq());
        let mut gic = self.machine.gic.borrow_mut();
        if let Some(i) = self.vtimer_intid {
            gic.set_ppi_level(k, i, v);
        }
        if let Some(i) = self.ptimer_intid {
            gic.set_ppi_level(k, i, p);
        }
    }

    fn next_device_deadline(&self) -> Option<u64> {
        self.machine
            .displays
            .iter()
            .filter_map(|d| d.borrow().next_deadline())
            .min()
    }

    fn note_unsupported_call(&mut self, function: u64) {
        if let Some(e) = self
            .unsupported_calls
            .iter_mut()
            .find(|(f, _)| *f == function)
        {
            e.1 += 1;
        } else if self.unsupported_calls.len() < 16 {
            self.unsupported_calls.push((function, 1));
        }
    }

    /// UNDEFINED instructions executed so far, all groups, all PEs.
    pub fn undefined_total(&self) -> u64 {
        self.pes
            .iter()
            .flat_map(|p| p.cpu.undefined_counts())
            .map(|(_, n)| n)
            .sum()
    }

    /// UNDEFINED instructions per encoding group, summed over the PEs.
    fn undefined_counts(&self) -> Vec<(&'static str, u64)> {
        let Some(first) = self.pes.first() else {
            return Vec::new();
        };
        let mut out = first.cpu.undefined_counts();
        for p in &self.pes[1..] {
            for (slot, (_, n)) in out.iter_mut().zip(p.cpu.undefined_counts()) {
                slot.1 += n;
            }
        }
        out
    }

    /// Runs like [`Vm::run`] in chunks of `chunk` instructions, calling `watch` between
    /// chunks; `watch` may stop the run (returning how) or feed devices (console input).
    pub fn run_watched(
        &mut self,
        max_insns: u64,
        chunk: u64,
        mut watch: impl FnMut(&mut Vm) -> Option<Stop>,
    ) -> RunSummary {
        let mut total = 0u64;
        loop {
            let mut s = self.run(chunk.max(1).min(max_insns - total));
            total += s.insns;
            s.insns = total;
            let more = matches!(s.stop, Stop::InsnLimit | Stop::Yield);
            if !more || total >= max_insns {
                return s;
            }
            if let Some(stop) = watch(self) {
                s.stop = stop;
                return s;
            }
        }
    }
}
