//! From the device tree to the [`Board`]: the nodes the machine is built from, classified
//! the way Linux 7.3 reads them.

use std::collections::HashMap;

use crate::cells::{self, CellSizes};
use crate::error::{BoardError, Result};
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
    let heaps = heaps(&reserved, chosen.bootargs.as_deref());
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
            "no RAM: the tree has no /memory node with device_type = \"memory\" and a reg",
        ));
    }
    banks.sort_by_key(|b| b.range.base);
    Ok(banks)
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
            "{} regions carry linux,cma-default ({}): Linux uses the first it meets",
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
            if cma_default {
                heaps.push("default_cma_region".to_string());
            }
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
    for node in tree.nodes.iter().skip(1) {
        if !node.has("compatible")
            || NOT_DEVICES.iter().any(|p| under(&node.path, p))
            || node.string("device_type").as_deref() == Some("memory")
        {
            continue;
        }
        let mut reg = Vec::new();
        if let Some(regs) = cx.reg(node)? {
            let bus = tree.parent(node).unwrap_or(tree.root());
            for r in regs {
                match cells::translate(tree, bus, r.base)? {
                    Some(base) => reg.push(Range { base, size: r.size }),
                    None => break,
                }
            }
        }
        let interrupts = interrupts(cx, node)?;
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
                    return Err(BoardError::prop(
                        &node.path,
                        "memory-region",
                        format!(
                            "points to {}, which is not a usable /reserved-memory region",
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
        });
    }
    Ok(out)
}

/// The interrupt parent of a node: its own or its nearest ancestor's `interrupt-parent`.
fn interrupt_parent<'t>(cx: &Ctx<'t>, node: &'t Node) -> Result<Option<&'t Node>> {
    let mut cur = Some(node);
    while let Some(n) = cur {
        if let Some(ph) = n.u32("interrupt-parent")? {
            return cx.by_phandle(n, "interrupt-parent", ph).map(Some);
        }
        cur = cx.tree.parent(n);
    }
    Ok(None)
}

