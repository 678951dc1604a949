//! The machine a board describes: guest RAM, the MMIO bus and the device models, each at
//! the `reg` and interrupt its DT node gives. Nothing about addresses is decided here.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use board::{Board, Device, GicVersion, Range, Status};
use devices::bus::Mirrored;
use devices::console::ConsoleInput;
use devices::dma::{Dma, DmaContext};
use devices::dmc520::{Dmc520, EccError, Geometry};
use devices::gic::v2::{GiccMmio, GicdV2Mmio};
use devices::gic::{Gic, GicdMmio, GicrMmio};
use devices::pl011::Pl011;
use devices::pl111::Pl111;
use devices::placeholder::{AccessCount, Shared, Unmodelled, VirtioMmioEmpty};
use devices::uart16550::Uart16550;
use devices::virtio::console::Console as VirtioConsole;
use devices::virtio::gpu::Gpu;
use devices::virtio::mmio::VirtioMmio;
use devices::virtio::VirtioDevice;
use devices::{Bus, BusError, IrqLine, MmioDevice};
use ledger::Ledger;

use crate::memory::{guest_memory, MemoryError};
use crate::GuestMemory;

/// Building the machine failed; messages name the DT node.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("{node}: {source}")]
    Bus {
        node: String,
        #[source]
        source: BusError,
    },
    #[error("{node}: {message}")]
    Node { node: String, message: String },
}

fn node_err(node: &str, message: impl Into<String>) -> MachineError {
    MachineError::Node {
        node: node.to_string(),
        message: message.into(),
    }
}

/// A DT device heapsoc does not model, and how often the guest touched it.
#[derive(Debug, Clone)]
pub struct UnmodelledDevice {
    pub node: String,
    pub compatible: String,
    pub accesses: AccessCount,
}

/// A DMC-520 and the ECC bank it controls.
#[derive(Debug, Clone)]
pub struct MemoryController {
    pub node: String,
    /// The bank's node name.
    pub bank: String,
    pub range: Range,
    pub dmc: Rc<RefCell<Dmc520>>,
}

/// What an injected memory error did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injected {
    /// Reported by the bank's controller (the guest's EDAC driver sees it).
    Reported { controller: String, bank: String },
    /// An ECC bank without a modelled controller: corrected or detected, never reported.
    Unreported { bank: String },
    /// A non-ECC bank: the data changed silently (bits flipped at the address).
    Corrupted { bank: String },
    /// Not RAM.
    NotRam,
}

/// The assembled machine (without its CPU).
#[derive(Debug)]
pub struct Machine {
    pub memory: GuestMemory,
    pub bus: Bus,
    pub gic: Rc<RefCell<Gic>>,
    /// The device carrying the guest's console ([`Options::console_node`]), for host input.
    pub console: Option<Rc<RefCell<dyn ConsoleInput>>>,
    /// PL111 displays, for their frame clocks and screenshots.
    pub displays: Vec<Rc<RefCell<Pl111>>>,
    /// DMC-520 controllers, each with the ECC bank it controls.
    pub memory_controllers: Vec<MemoryController>,
    /// The virtio-gpu behind the first virtio-mmio slot.
    pub gpu: Option<Rc<RefCell<VirtioMmio<Gpu>>>>,
    /// Every device DMA, and the clock the devices stamp it with.
    pub dma: DmaContext,
    /// MPIDR of the boot PE (its `reg` in /cpus).
    pub mpidr: u64,
    /// MPIDRs of the PEs the GIC serves (PE `k` is redistributor or CPU interface `k`).
    pub mpidrs: Vec<u64>,
    /// Devices with a placeholder on the bus.
    pub unmodelled: Vec<UnmodelledDevice>,
    /// Modelled devices: (DT node, the compatible that chose the model).
    pub modelled: Vec<(String, String)>,
    /// What the machine could not wire as the DT asks (an interrupt that goes to a chained
    /// controller heapsoc does not model), for the run's report.
    pub notes: Vec<String>,
    /// Devices with a compatible but no registers (clocks, panels, PSCI, the timer).
    pub without_registers: Vec<String>,
    /// The interrupt wires (INTID -> each device's input), for [`Machine::forward_irqs`].
    wires: BTreeMap<u32, Rc<RefCell<Vec<bool>>>>,
    irq_forward: IrqForward,
}

