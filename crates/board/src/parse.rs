//! From the device tree to the [`Board`]: the nodes the machine is built from, classified
//! the way Linux 7.3 reads them.

use std::collections::HashMap;

use crate::cells::{self, CellSizes};
use crate::error::{BoardError, Result};
use crate::irq::InterruptTree;
use crate::model::*;
use crate::tree::{Node, Tree};
use crate::validate;

/// Nodes that describe the machine's configuration rather than a device.
const NOT_DEVICES: &[&str] = &[
    "/chosen",
    "/aliases",
    "/cpus",
    "/reserved-memory",
    "/memory",
];

/// CMA regions must be aligned to the pageblock size (kernel/dma/contiguous.c
/// rmem_cma_setup: CMA_MIN_ALIGNMENT_BYTES). With 4 KiB pages and no hugetlbfs, as in the
/// heapsoc guest, pageblock_order is MAX_PAGE_ORDER (10): 4 MiB.
pub const CMA_MIN_ALIGNMENT: u64 = 4 << 20;
/// The highest INTID a GIC delivers as an SPI (1020-1023 are special, LPIs and extended
/// SPIs are not wired by `interrupts`).
pub const MAX_SPI_INTID: u32 = 1019;
/// CONFIG_CMA_AREAS in the heapsoc guest.
pub const CMA_AREAS: usize = 16;
/// CONFIG_CMA_SIZE_MBYTES in the heapsoc guest (guest-images/kernel.fragment): the default
/// CMA area when neither the DT (`linux,cma-default`) nor `cma=` gives one. The kselftest
/// holds 32 buffers of 1 MiB at once from each CMA heap.
pub const GUEST_CMA_SIZE: u64 = 64 << 20;

struct Ctx<'t> {
    tree: &'t Tree,
    phandles: HashMap<u32, usize>,
    warnings: Vec<Warning>,
}

impl<'t> Ctx<'t> {
    fn warn(&mut self, node: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            node: node.to_string(),
            message: message.into(),
        });
    }

    /// `reg` of `node` in the cells of its parent, warning once when the parent chain
    /// sets no cell sizes at all.
    fn reg(&mut self, node: &Node) -> Result<Option<Vec<Range>>> {
        let Some(parent) = self.tree.parent(node) else {
            return Ok(None);
        };
        let (cells, found) = cells::cells_for_children_of(self.tree, parent)?;
        if !found && node.has("reg") {
            self.warn(
                &node.path,
                "no #address-cells/#size-cells on any parent: Linux assumes 1 and 1",
            );
        }
        cells::ranges_prop(node, "reg", cells)
    }

    fn status(&self, node: &Node) -> Status {
        match node.string("status").as_deref() {
            None | Some("okay") | Some("ok") => Status::Okay,
            Some("reserved") => Status::Reserved,
            Some(s) if s.starts_with("fail") => Status::Fail,
            Some(_) => Status::Disabled,
        }
    }

    fn by_phandle(&self, node: &Node, property: &str, ph: u32) -> Result<&'t Node> {
        let tree = self.tree;
        self.phandles
            .get(&ph)
            .map(|&i| &tree.nodes[i])
            .ok_or_else(|| {
                BoardError::prop(
                    &node.path,
                    property,
                    format!("phandle 0x{ph:x} points to no node"),
                )
            })
    }
}

/// Builds and validates the board from a parsed tree.
pub fn board(tree: &Tree) -> Result<Board> {
    let mut cx = Ctx {
        tree,
        phandles: tree.phandles(),
        warnings: Vec::new(),
    };
    let root = tree.root();
    let banks = banks(&mut cx)?;
    let mut reserved = reserved(&mut cx)?;
    let devices = devices(&mut cx, &mut reserved)?;
    let cpus = cpus(&mut cx)?;
    let interrupt_controller = interrupt_controller(&mut cx)?;
    let timer = timer(&mut cx)?;
    let psci = psci(&mut cx);
    let chosen = chosen(&cx)?;
    validate::memory_map(&banks, &reserved, &mut cx.warnings)?;
    let heaps = crate::heaps::predict(&banks, &reserved, chosen.bootargs.as_deref(), &[]);
    // Each region lists the heaps it backs, as predicted.
    for r in &mut reserved {
        r.heaps = heaps
            .iter()
            .filter(|h| h.region.as_deref() == Some(r.node.as_str()))
            .map(|h| h.name.clone())
            .collect();
    }
    Ok(Board {
        model: root.string("model"),
        compatible: root.strings("compatible"),
        banks,
        reserved,
        cpus,
        interrupt_controller,
        timer,
        psci,
        devices,
        chosen,
        heaps,
        warnings: cx.warnings,
    })
}

