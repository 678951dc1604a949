//! The run loop: the a64 interpreter on the machine a board describes.
//!
//! ```text
//! Vm::boot: machine (RAM, bus, devices) + Image/initramfs/DTB laid out per booting.rst
//! Vm::run:  cpu.run(slice) -> MMIO through the bus, HVC -> PSCI, WFI -> skip to the next
//!           deadline; between slices: timer PPIs and device clocks -> GIC -> CPU IRQ line
//! ```
//! Guest time is the CPU's counter (retired instructions plus skipped idle time), so the
//! same inputs give the same run.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use a64::{BusFault, Cpu, CpuProfile, Exit, Mmio};
use board::{Board, ChosenPatch, Range, Tree};
use devices::gic::{Gic, IccReg};
use devices::Bus;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryRegion, MemoryRegionAddress};

use crate::loader::{self, ImageHeader, Layout, LoadError};
use crate::machine::{self, Machine, MachineError};
use crate::psci;

/// Instructions per slice between device and interrupt updates.
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
    /// With realtime idling: the guest waits with nothing armed, so control goes back to
    /// the runner (which may have console input for it); run again to continue.
    Yield,
    /// WFI with interrupts that can never arrive: no timer armed, no device clock.
    Hung { pc: u64 },
    /// The CPU reported something the machine cannot handle here.
    Fault(String),
    /// The runner's watch stopped it (a kernel panic on the console, an UNDEFINED storm).
    Aborted(String),
    /// The PE halted: `b .` with IRQs masked (a kernel that has nothing left to do and no
    /// firmware to power the board off: boards without PSCI end this way).
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
                "halted: the CPU loops at pc 0x{pc:x} with interrupts masked (no PSCI to power off)"
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

/// The CPU's view of everything that is not RAM: the bus, and the GIC's CPU interface.
#[derive(Debug)]
struct Io {
    bus: Rc<RefCell<Bus>>,
    gic: Rc<RefCell<Gic>>,
    unmapped: Rc<RefCell<Vec<UnmappedAccess>>>,
}

impl Io {
    fn fault(&self, addr: u64, size: u8, write: bool) -> BusFault {
        let mut u = self.unmapped.borrow_mut();
        if u.len() < 1024 {
            u.push(UnmappedAccess { addr, size, write });
        }
        BusFault
    }
}

impl Mmio for Io {
    fn read(&mut self, pa: u64, size: u8) -> Result<u64, BusFault> {
        let mut buf = [0u8; 8];
        let n = usize::from(size.min(8));
        match self.bus.borrow_mut().read(pa, &mut buf[..n]) {
            Ok(()) => Ok(u64::from_le_bytes(buf)),
            Err(_) => Err(self.fault(pa, size, false)),
        }
    }

    fn write(&mut self, pa: u64, size: u8, value: u64) -> Result<(), BusFault> {
        let n = usize::from(size.min(8));
        match self.bus.borrow_mut().write(pa, &value.to_le_bytes()[..n]) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.fault(pa, size, true)),
        }
    }

    fn sysreg_read(&mut self, key: u32) -> Option<u64> {
        let reg = icc_reg(key)?;
        Some(self.gic.borrow_mut().icc_read(reg))
    }

    fn sysreg_write(&mut self, key: u32, value: u64) -> bool {
        match icc_reg(key) {
            Some(reg) => {
                self.gic.borrow_mut().icc_write(reg, value);
                true
            }
            None => false,
        }
    }
}

/// The ICC_* register an a64 system-register key (instruction bits 20:5: op0, op1, CRn,
/// CRm, op2) names.
fn icc_reg(key: u32) -> Option<IccReg> {
    let field = |shift: u32, bits: u32| ((key >> shift) & ((1 << bits) - 1)) as u8;
    IccReg::from_encoding(
        field(14, 2),
        field(11, 3),
        field(7, 4),
        field(3, 4),
        field(0, 3),
    )
}

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
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            bootargs: None,
            profile: CpuProfile::default(),
            gpu_mode: machine::DEFAULT_GPU_MODE,
        }
    }
}