/// The GIC's interrupt inputs as the devices drive them. Devices whose DT interrupts name
/// the same INTID share one wire, which is asserted while any of them drives it (a
/// wired-OR, as on a board): one device letting go must not drop another's interrupt.
#[derive(Debug)]
struct Wiring {
    gic: Rc<RefCell<Gic>>,
    inputs: BTreeMap<u32, Rc<RefCell<Vec<bool>>>>,
    forward: IrqForward,
}

/// Where the wires' levels go besides the modelled GIC: an in-kernel interrupt controller
/// (KVM's vGIC) when the CPU backend has one.
#[derive(Clone, Default)]
struct IrqForward(Rc<RefCell<Option<IrqSink>>>);

/// Takes `(intid, level)` for each change of a wire.
type IrqSink = Box<dyn Fn(u32, bool)>;

impl std::fmt::Debug for IrqForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.borrow().is_some() {
            "IrqForward(set)"
        } else {
            "IrqForward(none)"
        })
    }
}

impl Wiring {
    /// A new input on the wire of `intid`.
    fn line(&mut self, intid: u32) -> Box<dyn IrqLine> {
        let inputs = self.inputs.entry(intid).or_default().clone();
        let index = {
            let mut v = inputs.borrow_mut();
            v.push(false);
            v.len() - 1
        };
        Box::new(WiredOr {
            gic: self.gic.clone(),
            intid,
            inputs,
            index,
            forward: self.forward.clone(),
        })
    }
}

/// One device's input on a shared interrupt wire.
#[derive(Debug)]
struct WiredOr {
    gic: Rc<RefCell<Gic>>,
    intid: u32,
    inputs: Rc<RefCell<Vec<bool>>>,
    index: usize,
    forward: IrqForward,
}

impl IrqLine for WiredOr {
    fn set_level(&self, asserted: bool) {
        let level = {
            let mut v = self.inputs.borrow_mut();
            if let Some(x) = v.get_mut(self.index) {
                *x = asserted;
            }
            v.iter().any(|&x| x)
        };
        self.gic.borrow_mut().set_level(self.intid, level);
        if let Some(f) = self.forward.0.borrow().as_ref() {
            f(self.intid, level);
        }
    }
}

/// Size of a PrimeCell's register window; its ID registers are the last 32 bytes.
const PRIMECELL_WINDOW: u64 = 0x1000;

/// Places a PrimeCell model (PL011, PL111) in the DT's `reg`: Linux reads the PrimeCell
/// ID at the end of that range (drivers/amba/bus.c, amba_read_periphid), so the range
/// must hold whole copies of the 4 KiB window, which repeats through larger ranges.
fn primecell(
    dev: &Device,
    reg: &Range,
    model: impl MmioDevice + 'static,
) -> Result<Box<dyn MmioDevice>, MachineError> {
    // drivers/of/platform.c makes an AMBA device (which amba-pl011 and pl111 bind) only
    // for nodes compatible with "arm,primecell"; otherwise the driver never probes.
    if !dev.compatible.iter().any(|c| c == "arm,primecell") {
        return Err(node_err(
            &dev.node,
            "compatible lacks \"arm,primecell\": Linux creates the AMBA device its driver binds only for that compatible",
        ));
    }
    // With `arm,primecell-periphid` Linux takes the ID from the DT and never reads the ID
    // registers (drivers/amba/bus.c): any window that holds the registers will do (the
    // Raspberry Pi PL011s have a 0x200 `reg`).
    if dev.has_prop("arm,primecell-periphid") && reg.size >= 0x100 {
        return Ok(Box::new(model));
    }
    if reg.size < PRIMECELL_WINDOW || reg.size % PRIMECELL_WINDOW != 0 {
        return Err(node_err(
            &dev.node,
            format!(
                "reg size 0x{:x} is not a multiple of the 4 KiB PrimeCell window: Linux reads the PrimeCell ID at the end of the range (size - 0x20) and would not find this device",
                reg.size
            ),
        ));
    }
    Ok(if reg.size == PRIMECELL_WINDOW {
        Box::new(model)
    } else {
        Box::new(Mirrored {
            window: PRIMECELL_WINDOW,
            inner: model,
        })
    })
}