fn banks(cx: &mut Ctx<'_>) -> Result<Vec<MemoryBank>> {
    let tree = cx.tree;
    let mut banks = Vec::new();
    for node in tree.children(tree.root()) {
        let is_memory = node.string("device_type").as_deref() == Some("memory");
        if !is_memory {
            if node.base_name() == "memory" {
                cx.warn(
                    &node.path,
                    "no device_type = \"memory\": Linux ignores this node",
                );
            }
            continue;
        }
        if cx.status(node) != Status::Okay {
            cx.warn(&node.path, "memory node is not okay: Linux ignores it");
            continue;
        }
        let ecc = Ecc {
            detection_bits: node.u32("ecc-detection-bits")?,
            correction_bits: node.u32("ecc-correction-bits")?,
        };
        if let (Some(d), Some(c)) = (ecc.detection_bits, ecc.correction_bits) {
            if c > d {
                cx.warn(
                    &node.path,
                    format!("ecc-correction-bits ({c}) exceeds ecc-detection-bits ({d})"),
                );
            }
        }
        let Some(regs) = cx.reg(node)? else {
            return Err(BoardError::prop(
                &node.path,
                "reg",
                "memory node without reg",
            ));
        };
        for range in regs {
            if range.size == 0 {
                cx.warn(&node.path, "zero-sized reg entry: Linux skips it");
                continue;
            }
            if range.base % 4096 != 0 || range.size % 4096 != 0 {
                return Err(BoardError::prop(
                    &node.path,
                    "reg",
                    format!("bank {range} is not aligned to 4 KiB"),
                ));
            }
            banks.push(MemoryBank {
                name: node.name.clone(),
                node: node.path.clone(),
                range,
                ecc,
            });
        }
    }
    if banks.is_empty() {
        return Err(BoardError::node(
            "/",
            "has no RAM: no /memory node with device_type = \"memory\" and a nonzero reg (the bootloader fills it in on real boards): give it with --memory SIZE, or --memory BASE:SIZE for a tree without /memory",
        ));
    }
    banks.sort_by_key(|b| b.range.base);
    Ok(merge_overlapping(cx, banks))
}

/// Overlapping banks become one, as memblock merges them; their ECC attributes must agree
/// for the merged bank to keep them (else it counts as non-ECC, with a warning).
fn merge_overlapping(cx: &mut Ctx<'_>, banks: Vec<MemoryBank>) -> Vec<MemoryBank> {
    let mut out: Vec<MemoryBank> = Vec::with_capacity(banks.len());
    for b in banks {
        match out.last_mut() {
            Some(last) if last.range.overlaps(&b.range) => {
                let end = last.range.end().max(b.range.end());
                let mut message = format!(
                    "reg {} overlaps {} [{}]: Linux merges them into one range",
                    b.range, last.node, last.range
                );
                if last.ecc != b.ecc {
                    message.push_str(
                        "; their ECC attributes differ, so the merged range counts as non-ECC",
                    );
                    last.ecc = Ecc::default();
                }
                cx.warn(&b.node, message);
                last.range.size = end - last.range.base;
            }
            _ => out.push(b),
        }
    }
    out
}

