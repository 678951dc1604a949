//! The machine a board describes: guest RAM, the MMIO bus and the device models, each at
//! the `reg` and interrupt its DT node gives. Nothing about addresses is decided here.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;

use board::{Board, Device, GicVersion, Range, Status};
use devices::bus::Mirrored;
use devices::dma::{Dma, DmaContext};
use devices::dmc520::{Dmc520, EccError, Geometry};
use devices::gic::v2::{GiccMmio, GicdV2Mmio};
use devices::gic::{Gic, GicdMmio, GicrMmio};
use devices::pl011::Pl011;
use devices::pl111::Pl111;
use devices::placeholder::{AccessCount, Shared, Unmodelled, VirtioMmioEmpty};
use devices::virtio::gpu::Gpu;
use devices::virtio::mmio::VirtioMmio;
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
    /// The console UART (the PL011 /chosen/stdout-path names by path, else the first), for
    /// host input.
    pub console: Option<Rc<RefCell<Pl011>>>,
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
    /// Devices with a placeholder on the bus.
    pub unmodelled: Vec<UnmodelledDevice>,
    /// Devices with a compatible but no registers (clocks, panels, PSCI, the timer).
    pub without_registers: Vec<String>,
}

fn spi(dev: &Device) -> Result<u32, MachineError> {
    dev.interrupts
        .first()
        .and_then(|i| i.intid)
        .ok_or_else(|| node_err(&dev.node, "needs an `interrupts` entry the GIC can deliver"))
}

/// The GIC's interrupt inputs as the devices drive them. Devices whose DT interrupts name
/// the same INTID share one wire, which is asserted while any of them drives it (a
/// wired-OR, as on a board): one device letting go must not drop another's interrupt.
#[derive(Debug)]
struct Wiring {
    gic: Rc<RefCell<Gic>>,
    inputs: BTreeMap<u32, Rc<RefCell<Vec<bool>>>>,
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
    }
}