/// A booted machine with its CPU.
///
/// The CPU points into the machine's RAM, so the machine can be borrowed but never
/// replaced:
///
/// ```compile_fail
/// fn swap(vm: &mut vmm::vm::Vm, other: vmm::machine::Machine) {
///     vm.machine = other; // private: replacing it would unmap RAM the CPU uses
/// }
/// ```
pub struct Vm {
    /// Declared first: dropped before `machine`, whose RAM it points into.
    cpu: Cpu,
    /// Private: the CPU holds pointers into its RAM, so it must live as long as the Vm and
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
    counter_hz: u64,
    /// With `--realtime`: the host instant and guest counter the guest clock is tied to.
    realtime: Option<(std::time::Instant, u64)>,
    /// Firmware calls answered NOT_SUPPORTED, by function ID.
    unsupported_calls: Vec<(u64, u64)>,
    /// The guest's console and why.
    console_plan: crate::console::Console,
    /// The kernel command line the guest got.
    bootargs: String,
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
        let bus = Rc::new(RefCell::new(std::mem::take(&mut machine.bus)));
        let unmapped = Rc::new(RefCell::new(Vec::new()));
        let io = Io {
            bus: bus.clone(),
            gic: machine.gic.clone(),
            unmapped: unmapped.clone(),
        };
        let mut cpu = Cpu::new(profile, Box::new(io));
        for region in machine.memory.iter() {
            let host = region
                .get_host_address(MemoryRegionAddress(0))
                .map_err(|e| VmError::Place {
                    what: "RAM bank",
                    range: Range {
                        base: region.start_addr().0,
                        size: region.len(),
                    },
                    message: e.to_string(),
                })?;
            // SAFETY: the mapping belongs to `machine.memory`, which the Vm owns and which
            // outlives `cpu` (declared before it, so dropped after). Nothing holds Rust
            // references into guest RAM: devices and the loader reach it through
            // vm-memory's volatile copies, on this thread, and what they write is passed to
            // `invalidate_code` before the CPU runs on.
            unsafe {
                cpu.core
                    .phys()
                    .add_ram(host, region.start_addr().0, region.len())
            }
            .map_err(|e| VmError::Place {
                what: "RAM bank",
                range: Range {
                    base: region.start_addr().0,
                    size: region.len(),
                },
                message: e.to_string(),
            })?;
        }
        cpu.reset();
        // The GIC drives the PE's IRQ input from inside every access that can change it
        // (ICC_* and GIC MMIO, device lines), so an interrupt is taken at the next block
        // boundary and the line drops as soon as the guest acknowledges.
        machine.gic.borrow_mut().connect_cpu(cpu.irq_line());
        cpu.core.set_x(0, layout.dtb.base);
        for i in 1..4 {
            cpu.core.set_x(i, 0);
        }
        cpu.set_pc(layout.kernel.base);
        let ppi = |i: usize| {
            board
                .timer
                .as_ref()
                .and_then(|t| t.interrupts.get(i))
                .and_then(|i| i.intid)
        };
        Ok(Vm {
            cpu,
            machine,
            bus,
            unmapped,
            layout,
            kernel_file_len: kernel.1.len() as u64,
            ptimer_intid: ppi(1),
            vtimer_intid: ppi(2),
            keep_frames: false,
            last_frame: None,
            counter_hz,
            realtime: None,
            unsupported_calls: Vec::new(),
            console_plan,
            bootargs: final_bootargs,
        })
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

    /// Guest counter now.
    pub fn counter(&self) -> u64 {
        self.cpu.core.counter()
    }

    /// Keep the newest distinct frame of the first display, for [`Vm::last_frame`].
    pub fn keep_frames(&mut self, on: bool) {
        self.keep_frames = on;
    }

    /// The newest distinct frame the first display scanned out (mode, RGB rows), if frames
    /// are kept and one was shown.
    pub fn last_frame(&self) -> Option<&(devices::pl111::Mode, Vec<u8>)> {
        self.last_frame.as_ref()
    }

    /// Ties guest time to the host clock while the guest idles (interactive use): WFI no
    /// longer skips ahead, it waits; an idle guest with nothing armed hands control back to
    /// the runner every 10 ms so that console input can wake it. Busy guests still run as
    /// fast as they can. Runs are then no longer deterministic.
    pub fn set_realtime(&mut self, on: bool) {
        self.realtime = on.then(|| (std::time::Instant::now(), self.cpu.core.counter()));
    }

    /// Waits on the host clock towards counter value `target` (at most 10 ms), then moves
    /// the guest counter to where the host clock is.
    fn idle_in_real_time(&mut self, start: std::time::Instant, start_counter: u64, target: u64) {
        let hz = self.counter_hz.max(1) as f64;
        let host_counter =
            |t: std::time::Instant| start_counter + (t.elapsed().as_secs_f64() * hz) as u64;
        let now = host_counter(start);
        if now < target {
            let ticks = (target - now).min(self.counter_hz / 100);
            std::thread::sleep(std::time::Duration::from_secs_f64(ticks as f64 / hz));
        }
        self.cpu.advance_counter_to(host_counter(start).min(target));
    }