fn reserved(cx: &mut Ctx<'_>) -> Result<Vec<ReservedRegion>> {
    let tree = cx.tree;
    let Some(rm) = tree.find("/reserved-memory") else {
        return Ok(Vec::new());
    };
    // drivers/of/of_reserved_mem.c: the node must use the root's cell sizes and have
    // `ranges`, or Linux ignores every region in it.
    let (root_cells, _) = cells::cells_for_children_of(tree, tree.root())?;
    let (cells, _) = cells::cells_for_children_of(tree, rm)?;
    if cells != root_cells {
        return Err(BoardError::node(
            &rm.path,
            format!(
                "#address-cells/#size-cells ({}/{}) differ from the root's ({}/{}): Linux would ignore every reserved region",
                cells.address, cells.size, root_cells.address, root_cells.size
            ),
        ));
    }
    if !rm.has("ranges") {
        return Err(BoardError::prop(
            &rm.path,
            "ranges",
            "missing: Linux would ignore every reserved region",
        ));
    }
    let mut out = Vec::new();
    for node in tree.children(rm) {
        if cx.status(node) != Status::Okay {
            cx.warn(&node.path, "not okay: Linux ignores this reserved region");
            continue;
        }
        if let Some(region) = reserved_region(cx, node, cells)? {
            out.push(region);
        }
    }
    let defaults: Vec<&str> = out
        .iter()
        .filter(|r| r.cma_default && r.kind == ReservedKind::CmaPool)
        .map(|r| r.node.as_str())
        .collect();
    if defaults.len() > 1 {
        let msg = format!(
            "{} regions carry linux,cma-default ({}): rmem_cma_setup overwrites the default area each time, so the last is Linux's default, the others plain CMA heaps",
            defaults.len(),
            defaults.join(", ")
        );
        cx.warn(&rm.path, msg);
    }
    let cma = out
        .iter()
        .filter(|r| r.kind == ReservedKind::CmaPool)
        .count();
    if cma > CMA_AREAS {
        cx.warn(
            &rm.path,
            format!(
                "{cma} CMA regions, more than CONFIG_CMA_AREAS ({CMA_AREAS}) in the heapsoc guest"
            ),
        );
    }
    Ok(out)
}

fn reserved_region(
    cx: &mut Ctx<'_>,
    node: &Node,
    cells: CellSizes,
) -> Result<Option<ReservedRegion>> {
    let compatible = node.strings("compatible");
    let reusable = node.has("reusable");
    let no_map = node.has("no-map");
    let cma_default = node.has("linux,cma-default");
    let placement = match cells::ranges_prop(node, "reg", cells)? {
        Some(regs) => {
            if regs.len() > 1 {
                cx.warn(
                    &node.path,
                    "several reg entries: Linux reserves all but only the first forms the region",
                );
            }
            if node.has("size") {
                cx.warn(&node.path, "both reg and size: Linux uses reg");
            }
            Placement::Fixed { range: regs[0] }
        }
        None => {
            let Some(size) = cells::number_prop(node, "size", cells.size)? else {
                cx.warn(
                    &node.path,
                    "neither reg nor size: Linux ignores this region",
                );
                return Ok(None);
            };
            let alignment = cells::number_prop(node, "alignment", cells.size)?;
            if let Some(a) = alignment {
                if a != 0 && !a.is_power_of_two() {
                    return Err(BoardError::prop(
                        &node.path,
                        "alignment",
                        format!("0x{a:x} is not a power of two"),
                    ));
                }
            }
            let alloc_ranges = cells::ranges_prop(node, "alloc-ranges", cells)?.unwrap_or_default();
            Placement::Dynamic {
                size,
                alignment,
                alloc_ranges,
            }
        }
    };
    let is = |c: &str| compatible.iter().any(|x| x == c);
    let kind = if is("shared-dma-pool") {
        match (reusable, no_map) {
            (true, true) => {
                cx.warn(
                    &node.path,
                    "shared-dma-pool with both reusable and no-map: Linux rejects it as CMA and as a coherent pool",
                );
                ReservedKind::Carveout
            }
            (true, false) => ReservedKind::CmaPool,
            (false, _) => ReservedKind::CoherentPool,
        }
    } else if is("restricted-dma-pool") {
        if reusable || no_map || cma_default || node.has("linux,dma-default") {
            cx.warn(
                &node.path,
                "restricted-dma-pool must not be reusable, no-map or a default pool: Linux rejects it",
            );
        }
        ReservedKind::RestrictedDmaPool
    } else if no_map {
        ReservedKind::Carveout
    } else {
        ReservedKind::Reserved
    };
    if cma_default && kind != ReservedKind::CmaPool {
        cx.warn(
            &node.path,
            "linux,cma-default on a region that is not a CMA pool: ignored",
        );
    }
    let mut heaps = Vec::new();
    if kind == ReservedKind::CmaPool {
        let aligned = match &placement {
            Placement::Fixed { range } => (range.base | range.size) % CMA_MIN_ALIGNMENT == 0,
            // The kernel aligns a dynamic CMA region itself; only its size must be whole.
            Placement::Dynamic { size, .. } => size % CMA_MIN_ALIGNMENT == 0,
        };
        if aligned {
            heaps.push(node.name.clone());
        } else {
            cx.warn(
                &node.path,
                format!(
                    "CMA region not aligned to {} MiB (the guest's pageblock size): Linux rejects it, no heap",
                    CMA_MIN_ALIGNMENT >> 20
                ),
            );
        }
    }
    Ok(Some(ReservedRegion {
        name: node.name.clone(),
        node: node.path.clone(),
        kind,
        placement,
        compatible,
        reusable,
        no_map,
        cma_default: cma_default && kind == ReservedKind::CmaPool,
        users: Vec::new(),
        heaps,
    }))
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('@'))
}