/// What the DT does not say about the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Device clocks (PL111 frames) run at the guest's generic-timer frequency.
    pub counter_hz: u64,
    /// The display mode virtio-gpu reports (GET_DISPLAY_INFO): a virtio-gpu has no DT
    /// description of its display.
    pub gpu_mode: (u32, u32),
    /// The DT node of the device carrying the guest's console (see [`crate::console`]);
    /// its output goes to the host. A virtio-mmio node named here is a virtio-console.
    pub console_node: Option<String>,
}

/// The virtio-gpu display mode unless `--gpu-mode` says otherwise.
pub const DEFAULT_GPU_MODE: (u32, u32) = (1024, 768);

impl Options {
    /// The defaults for a guest timer of `counter_hz`.
    pub fn new(counter_hz: u64) -> Options {
        Options {
            counter_hz,
            gpu_mode: DEFAULT_GPU_MODE,
            console_node: None,
        }
    }
}

/// Builds one modelled device from its DT node and its first `reg` range.
type Constructor = fn(&mut Builder<'_>, &Device, &Range) -> Result<(), MachineError>;

/// The device models, by `compatible`. A node's compatible strings are tried in its own
/// order (most specific first); the first with a model builds it. A real SoC's device is
/// one more line here.
const MODELS: &[(&str, Constructor)] = &[
    ("arm,pl011", pl011),
    ("ns8250", uart16550),
    ("ns16450", uart16550),
    ("ns16550", uart16550),
    ("ns16550a", uart16550),
    ("ns16750", uart16550),
    ("ns16850", uart16550),
    ("snps,dw-apb-uart", uart16550),
    ("arm,pl111", pl111),
    ("arm,dmc-520", dmc520),
    ("virtio,mmio", virtio_mmio),
];

/// The model `compatible` strings heapsoc builds, for messages and reports.
pub fn modelled_compatibles() -> impl Iterator<Item = &'static str> {
    MODELS.iter().map(|(c, _)| *c)
}