/// The PL011 that carries the console: the one `/chosen/stdout-path` names by path, else
/// the first in the DT (an alias such as `serial0` names the first on the boards heapsoc
/// ships; the Board keeps no `/aliases`).
fn console_uart_node(board: &Board) -> Option<String> {
    let uarts = || {
        board.devices.iter().filter(|d| {
            d.status == Status::Okay
                && !d.reg.is_empty()
                && d.compatible.iter().any(|c| c == "arm,pl011")
        })
    };
    let named = board
        .chosen
        .stdout_path
        .as_deref()
        .and_then(|s| s.split(':').next())
        .filter(|p| p.starts_with('/'))
        .and_then(|p| uarts().find(|d| d.node == p));
    named.or_else(|| uarts().next()).map(|d| d.node.clone())
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

/// Builds the machine `board` describes; the console UART writes to `console`; device
/// clocks run at `counter_hz` (the guest's generic-timer frequency).
pub fn build(
    board: &Board,
    console: Box<dyn Write>,
    counter_hz: u64,
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
    let (Some(r0), Some(r1)) = (ic.reg.first(), ic.reg.get(1)) else {
        return Err(node_err(
            &ic.node,
            "a GIC needs two reg entries (GICv3: GICD, GICR; GICv2: GICD, GICC)",
        ));
    };
    let max_spi = board
        .devices
        .iter()
        .flat_map(|d| d.interrupts.iter())
        .filter_map(|i| i.intid)
        .max()
        .unwrap_or(0);
    let spis = max_spi.saturating_sub(31).max(64);
    let mut bus = Bus::new();
    let add =
        |bus: &mut Bus, node: &str, base: u64, size: u64, dev: Box<dyn devices::MmioDevice>| {
            bus.insert(node, base, size, dev)
                .map_err(|source| MachineError::Bus {
                    node: node.to_string(),
                    source,
                })
        };
    let gic = match ic.version {
        GicVersion::V3 => {
            let gic = Rc::new(RefCell::new(Gic::new(spis, cpu.mpidr)));
            add(&mut bus, &ic.node, r0.base, r0.size, Box::new(GicdMmio(gic.clone())))?;
            add(&mut bus, &ic.node, r1.base, r1.size, Box::new(GicrMmio(gic.clone())))?;
            gic
        }
        GicVersion::V2 => {
            let gic = Rc::new(RefCell::new(Gic::new_v2(spis)));
            add(&mut bus, &ic.node, r0.base, r0.size, Box::new(GicdV2Mmio(gic.clone())))?;
            add(&mut bus, &ic.node, r1.base, r1.size, Box::new(GiccMmio(gic.clone())))?;
            gic
        }
        GicVersion::Other => {
            return Err(node_err(
                &ic.node,
                format!(
                    "{} is not modelled; heapsoc models arm,gic-v3 and GICv2 (arm,gic-400, arm,cortex-a15-gic, ...)",
                    ic.compatible.first().map(String::as_str).unwrap_or("this interrupt controller")
                ),
            ))
        }
    };

    let mut wiring = Wiring {
        gic: gic.clone(),
        inputs: BTreeMap::new(),
    };
    let mut console_uart = None;
    let mut displays = Vec::new();
    let mut gpu = None;
    let mut memory_controllers = Vec::new();
    // Each DMC-520 node controls the next ECC-protected bank, in address order.
    let mut ecc_banks = board.banks.iter().filter(|b| b.ecc.protected());
    let mut console_out = Some(console);
    let console_node = console_uart_node(board);
    let mut unmodelled = Vec::new();
    let mut without_registers = Vec::new();
    for dev in &board.devices {
        if dev.node == ic.node || dev.status != Status::Okay {
            continue;
        }
        let Some(reg) = dev.reg.first() else {
            without_registers.push(dev.node.clone());
            continue;
        };
        let is = |c: &str| dev.compatible.iter().any(|x| x == c);
        if is("arm,pl011") {
            // Linux binds amba-pl011 to every PL011, so each is modelled; the console's
            // output goes to the host, the others' nowhere.
            let irq = wiring.line(spi(dev)?);
            let is_console = console_node.as_deref() == Some(dev.node.as_str());
            let out = if is_console { console_out.take() } else { None }
                .unwrap_or_else(|| Box::new(std::io::sink()));
            let uart = Rc::new(RefCell::new(Pl011::new(out, irq)));
            let window = primecell(dev, reg, Shared(uart.clone()))?;
            add(&mut bus, &dev.node, reg.base, reg.size, window)?;
            if is_console {
                console_uart = Some(uart);
            }
        } else if is("arm,pl111") {
            let irq = wiring.line(spi(dev)?);
            let pl111 = Rc::new(RefCell::new(Pl111::new(
                Dma::new(dma.clone(), &dev.node),
                irq,
                counter_hz,
            )));
            let window = primecell(dev, reg, Shared(pl111.clone()))?;
            add(&mut bus, &dev.node, reg.base, reg.size, window)?;
            displays.push(pl111);
        } else if is("arm,dmc-520") {
            let bank = ecc_banks.next().ok_or_else(|| {
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
            let mut line = |name: &str| -> Option<Box<dyn IrqLine>> {
                let i = dev.interrupt_names.iter().position(|n| n == name)?;
                let intid = dev.interrupts.get(i)?.intid?;
                Some(wiring.line(intid))
            };
            let (errc, errd) = (line("dram_ecc_errc"), line("dram_ecc_errd"));
            let dmc = Rc::new(RefCell::new(Dmc520::new(geometry, errc, errd)));
            add(
                &mut bus,
                &dev.node,
                reg.base,
                reg.size,
                Box::new(Shared(dmc.clone())),
            )?;
            memory_controllers.push(MemoryController {
                node: dev.node.clone(),
                bank: bank.name.clone(),
                range: bank.range,
                dmc,
            });
        } else if is("virtio,mmio") && gpu.is_none() {
            let irq = wiring.line(spi(dev)?);
            let transport = Rc::new(RefCell::new(VirtioMmio::new(
                Gpu::new(1024, 768),
                Dma::new(dma.clone(), &dev.node),
                memory.clone(),
                irq,
            )));
            add(
                &mut bus,
                &dev.node,
                reg.base,
                reg.size,
                Box::new(Shared(transport.clone())),
            )?;
            gpu = Some(transport);
        } else if is("virtio,mmio") {
            add(
                &mut bus,
                &dev.node,
                reg.base,
                reg.size,
                Box::new(VirtioMmioEmpty),
            )?;
        } else {
            let accesses = AccessCount::default();
            for r in &dev.reg {
                let placeholder = Unmodelled {
                    count: accesses.clone(),
                };
                add(&mut bus, &dev.node, r.base, r.size, Box::new(placeholder))?;
            }
            unmodelled.push(UnmodelledDevice {
                node: dev.node.clone(),
                compatible: dev.compatible.first().cloned().unwrap_or_default(),
                accesses,
            });
        }
    }
    Ok(Machine {
        memory,
        bus,
        gic,
        console: console_uart,
        displays,
        memory_controllers,
        gpu,
        dma,
        mpidr: cpu.mpidr,
        unmodelled,
        without_registers,
    })
}

impl Machine {
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