fn devices(cx: &mut Ctx<'_>, reserved: &mut [ReservedRegion]) -> Result<Vec<Device>> {
    let tree = cx.tree;
    let mut out = Vec::new();
    for (index, node) in tree.nodes.iter().enumerate().skip(1) {
        if !node.has("compatible")
            || NOT_DEVICES.iter().any(|p| under(&node.path, p))
            || node.string("device_type").as_deref() == Some("memory")
        {
            continue;
        }
        let reg = match mmio_reg(cx, node) {
            Ok(r) => r,
            Err(e) => {
                // Linux fails this device's resources only.
                cx.warn(&node.path, format!("{e}: the device gets no registers"));
                Vec::new()
            }
        };
        let interrupts = match interrupts(cx, index) {
            Ok(i) => i,
            Err(e) => {
                cx.warn(&node.path, format!("{e}: the device gets no interrupts"));
                Vec::new()
            }
        };
        for irq in interrupts
            .iter()
            .filter(|i| i.kind.is_some() && i.intid.is_none())
        {
            cx.warn(
                &node.path,
                format!(
                    "interrupts: {} is no interrupt a GIC can deliver (SPI 0-987, PPI 0-15): the driver gets no interrupt",
                    irq.kind.as_deref().unwrap_or("?")
                ),
            );
        }
        let mut memory_regions = Vec::new();
        if let Some(phs) = node.cells("memory-region")? {
            for ph in phs {
                let target = cx.by_phandle(node, "memory-region", ph)?;
                let Some(region) = reserved.iter_mut().find(|r| r.node == target.path) else {
                    if under(&target.path, "/reserved-memory") {
                        // A disabled or ignored region: of_reserved_mem_device_init fails
                        // and the driver goes on without it.
                        cx.warn(
                            &node.path,
                            format!(
                                "memory-region: {} is disabled or not a usable region: Linux gives the device no pool",
                                target.path
                            ),
                        );
                        continue;
                    }
                    return Err(BoardError::prop(
                        &node.path,
                        "memory-region",
                        format!(
                            "points to {}, which is not a /reserved-memory region",
                            target.path
                        ),
                    ));
                };
                region.users.push(node.path.clone());
                memory_regions.push(region.node.clone());
            }
        }
        let names = node.strings("interrupt-names");
        if !names.is_empty() && names.len() != interrupts.len() {
            cx.warn(
                &node.path,
                format!(
                    "{} interrupt-names for {} interrupts",
                    names.len(),
                    interrupts.len()
                ),
            );
        }
        out.push(Device {
            name: node.name.clone(),
            node: node.path.clone(),
            compatible: node.strings("compatible"),
            reg,
            interrupts,
            interrupt_names: names,
            status: cx.status(node),
            memory_regions,
            dma_coherent: node.has("dma-coherent"),
            properties: node
                .properties
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
        });
    }
    Ok(out)
}

/// Whether the children of `bus` are memory-mapped: Linux translates a `reg` to a CPU
/// address only through buses with `ranges` (of_translate_address), and PCI children's
/// `reg` is configuration space.
fn maps_children(bus: &Node) -> bool {
    let pci = matches!(
        bus.string("device_type").as_deref(),
        Some("pci") | Some("pciex")
    );
    !pci && (bus.parent.is_none() || bus.has("ranges"))
}