/// The machine while it is assembled.
struct Builder<'a> {
    board: &'a Board,
    options: Options,
    memory: GuestMemory,
    dma: DmaContext,
    bus: Bus,
    wiring: Wiring,
    /// INTIDs the GIC implements.
    nr_irqs: u32,
    console_out: Option<Box<dyn Write>>,
    console: Option<Rc<RefCell<dyn ConsoleInput>>>,
    displays: Vec<Rc<RefCell<Pl111>>>,
    gpu: Option<Rc<RefCell<VirtioMmio<Gpu>>>>,
    memory_controllers: Vec<MemoryController>,
    /// The ECC-protected banks no DMC-520 controls yet, in address order.
    ecc_banks: std::vec::IntoIter<&'a board::MemoryBank>,
    unmodelled: Vec<UnmodelledDevice>,
    notes: Vec<String>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        node: &str,
        base: u64,
        size: u64,
        dev: Box<dyn MmioDevice>,
    ) -> Result<(), MachineError> {
        self.bus
            .insert(node, base, size, dev)
            .map_err(|source| MachineError::Bus {
                node: node.to_string(),
                source,
            })
    }

    /// The interrupt line of `dev`'s `interrupts` entry `index`, checked against what the
    /// GIC can deliver.
    fn irq(&mut self, dev: &Device, index: usize) -> Result<Box<dyn IrqLine>, MachineError> {
        let unconnected = |b: &mut Self, why: String| -> Box<dyn IrqLine> {
            b.notes.push(format!(
                "{}: {why}: its interrupt is not connected",
                dev.node
            ));
            Box::new(devices::IrqLog::default())
        };
        let Some(irq) = dev.interrupts.get(index) else {
            let why = format!("interrupts has no entry {index}");
            return Ok(unconnected(self, why));
        };
        match irq.intid {
            Some(intid) if (16..self.nr_irqs).contains(&intid) => Ok(self.wiring.line(intid)),
            // A chained controller heapsoc does not model (the guest has no driver for it
            // either, so its driver finds no interrupt).
            None if irq.kind.is_none() => {
                let why = format!(
                    "interrupt {index} goes to {}, not the GIC",
                    irq.controller.as_deref().unwrap_or("no controller")
                );
                Ok(unconnected(self, why))
            }
            _ => Err(node_err(
                &dev.node,
                format!(
                    "interrupts: entry {index} <{}> is {}, not an interrupt the GIC can deliver (SPI 0-987, PPI 0-15)",
                    irq.cells.iter().map(|c| format!("0x{c:x}")).collect::<Vec<_>>().join(" "),
                    irq.kind.as_deref().unwrap_or("not a GIC specifier")
                ),
            )),
        }
    }

    /// A device heapsoc does not model: its registers read as zero, accesses are counted.
    /// It may sit inside its bus's `reg` window or share a range with another stand-in.
    fn placeholder(&mut self, dev: &Device) -> Result<(), MachineError> {
        let accesses = AccessCount::default();
        for r in dev.reg.iter().filter(|r| r.size > 0) {
            let placeholder = Unmodelled {
                count: accesses.clone(),
            };
            self.bus
                .insert_stand_in(&dev.node, r.base, r.size, Box::new(placeholder))
                .map_err(|source| MachineError::Bus {
                    node: dev.node.clone(),
                    source,
                })?;
        }
        self.unmodelled.push(UnmodelledDevice {
            node: dev.node.clone(),
            compatible: dev.compatible.first().cloned().unwrap_or_default(),
            accesses,
        });
        Ok(())
    }
}

fn pl011(b: &mut Builder<'_>, dev: &Device, reg: &Range) -> Result<(), MachineError> {
    // Linux binds amba-pl011 to every PL011, so each is modelled; the console's output
    // goes to the host, the others' nowhere.
    let irq = b.irq(dev, 0)?;
    let (is_console, out) = output_for(b, &dev.node);
    let uart = Rc::new(RefCell::new(Pl011::new(out, irq)));
    let window = primecell(dev, reg, Shared(uart.clone()))?;
    b.add(&dev.node, reg.base, reg.size, window)?;
    if is_console {
        b.console = Some(uart);
    }
    Ok(())
}

/// The console's output for the device at `node` if it carries the console, else a sink.
fn output_for(b: &mut Builder<'_>, node: &str) -> (bool, Box<dyn Write>) {
    let is_console = b.options.console_node.as_deref() == Some(node);
    let out = if is_console {
        b.console_out.take()
    } else {
        None
    };
    (is_console, out.unwrap_or_else(|| Box::new(std::io::sink())))
}

/// A 16550-family UART (of_serial, 8250_dw): `reg-shift` and `reg-io-width` from the DT.
fn uart16550(b: &mut Builder<'_>, dev: &Device, reg: &Range) -> Result<(), MachineError> {
    let irq = b.irq(dev, 0)?;
    let (is_console, out) = output_for(b, &dev.node);
    let designware = dev.compatible.iter().any(|c| c == "snps,dw-apb-uart");
    let uart = Uart16550::new(
        out,
        irq,
        dev.u32_prop("reg-shift").unwrap_or(0),
        dev.u32_prop("reg-io-width").unwrap_or(1),
        designware,
    )
    .map_err(|e| node_err(&dev.node, e.to_string()))?;
    let uart = Rc::new(RefCell::new(uart));
    b.add(
        &dev.node,
        reg.base,
        reg.size,
        Box::new(Shared(uart.clone())),
    )?;
    if is_console {
        b.console = Some(uart);
    }
    Ok(())
}