    fn sync_devices(&mut self) {
        {
            // Device DMA into guest RAM: decoded code there is stale.
            let mut written = self.machine.dma.written.borrow_mut();
            if std::mem::take(&mut written.overflow) {
                self.cpu.flush_all();
            }
            for r in written.ranges.drain(..) {
                self.cpu.invalidate_code(r.base, r.size);
            }
        }
        let now = self.cpu.core.counter();
        self.machine.dma.now.set(now);
        for d in &self.machine.displays {
            d.borrow_mut().tick(now);
        }
        if self.keep_frames {
            if let Some(d) = self.machine.displays.first() {
                let d = d.borrow();
                let mode = d.mode();
                if mode.is_some() && mode.as_ref() != self.last_frame.as_ref().map(|(m, _)| m) {
                    self.last_frame = d.capture().or(self.last_frame.take());
                }
            }
        }
        {
            let mut gic = self.machine.gic.borrow_mut();
            if let Some(v) = self.vtimer_intid {
                gic.set_level(v, self.cpu.core.vtimer_irq());
            }
            if let Some(p) = self.ptimer_intid {
                gic.set_level(p, self.cpu.core.ptimer_irq());
            }
        }
    }

    fn next_device_deadline(&self) -> Option<u64> {
        self.machine
            .displays
            .iter()
            .filter_map(|d| d.borrow().next_deadline())
            .min()
    }

    /// What the exception loop the CPU reported is, and its likely cause.
    fn diagnose_loop(&self) -> String {
        let Some((e, n, before)) = self.cpu.exception_loop() else {
            return "exception loop (no details)".to_string();
        };
        let mut out = format!(
            "exception loop: {n} identical {}s in a row at pc 0x{:x} (ESR 0x{:x}{}) to vector 0x{:x} (VBAR_EL1 + 0x{:x}); likely cause: {}",
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

    /// UNDEFINED instructions executed so far, all groups.
    pub fn undefined_total(&self) -> u64 {
        self.cpu.undefined_counts().iter().map(|(_, n)| n).sum()
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

    /// Runs until the guest powers off or `max_insns` instructions have retired.
    pub fn run(&mut self, max_insns: u64) -> RunSummary {
        let start = self.cpu.core.icount;
        let stop = loop {
            let done = self.cpu.core.icount - start;
            if done >= max_insns {
                break Stop::InsnLimit;
            }
            self.sync_devices();
            let exit = self.cpu.run(SLICE.min(max_insns - done));
            match exit {
                Exit::Budget => {}
                Exit::Idle { deadline } => {
                    self.sync_devices();
                    if self.machine.gic.borrow().irq_pending() {
                        continue;
                    }
                    let next = [deadline, self.next_device_deadline()]
                        .into_iter()
                        .flatten()
                        .min();
                    if let Some((start, start_counter)) = self.realtime {
                        self.idle_in_real_time(start, start_counter, next.unwrap_or(u64::MAX));
                        if next.is_none() {
                            // Back to the runner, which may have console input to deliver.
                            break Stop::Yield;
                        }
                        continue;
                    }
                    match next {
                        Some(t) => self.cpu.advance_counter_to(t),
                        None => {
                            break Stop::Hung {
                                pc: self.cpu.core.regs.pc,
                            }
                        }
                    }
                }
                // Firmware calls: PSCI over HVC or SMC (as the DT's `method` says), and
                // the SMCCC services vendor kernels probe, which answer NOT_SUPPORTED.
                Exit::Hvc(_) | Exit::Smc(_) => {
                    let x = |i: u8| self.cpu.core.x(i);
                    let function = x(0);
                    match psci::call(function, [x(1), x(2), x(3)], self.machine.mpidr) {
                        psci::Action::Return(v) => {
                            if !psci::implements(function) {
                                self.note_unsupported_call(function);
                            }
                            self.cpu.core.set_x(0, v as u64)
                        }
                        psci::Action::PowerOff => break Stop::PowerOff,
                        psci::Action::Reset => break Stop::Reset,
                    }
                }
                Exit::ExceptionLoop => break Stop::ExceptionLoop(self.diagnose_loop()),
                Exit::Halted => {
                    break Stop::Halted {
                        pc: self.cpu.core.regs.pc,
                    }
                }
                other => {
                    break Stop::Fault(format!(
                        "unexpected CPU exit {other:?} at pc 0x{:x}",
                        self.cpu.core.regs.pc
                    ))
                }
            }
        };
        self.sync_devices();
        RunSummary {
            stop,
            insns: self.cpu.core.icount - start,
            counter: self.cpu.core.counter(),
            undefined: self.cpu.undefined_counts(),
            unmapped: self.unmapped.borrow().clone(),
            spurious_acks: self.machine.gic.borrow().spurious_acks(),
            unsupported_calls: self.unsupported_calls.clone(),
        }
    }
}