/// The CPU-physical `reg` ranges of a device; empty when it sits on a bus that is not
/// memory-mapped (I2C, SPI, I3C, PCI, a bus without `ranges`).
fn mmio_reg(cx: &mut Ctx<'_>, node: &Node) -> Result<Vec<Range>> {
    let tree = cx.tree;
    let Some(bus) = tree.parent(node) else {
        return Ok(Vec::new());
    };
    let mut cur = Some(bus);
    while let Some(b) = cur {
        if !maps_children(b) {
            return Ok(Vec::new());
        }
        cur = tree.parent(b);
    }
    let mut reg = Vec::new();
    if let Some(regs) = cx.reg(node)? {
        for r in regs {
            match cells::translate(tree, bus, r.base)? {
                Some(base) => reg.push(Range { base, size: r.size }),
                None => break,
            }
        }
    }
    Ok(reg)
}

/// The interrupts of node `index`, each resolved to its controller as Linux does (see
/// [`crate::irq`]) and decoded for the GIC binding when that controller is the GIC or a
/// controller that passes GIC specifiers through.
fn interrupts(cx: &Ctx<'_>, index: usize) -> Result<Vec<Interrupt>> {
    let it = InterruptTree::new(cx.tree, &cx.phandles);
    Ok(it
        .interrupts_of(index)?
        .into_iter()
        .map(|r| match r {
            None => Interrupt {
                cells: Vec::new(),
                kind: None,
                intid: None,
                trigger: None,
                controller: None,
            },
            Some(res) => decode_interrupt(cx, &it, &res),
        })
        .collect())
}

fn interrupt_cells(ctrl: &Node) -> Result<u32> {
    ctrl.u32("#interrupt-cells")?.ok_or_else(|| {
        BoardError::prop(
            &ctrl.path,
            "#interrupt-cells",
            "missing on an interrupt parent",
        )
    })
}

/// The GIC compatibles Linux's irq-gic and irq-gic-v3 drivers bind (IRQCHIP_DECLARE).
pub fn gic_version(compatible: &[String]) -> GicVersion {
    const V2: &[&str] = &[
        "arm,arm11mp-gic",
        "arm,cortex-a15-gic",
        "arm,cortex-a7-gic",
        "arm,cortex-a9-gic",
        "arm,eb11mp-gic",
        "arm,gic-400",
        "arm,pl390",
        "arm,tc11mp-gic",
        "brcm,brahma-b15-gic",
        "nvidia,tegra210-agic",
        "qcom,msm-8660-qgic",
        "qcom,msm-qgic2",
    ];
    if compatible.iter().any(|c| c == "arm,gic-v3") {
        GicVersion::V3
    } else if compatible.iter().any(|c| V2.contains(&c.as_str())) {
        GicVersion::V2
    } else {
        GicVersion::Other
    }
}

/// Chained controllers whose specifiers are GIC specifiers, passed to the GIC with the same
/// SPI numbers (they only invert polarity or add wake-up logic): MediaTek's sysirq
/// (irq-mtk-sysirq.c), the i.MX general power controller (irq-imx-gpcv2.c, gpc.c).
const GIC_PASS_THROUGH: &[&str] = &[
    "mediatek,mt6577-sysirq",
    "fsl,imx8mq-gpc",
    "fsl,imx7d-gpc",
    "fsl,imx6q-gpc",
];

/// Decodes a resolved specifier; the GIC binding's 3 cells (type: 0 SPI, 1 PPI; number;
/// flags) when the controller is a GIC or passes GIC specifiers through to one.
fn decode_interrupt(cx: &Ctx<'_>, it: &InterruptTree<'_>, res: &crate::irq::Resolved) -> Interrupt {
    let ctrl = &cx.tree.nodes[res.controller];
    let cells = &res.cells;
    let mut irq = Interrupt {
        cells: cells.clone(),
        kind: None,
        intid: None,
        trigger: None,
        controller: Some(ctrl.path.clone()),
    };
    let compatible = ctrl.strings("compatible");
    let gic = gic_version(&compatible) != GicVersion::Other
        || (compatible
            .iter()
            .any(|c| GIC_PASS_THROUGH.contains(&c.as_str()))
            && it
                .find_parent(res.controller)
                .ok()
                .flatten()
                .is_some_and(|p| {
                    gic_version(&cx.tree.nodes[p].strings("compatible")) != GicVersion::Other
                }));
    if gic && cells.len() >= 3 {
        // The GIC binding: SPI n is INTID 32 + n (SPIs end at INTID 1019), PPI n is
        // INTID 16 + n (16 PPIs). Anything else is no INTID a GIC can deliver.
        let (kind, intid) = match cells[0] {
            0 => (
                "SPI",
                cells[1].checked_add(32).filter(|&i| i <= MAX_SPI_INTID),
            ),
            1 => ("PPI", cells[1].checked_add(16).filter(|&i| i < 32)),
            _ => return irq,
        };
        irq.kind = Some(format!("{kind} {}", cells[1]));
        irq.intid = intid;
        irq.trigger = Some(
            match cells[2] & 0xf {
                1 => "edge-rising",
                2 => "edge-falling",
                4 => "level-high",
                8 => "level-low",
                _ => "unspecified",
            }
            .to_string(),
        );
    }
    irq
}