fn pl111(b: &mut Builder<'_>, dev: &Device, reg: &Range) -> Result<(), MachineError> {
    let irq = b.irq(dev, 0)?;
    let pl111 = Rc::new(RefCell::new(Pl111::new(
        Dma::new(b.dma.clone(), &dev.node),
        irq,
        b.options.counter_hz,
    )));
    let window = primecell(dev, reg, Shared(pl111.clone()))?;
    b.add(&dev.node, reg.base, reg.size, window)?;
    b.displays.push(pl111);
    Ok(())
}

fn dmc520(b: &mut Builder<'_>, dev: &Device, reg: &Range) -> Result<(), MachineError> {
    let bank = b.ecc_banks.next().ok_or_else(|| {
        node_err(
            &dev.node,
            "more arm,dmc-520 controllers than ECC-protected RAM banks (each controls the next ECC bank in address order)",
        )
    })?;
    let geometry = Geometry::for_size(bank.range.size).ok_or_else(|| {
        node_err(
            &dev.node,
            format!(
                "its bank {} ({}) is not a power-of-two size of 8 MiB to 2 GiB",
                bank.name, bank.range
            ),
        )
    })?;
    let mut line = |name: &str| -> Result<Option<Box<dyn IrqLine>>, MachineError> {
        match dev.interrupt_names.iter().position(|n| n == name) {
            Some(i) => b.irq(dev, i).map(Some),
            None => Ok(None),
        }
    };
    let (errc, errd) = (line("dram_ecc_errc")?, line("dram_ecc_errd")?);
    let dmc = Rc::new(RefCell::new(Dmc520::new(geometry, errc, errd)));
    b.add(&dev.node, reg.base, reg.size, Box::new(Shared(dmc.clone())))?;
    b.memory_controllers.push(MemoryController {
        node: dev.node.clone(),
        bank: bank.name.clone(),
        range: bank.range,
        dmc,
    });
    Ok(())
}

/// The console's slot ([`Options::console_node`]) holds a virtio-console; the first other
/// virtio-mmio slot holds the virtio-gpu; the others answer as empty slots
/// (device ID 0), as on a board with nothing plugged in.
fn virtio_mmio(b: &mut Builder<'_>, dev: &Device, reg: &Range) -> Result<(), MachineError> {
    if b.options.console_node.as_deref() == Some(dev.node.as_str()) {
        let (_, out) = output_for(b, &dev.node);
        let transport = virtio_transport(b, dev, reg, VirtioConsole::new(out))?;
        b.console = Some(transport);
    } else if b.gpu.is_some() {
        b.add(&dev.node, reg.base, reg.size, Box::new(VirtioMmioEmpty))?;
    } else {
        let (w, h) = b.options.gpu_mode;
        b.gpu = Some(virtio_transport(b, dev, reg, Gpu::new(w, h))?);
    }
    Ok(())
}

/// A virtio-mmio transport with `device` behind it, on the bus at the node's `reg`.
fn virtio_transport<D: VirtioDevice + 'static>(
    b: &mut Builder<'_>,
    dev: &Device,
    reg: &Range,
    device: D,
) -> Result<Rc<RefCell<VirtioMmio<D>>>, MachineError> {
    let irq = b.irq(dev, 0)?;
    let transport = Rc::new(RefCell::new(VirtioMmio::new(
        device,
        Dma::new(b.dma.clone(), &dev.node),
        b.memory.clone(),
        irq,
    )));
    b.add(
        &dev.node,
        reg.base,
        reg.size,
        Box::new(Shared(transport.clone())),
    )?;
    Ok(transport)
}

/// Builds the machine `board` describes with the default [`Options`] for a guest timer
/// of `counter_hz`; the console UART writes to `console`.
pub fn build(
    board: &Board,
    console: Box<dyn Write>,
    counter_hz: u64,
) -> Result<Machine, MachineError> {
    let mut options = Options::new(counter_hz);
    // The UART /chosen/stdout-path names when heapsoc models it, else the first it models
    // (crate::console makes the full choice, with the clocks, for a boot).
    let modelled =
        |d: &&Device| d.status == Status::Okay && crate::console::uart_model(d).is_some();
    options.console_node = board
        .chosen
        .stdout_node
        .as_deref()
        .and_then(|p| board.device(p))
        .filter(modelled)
        .or_else(|| board.devices.iter().find(modelled))
        .map(|d| d.node.clone());
    build_with(board, console, options)
}