fn interrupts(cx: &Ctx<'_>, node: &Node) -> Result<Vec<Interrupt>> {
    let mut out = Vec::new();
    if let Some(raw) = node.cells("interrupts-extended")? {
        let mut rest = raw.as_slice();
        while let Some((&ph, tail)) = rest.split_first() {
            let ctrl = cx.by_phandle(node, "interrupts-extended", ph)?;
            let n = interrupt_cells(ctrl)? as usize;
            if n == 0 || tail.len() < n {
                return Err(BoardError::prop(
                    &node.path,
                    "interrupts-extended",
                    format!("truncated specifier for {}", ctrl.path),
                ));
            }
            out.push(decode_interrupt(ctrl, &tail[..n]));
            rest = &tail[n..];
        }
        return Ok(out);
    }
    let Some(raw) = node.cells("interrupts")? else {
        return Ok(out);
    };
    let Some(ctrl) = interrupt_parent(cx, node)? else {
        return Err(BoardError::prop(
            &node.path,
            "interrupts",
            "no interrupt-parent on the node or any ancestor",
        ));
    };
    let n = interrupt_cells(ctrl)? as usize;
    if n == 0 || raw.len() % n != 0 {
        return Err(BoardError::prop(
            &node.path,
            "interrupts",
            format!(
                "{} cells is not a multiple of #interrupt-cells ({n}) of {}",
                raw.len(),
                ctrl.path
            ),
        ));
    }
    Ok(raw
        .chunks_exact(n)
        .map(|c| decode_interrupt(ctrl, c))
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

fn gic_version(compatible: &[String]) -> GicVersion {
    const V2: &[&str] = &[
        "arm,cortex-a15-gic",
        "arm,cortex-a9-gic",
        "arm,cortex-a7-gic",
        "arm,gic-400",
        "arm,arm11mp-gic",
        "arm,pl390",
    ];
    if compatible.iter().any(|c| c == "arm,gic-v3") {
        GicVersion::V3
    } else if compatible.iter().any(|c| V2.contains(&c.as_str())) {
        GicVersion::V2
    } else {
        GicVersion::Other
    }
}

/// Decodes the GIC binding's 3-cell specifier: type (0 SPI, 1 PPI), number, flags.
fn decode_interrupt(ctrl: &Node, cells: &[u32]) -> Interrupt {
    let mut irq = Interrupt {
        cells: cells.to_vec(),
        kind: None,
        intid: None,
        trigger: None,
    };
    if gic_version(&ctrl.strings("compatible")) != GicVersion::Other && cells.len() >= 3 {
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
        out.push(Cpu {
            node: node.path.clone(),
            mpidr,
            compatible: node.strings("compatible"),
            enable_method: node.string("enable-method"),
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

fn interrupt_controller(cx: &mut Ctx<'_>) -> Result<Option<InterruptController>> {
    let tree = cx.tree;
    let root = tree.root();
    let node = match root.u32("interrupt-parent")? {
        Some(ph) => Some(cx.by_phandle(root, "interrupt-parent", ph)?),
        None => tree.nodes.iter().find(|n| {
            n.has("interrupt-controller") && !n.has("interrupt-parent") && n.parent.is_some()
        }),
    };
    let Some(node) = node else {
        cx.warn("/", "no interrupt controller");
        return Ok(None);
    };
    let compatible = node.strings("compatible");
    let version = gic_version(&compatible);
    if version == GicVersion::Other {
        cx.warn(
            &node.path,
            "the root interrupt controller is not a GICv2 or GICv3",
        );
    }
    let mut reg = Vec::new();
    if let Some(regs) = cx.reg(node)? {
        let bus = tree.parent(node).unwrap_or(root);
        for r in regs {
            if let Some(base) = cells::translate(tree, bus, r.base)? {
                reg.push(Range { base, size: r.size });
            }
        }
    }
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
    let Some(node) = tree.nodes.iter().find(|n| {
        n.strings("compatible")
            .iter()
            .any(|c| c == "arm,armv8-timer" || c == "arm,armv7-timer")
    }) else {
        cx.warn(
            "/",
            "no arm,armv8-timer node: the kernel has no clock event source",
        );
        return Ok(None);
    };
    let interrupts = interrupts(cx, node)?;
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
    Ok(Chosen {
        bootargs: node.string("bootargs"),
        stdout_path: node.string("stdout-path"),
        initrd,
    })
}

/// The heaps Linux 7.3 creates: `system` (drivers/dma-buf/heaps/system_heap.c), and from
/// drivers/dma-buf/heaps/cma_heap.c the default CMA area as `default_cma_region` plus its
/// legacy name (the area's name, i.e. the DT node name, CONFIG_DMABUF_HEAPS_CMA_LEGACY),
/// and one heap per other reusable region named after its node.
fn heaps(reserved: &[ReservedRegion], bootargs: Option<&str>) -> Vec<Heap> {
    let mut heaps = vec![Heap {
        name: "system".into(),
        region: None,
        size: None,
        source: "buddy allocator pages, scattered over every bank".into(),
    }];
    if !reserved
        .iter()
        .any(|r| r.cma_default && !r.heaps.is_empty())
    {
        // kernel/dma/contiguous.c: dma_contiguous_reserve() makes the area "reserved" from
        // cma= (early_cma) or else CONFIG_CMA_SIZE_MBYTES.
        let (size, source) = match bootargs.and_then(cmdline_cma) {
            Some(size) => (
                size,
                format!("default CMA area of {}, from cma= in /chosen/bootargs, placed by the kernel", crate::report::size(size)),
            ),
            None => (
                GUEST_CMA_SIZE,
                format!(
                    "default CMA area of {} (the heapsoc guest's CONFIG_CMA_SIZE_MBYTES; cma= overrides), placed by the kernel",
                    crate::report::size(GUEST_CMA_SIZE)
                ),
            ),
        };
        for name in ["default_cma_region", "reserved"] {
            heaps.push(Heap {
                name: name.into(),
                region: None,
                size: Some(size),
                source: source.clone(),
            });
        }
    }
    for r in reserved {
        for name in &r.heaps {
            heaps.push(Heap {
                name: name.clone(),
                region: Some(r.node.clone()),
                size: match &r.placement {
                    Placement::Fixed { range } => Some(range.size),
                    Placement::Dynamic { size, .. } => Some(*size),
                },
                source: format!("{} {}", r.kind.describe(), r.name),
            });
        }
    }
    heaps
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