fn cpus(cx: &mut Ctx<'_>) -> Result<Vec<Cpu>> {
    let tree = cx.tree;
    let Some(cpus) = tree.find("/cpus") else {
        return Err(BoardError::node("/cpus", "missing: the board has no CPU"));
    };
    let mut out = Vec::new();
    for node in tree.children(cpus) {
        if node.string("device_type").as_deref() != Some("cpu") {
            continue;
        }
        let Some(regs) = node.cells("reg")? else {
            return Err(BoardError::prop(
                &node.path,
                "reg",
                "CPU without reg (its MPIDR)",
            ));
        };
        let mpidr = match regs.as_slice() {
            [one] => u64::from(*one),
            [hi, lo] => (u64::from(*hi) << 32) | u64::from(*lo),
            _ => {
                return Err(BoardError::prop(
                    &node.path,
                    "reg",
                    format!("{} cells; a CPU reg is one or two cells", regs.len()),
                ))
            }
        };
        let release_addr = match node.cells("cpu-release-addr")?.as_deref() {
            Some([v]) => Some(u64::from(*v)),
            Some([hi, lo]) => Some((u64::from(*hi) << 32) | u64::from(*lo)),
            _ => None,
        };
        out.push(Cpu {
            node: node.path.clone(),
            mpidr,
            compatible: node.strings("compatible"),
            enable_method: node.string("enable-method"),
            release_addr,
            status: cx.status(node),
        });
    }
    if out.is_empty() {
        return Err(BoardError::node(
            &cpus.path,
            "no child with device_type = \"cpu\"",
        ));
    }
    Ok(out)
}

/// The root interrupt controller: an enabled `interrupt-controller` whose own interrupt
/// parent is none or itself (Linux's of_irq_init roots), a GIC preferred; controllers
/// chained below it (sysirq, GPC, PCIe INTx, PMIC) are ordinary devices.
fn interrupt_controller(cx: &mut Ctx<'_>) -> Result<Option<InterruptController>> {
    let tree = cx.tree;
    let it = InterruptTree::new(tree, &cx.phandles);
    let roots: Vec<usize> = tree
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            n.has("interrupt-controller")
                && cx.status(n) == Status::Okay
                && it.find_parent(*i).ok().flatten().is_none_or(|p| p == *i)
        })
        .map(|(i, _)| i)
        .collect();
    let chosen = roots
        .iter()
        .copied()
        .find(|&i| gic_version(&tree.nodes[i].strings("compatible")) != GicVersion::Other)
        .or_else(|| roots.first().copied());
    let Some(index) = chosen else {
        cx.warn("/", "no interrupt controller");
        return Ok(None);
    };
    let node = &tree.nodes[index];
    let compatible = node.strings("compatible");
    let version = gic_version(&compatible);
    if version == GicVersion::Other {
        cx.warn(
            &node.path,
            "the root interrupt controller is not a GICv2 or GICv3",
        );
    }
    let reg = mmio_reg(cx, node)?;
    Ok(Some(InterruptController {
        node: node.path.clone(),
        compatible,
        version,
        reg,
        interrupt_cells: interrupt_cells(node)?,
    }))
}