/// Builds the machine `board` describes; the console UART writes to `console`.
pub fn build_with(
    board: &Board,
    console: Box<dyn Write>,
    options: Options,
) -> Result<Machine, MachineError> {
    let memory = guest_memory(board)?;
    let dma = DmaContext {
        written: Default::default(),
        memory: memory.clone(),
        ledger: Rc::new(RefCell::new(Ledger::new())),
        now: Rc::new(Cell::new(0)),
    };
    let cpu = board
        .cpus
        .first()
        .ok_or_else(|| node_err("/cpus", "no CPU to boot"))?;
    let ic = board
        .interrupt_controller
        .as_ref()
        .ok_or_else(|| node_err("/", "no interrupt controller: the kernel needs a GIC"))?;
    // Every CPU the DT declares gets a redistributor (GICv2: a CPU interface, at most 8).
    let mut mpidrs: Vec<u64> = board
        .cpus
        .iter()
        .filter(|c| c.status == Status::Okay || c.node == cpu.node)
        .map(|c| c.mpidr)
        .collect();
    if ic.version != GicVersion::V3 {
        mpidrs.truncate(devices::gic::V2_MAX_PES);
    }

    if ic.version == GicVersion::Other {
        return Err(node_err(
            &ic.node,
            format!(
                "the root interrupt controller {} is not modelled; heapsoc models arm,gic-v3 and GICv2 (arm,gic-400, arm,cortex-a15-gic, qcom,msm-qgic2, ...)",
                ic.compatible.first().map(String::as_str).unwrap_or("(no compatible)")
            ),
        ));
    }
    let (Some(r0), Some(r1)) = (ic.reg.first(), ic.reg.get(1)) else {
        return Err(node_err(
            &ic.node,
            "reg: a GIC needs two entries (GICv3: GICD, GICR; GICv2: GICD, GICC)",
        ));
    };
    // The architected frame sizes: boards often give larger, overlapping windows (a
    // GIC-400's 4 KiB distributor in a 64 KiB `reg` that runs into its CPU interface).
    let (d_max, c_max) = match ic.version {
        GicVersion::V3 => (0x1_0000, u64::MAX),
        _ => (0x1000, 0x2000),
    };
    let (r0, r1) = (
        Range {
            base: r0.base,
            size: r0.size.min(d_max),
        },
        Range {
            base: r1.base,
            size: r1.size.min(c_max),
        },
    );
    // Enough SPIs for every interrupt the board's devices name (the board model gives
    // INTIDs only for specifiers a GIC can deliver, so this is at most 988).
    let spis = board.max_device_intid().saturating_sub(31).max(64);
    let mut bus = Bus::new();
    let mut add =
        |node: &str, base: u64, size: u64, dev: Box<dyn MmioDevice>| -> Result<(), MachineError> {
            bus.insert(node, base, size, dev)
                .map_err(|source| MachineError::Bus {
                    node: node.to_string(),
                    source,
                })
        };
    let gic = match ic.version {
        GicVersion::V3 => {
            let gic = Rc::new(RefCell::new(Gic::with_pes(spis, &mpidrs, false)));
            add(&ic.node, r0.base, r0.size, Box::new(GicdMmio(gic.clone())))?;
            add(&ic.node, r1.base, r1.size, Box::new(GicrMmio(gic.clone())))?;
            gic
        }
        // V2 (Other was refused above).
        GicVersion::V2 | GicVersion::Other => {
            let gic = Rc::new(RefCell::new(Gic::with_pes(spis, &mpidrs, true)));
            add(
                &ic.node,
                r0.base,
                r0.size,
                Box::new(GicdV2Mmio(gic.clone())),
            )?;
            add(&ic.node, r1.base, r1.size, Box::new(GiccMmio(gic.clone())))?;
            gic
        }
    };
    let nr_irqs = gic.borrow().nr_irqs();
    let mut b = Builder {
        board,
        options,
        memory,
        dma,
        bus,
        wiring: Wiring {
            gic: gic.clone(),
            inputs: BTreeMap::new(),
            forward: IrqForward::default(),
        },
        nr_irqs,
        console_out: Some(console),
        console: None,
        displays: Vec::new(),
        gpu: None,
        memory_controllers: Vec::new(),
        ecc_banks: board
            .banks
            .iter()
            .filter(|b| b.ecc.protected())
            .collect::<Vec<_>>()
            .into_iter(),
        unmodelled: Vec::new(),
        notes: Vec::new(),
    };
    let mut without_registers = Vec::new();
    let mut modelled = Vec::new();
    for dev in &b.board.devices {
        if dev.node == ic.node || dev.status != Status::Okay {
            continue;
        }
        let Some(reg) = dev.reg.iter().find(|r| r.size > 0) else {
            without_registers.push(dev.node.clone());
            continue;
        };
        let model = dev
            .compatible
            .iter()
            .find_map(|c| MODELS.iter().find(|(name, _)| name == c).copied());
        match model {
            Some((name, build)) => {
                build(&mut b, dev, reg)?;
                modelled.push((dev.node.clone(), name.to_string()));
            }
            None => b.placeholder(dev)?,
        }
    }
    Ok(Machine {
        memory: b.memory,
        bus: b.bus,
        gic,
        console: b.console,
        displays: b.displays,
        memory_controllers: b.memory_controllers,
        gpu: b.gpu,
        dma: b.dma,
        mpidr: cpu.mpidr,
        mpidrs,
        unmodelled: b.unmodelled,
        modelled,
        without_registers,
        notes: b.notes,
        wires: b.wiring.inputs,
        irq_forward: b.wiring.forward,
    })
}

