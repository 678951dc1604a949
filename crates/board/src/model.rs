//! The board model: what the device tree says the machine is.
//!
//! Everything here is read from the DT; nothing about the board is assumed.

use serde::Serialize;

/// A contiguous guest-physical range `[base, base + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Range {
    pub base: u64,
    pub size: u64,
}

impl Range {
    /// One past the last byte (saturating: ranges up to the top of the address space).
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// Whether the two ranges share at least one byte.
    pub fn overlaps(&self, other: &Range) -> bool {
        self.size > 0 && other.size > 0 && self.base < other.end() && other.base < self.end()
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Range) -> bool {
        other.base >= self.base && other.end() <= self.end()
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.size == 0 {
            write!(f, "0x{:x} (empty)", self.base)
        } else {
            write!(f, "0x{:x}-0x{:x}", self.base, self.end() - 1)
        }
    }
}

/// ECC attributes of a RAM bank (dt-schema memory.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ecc {
    /// `ecc-detection-bits`: errors per word the memory can detect.
    pub detection_bits: Option<u32>,
    /// `ecc-correction-bits`: errors per word the memory can correct.
    pub correction_bits: Option<u32>,
}

impl Ecc {
    /// A bank is ECC-protected when it can detect or correct at least one bit.
    pub fn protected(&self) -> bool {
        self.detection_bits.unwrap_or(0) > 0 || self.correction_bits.unwrap_or(0) > 0
    }
}

/// One RAM bank: one `reg` entry of a `device_type = "memory"` node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryBank {
    /// Node name (`memory@40000000`).
    pub name: String,
    /// Node path.
    pub node: String,
    pub range: Range,
    pub ecc: Ecc,
}

/// How the kernel treats a `/reserved-memory` child (drivers/of/of_reserved_mem.c and the
/// RESERVEDMEM_OF_DECLARE handlers in kernel/dma).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReservedKind {
    /// `shared-dma-pool` + `reusable`: a CMA area (kernel/dma/contiguous.c), which the CMA
    /// dma-buf heap exports as a heap.
    CmaPool,
    /// `shared-dma-pool` without `reusable`: a per-device coherent pool (kernel/dma/coherent.c).
    CoherentPool,
    /// `restricted-dma-pool`: a per-device swiotlb bounce pool (kernel/dma/swiotlb.c).
    RestrictedDmaPool,
    /// `no-map` without a pool compatible: removed from the linear map, never used by Linux.
    Carveout,
    /// Anything else: memblock-reserved, mapped, but not handed to the page allocator.
    Reserved,
}

impl ReservedKind {
    /// Short human description.
    pub fn describe(&self) -> &'static str {
        match self {
            ReservedKind::CmaPool => "CMA pool",
            ReservedKind::CoherentPool => "coherent DMA pool",
            ReservedKind::RestrictedDmaPool => "restricted DMA pool",
            ReservedKind::Carveout => "no-map carveout",
            ReservedKind::Reserved => "reserved",
        }
    }
}

/// Where a reserved region is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "placement")]
pub enum Placement {
    /// A fixed `reg`.
    Fixed { range: Range },
    /// `size` (+ `alignment`, `alloc-ranges`): the kernel chooses the address at boot.
    Dynamic {
        size: u64,
        alignment: Option<u64>,
        alloc_ranges: Vec<Range>,
    },
}

/// A `/reserved-memory` child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservedRegion {
    pub name: String,
    pub node: String,
    pub kind: ReservedKind,
    pub placement: Placement,
    pub compatible: Vec<String>,
    pub reusable: bool,
    pub no_map: bool,
    /// `linux,cma-default`: the default CMA area.
    pub cma_default: bool,
    /// Paths of the devices whose `memory-region` points here.
    pub users: Vec<String>,
    /// The dma-buf heaps Linux 7.3 creates for this region.
    pub heaps: Vec<String>,
}

impl ReservedRegion {
    /// The fixed range, if the region has one.
    pub fn fixed_range(&self) -> Option<Range> {
        match &self.placement {
            Placement::Fixed { range } => Some(*range),
            Placement::Dynamic { .. } => None,
        }
    }
}

/// An interrupt specifier as it reaches its controller (`cells`, after any
/// `interrupt-map`), decoded for the GIC binding when possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interrupt {
    /// Raw cells of the specifier.
    pub cells: Vec<u32>,
    /// `SPI n`, `PPI n` for a 3-cell GIC specifier.
    pub kind: Option<String>,
    /// The GIC INTID (SPI n = 32 + n, PPI n = 16 + n).
    pub intid: Option<u32>,
    /// `edge-rising`, `level-high`, ...
    pub trigger: Option<String>,
    /// The controller the specifier resolved to (after `interrupt-map` translation), `None`
    /// for an empty `interrupts-extended` entry or one no map routes.
    pub controller: Option<String>,
}

/// Node `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Okay,
    Disabled,
    Reserved,
    Fail,
}