fn timer(cx: &mut Ctx<'_>) -> Result<Option<Timer>> {
    let tree = cx.tree;
    let Some((index, node)) = tree.nodes.iter().enumerate().find(|(_, n)| {
        cx.status(n) == Status::Okay
            && n.strings("compatible")
                .iter()
                .any(|c| c == "arm,armv8-timer" || c == "arm,armv7-timer")
    }) else {
        cx.warn(
            "/",
            "no arm,armv8-timer node: the kernel has no clock event source",
        );
        return Ok(None);
    };
    let interrupts = interrupts(cx, index)?;
    if interrupts.len() < 3 {
        cx.warn(
            &node.path,
            format!(
                "{} interrupts; the virtual timer PPI is the third",
                interrupts.len()
            ),
        );
    }
    Ok(Some(Timer {
        node: node.path.clone(),
        interrupts,
        frequency: node.u32("clock-frequency")?,
    }))
}

fn psci(cx: &mut Ctx<'_>) -> Option<Psci> {
    let tree = cx.tree;
    let node = tree.nodes.iter().find(|n| {
        n.strings("compatible")
            .iter()
            .any(|c| c.starts_with("arm,psci"))
    })?;
    let method = node.string("method").unwrap_or_default();
    if method != "hvc" && method != "smc" {
        cx.warn(
            &node.path,
            format!("method \"{method}\" is neither hvc nor smc"),
        );
    }
    Some(Psci {
        node: node.path.clone(),
        compatible: node.strings("compatible"),
        method,
    })
}

fn chosen(cx: &Ctx<'_>) -> Result<Chosen> {
    let Some(node) = cx.tree.find("/chosen") else {
        return Ok(Chosen::default());
    };
    let addr = |name: &str| -> Result<Option<u64>> {
        match node.cells(name)?.as_deref() {
            None => Ok(None),
            Some([v]) => Ok(Some(u64::from(*v))),
            Some([hi, lo]) => Ok(Some((u64::from(*hi) << 32) | u64::from(*lo))),
            Some(_) => Err(BoardError::prop(
                &node.path,
                name,
                "expected one or two cells",
            )),
        }
    };
    let initrd = match (addr("linux,initrd-start")?, addr("linux,initrd-end")?) {
        (Some(start), Some(end)) if end >= start => Some(Range {
            base: start,
            size: end - start,
        }),
        (Some(_), Some(_)) => {
            return Err(BoardError::prop(
                &node.path,
                "linux,initrd-end",
                "ends before linux,initrd-start",
            ))
        }
        _ => None,
    };
    let stdout_path = node
        .string("stdout-path")
        .or_else(|| node.string("linux,stdout-path"));
    let stdout_node = stdout_path.as_deref().and_then(|p| {
        let target = p.split(':').next()?;
        let path = if target.starts_with('/') {
            target.to_string()
        } else {
            cx.tree.find("/aliases")?.string(target)?
        };
        cx.tree.find(&path).map(|n| n.path.clone())
    });
    Ok(Chosen {
        bootargs: node.string("bootargs"),
        stdout_path,
        stdout_node,
        initrd,
    })
}

/// The size `cma=SIZE[@BASE[-LIMIT]]` on a kernel command line asks for; `None` without
/// `cma=` or when it is not a size (Linux then keeps the Kconfig default).
pub fn cmdline_cma(bootargs: &str) -> Option<u64> {
    let arg = bootargs
        .split_whitespace()
        .rev()
        .find_map(|w| w.strip_prefix("cma="))?;
    memparse(arg.split('@').next()?)
}

/// lib/cmdline.c memparse: a decimal or 0x number with an optional K, M, G or T suffix.
fn memparse(s: &str) -> Option<u64> {
    let (n, rest) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => {
            let end = h.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(h.len());
            (u64::from_str_radix(&h[..end], 16).ok()?, &h[end..])
        }
        None => {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            (s[..end].parse().ok()?, &s[end..])
        }
    };
    let shift = match rest {
        "" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        "t" | "T" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cma_on_the_command_line_is_read_like_memparse() {
        assert_eq!(cmdline_cma("console=ttyAMA0 cma=64M"), Some(64 << 20));
        assert_eq!(
            cmdline_cma("cma=0x2000000@0x40000000-0x50000000"),
            Some(32 << 20)
        );
        assert_eq!(
            cmdline_cma("cma=1G cma=128K"),
            Some(128 << 10),
            "the last one wins"
        );
        assert_eq!(cmdline_cma("cma=lots"), None);
        assert_eq!(cmdline_cma("nocma=1"), None);
    }
}