impl Machine {
    /// From now on every change of a device interrupt wire also goes to `sink`
    /// (`(intid, level)`), starting with the wires asserted now: for a CPU backend with its
    /// own interrupt controller (KVM's in-kernel vGIC).
    pub fn forward_irqs(&self, sink: Box<dyn Fn(u32, bool)>) {
        for (&intid, inputs) in &self.wires {
            if inputs.borrow().iter().any(|&x| x) {
                sink(intid, true);
            }
        }
        *self.irq_forward.0.borrow_mut() = Some(sink);
    }

    /// Injects a memory error at guest-physical `addr`: an ECC bank's controller reports
    /// it; a non-ECC bank's data is silently corrupted (one bit flipped for a correctable
    /// error, two for an uncorrectable one), as real hardware would leave it.
    pub fn inject_ecc(&self, board: &Board, kind: EccError, addr: u64) -> Injected {
        use vm_memory::{Bytes, GuestAddress};
        let Some(bank) = board.banks.iter().find(|b| {
            b.range.contains(&Range {
                base: addr,
                size: 1,
            })
        }) else {
            return Injected::NotRam;
        };
        if bank.ecc.protected() {
            return match self
                .memory_controllers
                .iter()
                .find(|m| m.bank == bank.name && m.range == bank.range)
            {
                Some(m) => {
                    m.dmc.borrow_mut().inject(kind, addr - bank.range.base);
                    Injected::Reported {
                        controller: m.node.clone(),
                        bank: bank.name.clone(),
                    }
                }
                None => Injected::Unreported {
                    bank: bank.name.clone(),
                },
            };
        }
        let flip: u8 = match kind {
            EccError::Correctable => 0x01,
            EccError::Uncorrectable => 0x03,
        };
        if let Ok(b) = self.memory.read_obj::<u8>(GuestAddress(addr)) {
            // The address is inside a mapped bank, so the write cannot fail.
            let _ = self.memory.write_obj(b ^ flip, GuestAddress(addr));
        }
        Injected::Corrupted {
            bank: bank.name.clone(),
        }
    }
}