/// Any node with a `compatible` that is not memory, reserved memory, a CPU or the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub name: String,
    pub node: String,
    pub compatible: Vec<String>,
    /// `reg` translated to CPU physical addresses through the parents' `ranges`.
    pub reg: Vec<Range>,
    pub interrupts: Vec<Interrupt>,
    /// `interrupt-names`, parallel to `interrupts` (empty when absent).
    pub interrupt_names: Vec<String>,
    pub status: Status,
    /// Paths of the reserved regions named by `memory-region`.
    pub memory_regions: Vec<String>,
    pub dma_coherent: bool,
    /// Every property of the node as written (name, raw value), for device models that
    /// read more than the fields above (`reg-shift`, `arm,primecell-periphid`, ...).
    #[serde(skip)]
    pub properties: Vec<(String, Vec<u8>)>,
}

impl Device {
    /// A one-cell property.
    pub fn u32_prop(&self, name: &str) -> Option<u32> {
        let (_, v) = self.properties.iter().find(|(n, _)| n == name)?;
        let b: [u8; 4] = v.as_slice().try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// Whether the node has the property.
    pub fn has_prop(&self, name: &str) -> bool {
        self.properties.iter().any(|(n, _)| n == name)
    }
}

/// A CPU node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpu {
    pub node: String,
    /// `reg`: the MPIDR affinity value.
    pub mpidr: u64,
    pub compatible: Vec<String>,
    pub enable_method: Option<String>,
    /// `cpu-release-addr` (spin-table): where the kernel writes the secondary's entry point.
    pub release_addr: Option<u64>,
    pub status: Status,
}

/// The GIC version the interrupt controller node asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GicVersion {
    V2,
    V3,
    /// Not a GIC the emulator models.
    Other,
}

/// The root interrupt controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterruptController {
    pub node: String,
    pub compatible: Vec<String>,
    pub version: GicVersion,
    pub reg: Vec<Range>,
    pub interrupt_cells: u32,
}

/// The architected timer (`arm,armv8-timer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timer {
    pub node: String,
    /// Secure phys, non-secure phys, virtual, hypervisor PPIs, in DT order.
    pub interrupts: Vec<Interrupt>,
    pub frequency: Option<u32>,
}

/// The PSCI node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Psci {
    pub node: String,
    pub compatible: Vec<String>,
    /// `hvc` or `smc`.
    pub method: String,
}

/// What `/chosen` holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Chosen {
    pub bootargs: Option<String>,
    pub stdout_path: Option<String>,
    /// The node `stdout-path` names, its alias resolved through `/aliases` and its
    /// options (`:115200n8`) dropped, as of_alias_scan resolves `of_stdout`.
    pub stdout_node: Option<String>,
    pub initrd: Option<Range>,
}

/// A dma-buf heap the kernel will create, and where its memory comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heap {
    /// The name under /dev/dma_heap.
    pub name: String,
    /// The reserved region backing it (node path), `None` for the system heap and for a
    /// default CMA area the kernel sizes itself.
    pub region: Option<String>,
    /// Bytes of the area behind it (`None` for the system heap).
    pub size: Option<u64>,
    /// One line on where the buffers come from.
    pub source: String,
}

/// A problem the kernel tolerates, worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub node: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.node, self.message)
    }
}

/// The machine the device tree describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Board {
    pub model: Option<String>,
    pub compatible: Vec<String>,
    pub banks: Vec<MemoryBank>,
    pub reserved: Vec<ReservedRegion>,
    pub cpus: Vec<Cpu>,
    pub interrupt_controller: Option<InterruptController>,
    pub timer: Option<Timer>,
    pub psci: Option<Psci>,
    pub devices: Vec<Device>,
    pub chosen: Chosen,
    /// Every dma-buf heap Linux 7.3 creates on this board, `system` first.
    pub heaps: Vec<Heap>,
    pub warnings: Vec<Warning>,
}

/// Index in the architected timer's `interrupts` of the non-secure physical timer's PPI.
pub const TIMER_PHYS: usize = 1;
/// Index in the architected timer's `interrupts` of the virtual timer's PPI.
pub const TIMER_VIRT: usize = 2;

impl Board {
    /// The INTID of the architected timer's interrupt `index` ([`TIMER_PHYS`],
    /// [`TIMER_VIRT`], ...), if the DT names one a GIC can deliver.
    pub fn timer_intid(&self, index: usize) -> Option<u32> {
        self.timer
            .as_ref()
            .and_then(|t| t.interrupts.get(index))
            .and_then(|i| i.intid)
    }

    /// The highest GIC INTID any device's interrupts name (0 if none).
    pub fn max_device_intid(&self) -> u32 {
        self.devices
            .iter()
            .flat_map(|d| d.interrupts.iter())
            .filter_map(|i| i.intid)
            .max()
            .unwrap_or(0)
    }

    /// The bank that holds `range` entirely, if any.
    pub fn bank_containing(&self, range: &Range) -> Option<&MemoryBank> {
        self.banks.iter().find(|b| b.range.contains(range))
    }

    /// A device by node path.
    pub fn device(&self, path: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.node == path)
    }
}
