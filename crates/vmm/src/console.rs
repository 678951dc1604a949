//! Which console the guest gets, and why.
//!
//! Linux prints to the UART `/chosen/stdout-path` names once that UART's driver probes
//! (drivers/of/base.c of_stdout, of_console_check). heapsoc serves that UART when it models
//! it (PL011, 16550 family) and the guest can probe it: its clocks must come from
//! `fixed-clock` nodes (the guest has no SoC clock, reset or power-domain drivers, so a UART
//! that waits for one is deferred forever: "unable to open an initial console"). Otherwise
//! heapsoc adds a console of its own to the guest's DT: a virtio-console on a virtio-mmio
//! slot at an address and SPI no node of the board uses, and tells the kernel
//! `console=hvc0`.

use board::{Board, Device, GicVersion, Range, Status, Tree};

/// The guest's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Console {
    /// The DT node of the device carrying it.
    pub node: String,
    /// One line for the user: which device and why.
    pub why: String,
    /// Kernel arguments the console needs (`earlycon` for a UART stdout-path names,
    /// `console=hvc0` for the added virtio-console).
    pub kernel_args: Vec<String>,
    /// `/chosen/stdout-path` to set (when the DT names none).
    pub stdout_path: Option<String>,
    /// The virtio-mmio slot heapsoc adds for it.
    pub added: Option<AddedSlot>,
}

/// A virtio-mmio slot heapsoc adds to the guest's DT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedSlot {
    pub base: u64,
    pub spi: u32,
}

/// The virtio-mmio register window.
pub const SLOT_SIZE: u64 = 0x200;

/// UART compatibles heapsoc models, and whether the device is a 16550 (else a PL011).
pub fn uart_model(dev: &Device) -> Option<bool> {
    const UART16550: &[&str] = &[
        "ns8250",
        "ns16450",
        "ns16550",
        "ns16550a",
        "ns16750",
        "ns16850",
        "snps,dw-apb-uart",
    ];
    dev.compatible.iter().find_map(|c| {
        if c == "arm,pl011" {
            Some(false)
        } else if UART16550.contains(&c.as_str()) {
            Some(true)
        } else {
            None
        }
    })
}

/// Why the guest could not probe `dev` as its console, if it could not.
fn blocker(tree: &Tree, dev: &Device) -> Option<String> {
    let is16550 = uart_model(dev)?;
    if let Some(i) = dev.interrupts.first().filter(|i| i.intid.is_none()) {
        return Some(format!(
            "has its interrupt on {}, a controller the guest has no driver for",
            i.controller.as_deref().unwrap_or("no controller")
        ));
    }
    if !is16550 && !dev.compatible.iter().any(|c| c == "arm,primecell") {
        return Some("lacks \"arm,primecell\", so Linux makes no AMBA device for it".into());
    }
    for (prop, what) in [
        ("resets", "a reset controller"),
        ("power-domains", "a power domain"),
    ] {
        if dev.has_prop(prop) {
            return Some(format!(
                "waits for {what} (`{prop}`), for which the guest has no driver"
            ));
        }
    }
    let phandles = tree.phandles();
    let clocks: Vec<u32> = dev
        .properties
        .iter()
        .find(|(n, _)| n == "clocks")
        .map(|(_, v)| {
            v.chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        })
        .unwrap_or_default();
    if clocks.is_empty() {
        return if is16550 && dev.u32_prop("clock-frequency").is_some() {
            None
        } else if is16550 {
            Some("has neither clocks nor clock-frequency".into())
        } else {
            Some("has no clocks: the AMBA bus needs its apb_pclk".into())
        };
    }
    // Walk the phandle list: each provider's #clock-cells says how many cells follow.
    let mut i = 0;
    while i < clocks.len() {
        let Some(&idx) = phandles.get(&clocks[i]) else {
            return Some(format!(
                "names clock phandle {} that no node has",
                clocks[i]
            ));
        };
        let provider = &tree.nodes[idx];
        let compatible = provider.strings("compatible");
        if !compatible.iter().any(|c| c == "fixed-clock") {
            return Some(format!(
                "gets a clock from {} ({}), for which the guest has no driver",
                provider.path,
                compatible
                    .first()
                    .map(String::as_str)
                    .unwrap_or("no compatible")
            ));
        }
        let cells = provider.u32("#clock-cells").ok().flatten().unwrap_or(0) as usize;
        i += 1 + cells;
    }
    None
}

/// The console on UART `d`, `set_stdout` when heapsoc names it in /chosen/stdout-path.
fn uart_console(d: &Device, why: String, set_stdout: bool) -> Console {
    Console {
        node: d.node.clone(),
        why: format!(
            "{} ({}), {why}",
            d.node,
            d.compatible.first().map(String::as_str).unwrap_or("")
        ),
        kernel_args: vec!["earlycon".into()],
        stdout_path: set_stdout.then(|| d.node.clone()),
        added: None,
    }
}

/// Chooses the guest's console for `board` (read from `tree`).
pub fn choose(board: &Board, tree: &Tree) -> Console {
    let usable = |d: &Device| d.status == Status::Okay && d.reg.iter().any(|r| r.size > 0);
    let stdout = board
        .chosen
        .stdout_node
        .as_deref()
        .and_then(|p| board.device(p));
    let mut why_not = match (stdout, &board.chosen.stdout_path) {
        (Some(d), _) if !usable(d) => format!("its stdout-path UART {} is disabled", d.node),
        (Some(d), _) => match (uart_model(d), blocker(tree, d)) {
            (Some(_), None) => {
                return uart_console(d, "the UART /chosen/stdout-path names".into(), false);
            }
            (Some(_), Some(b)) => format!("its stdout-path UART {} {b}", d.node),
            (None, _) => format!(
                "its stdout-path UART {} ({}) is not a UART heapsoc models",
                d.node,
                d.compatible
                    .first()
                    .map(String::as_str)
                    .unwrap_or("no compatible")
            ),
        },
        (None, Some(p)) => format!("its stdout-path {p:?} names no node"),
        (None, None) => "it has no /chosen/stdout-path".to_string(),
    };
    if stdout.is_none() {
        // No stdout-path: the first UART heapsoc models and the guest can probe.
        if let Some(d) = board
            .devices
            .iter()
            .find(|d| usable(d) && uart_model(d).is_some() && blocker(tree, d).is_none())
        {
            return Console {
                node: d.node.clone(),
                why: format!(
                    "{} ({}): {why_not}, so heapsoc points it at this UART",
                    d.node,
                    d.compatible.first().map(String::as_str).unwrap_or("")
                ),
                kernel_args: vec!["earlycon".into()],
                stdout_path: Some(d.node.clone()),
                added: None,
            };
        }
    }
    let slot = match free_slot(board) {
        Some(s) => s,
        None => {
            why_not.push_str("; and no free address or SPI was found for a virtio-console");
            return Console {
                node: String::new(),
                why: why_not,
                kernel_args: Vec::new(),
                stdout_path: None,
                added: None,
            };
        }
    };
    let node = format!("/virtio_mmio@{:x}", slot.base);
    Console {
        why: format!(
            "virtio-console (hvc0) heapsoc added at 0x{:x}, SPI {}, because {why_not}",
            slot.base, slot.spi
        ),
        node,
        kernel_args: vec!["console=hvc0".into()],
        stdout_path: None,
        added: Some(slot),
    }
}

/// An address (64 KiB aligned, below 4 GiB when possible) and an SPI that no node of the
/// board uses, enabled or not, for a virtio-mmio slot.
fn free_slot(board: &Board) -> Option<AddedSlot> {
    let ic = board.interrupt_controller.as_ref()?;
    if ic.version == GicVersion::Other {
        return None;
    }
    let mut busy: Vec<Range> = board.devices.iter().flat_map(|d| d.reg.clone()).collect();
    busy.extend(board.banks.iter().map(|b| b.range));
    busy.extend(board.reserved.iter().filter_map(|r| r.fixed_range()));
    busy.extend(ic.reg.iter().copied());
    let free = |base: u64| {
        let r = Range {
            base,
            size: SLOT_SIZE,
        };
        !busy.iter().any(|b| b.overlaps(&r))
    };
    let step = 0x1_0000u64;
    let base = (0x0800_0000u64..0x1_0000_0000)
        .step_by(step as usize)
        .chain((0x1_0000_0000u64..0x100_0000_0000).step_by(0x1000_0000))
        .find(|&b| free(b))?;
    let used: std::collections::BTreeSet<u32> = board
        .devices
        .iter()
        .flat_map(|d| d.interrupts.iter())
        .filter_map(|i| i.intid)
        .collect();
    // The first SPI above every one in use keeps the GIC small; else the lowest free one.
    let above = used.iter().next_back().map_or(32, |&m| m.max(31) + 1);
    let spi = if above <= board::parse::MAX_SPI_INTID {
        above
    } else {
        (32..=board::parse::MAX_SPI_INTID).find(|i| !used.contains(i))?
    };
    Some(AddedSlot { base, spi })
}

/// Adds the console's virtio-mmio node to `tree` (for the guest's DT and the machine).
pub fn add_to_tree(tree: &mut Tree, board: &Board, slot: AddedSlot) -> Result<(), String> {
    let ic = board
        .interrupt_controller
        .as_ref()
        .ok_or("no interrupt controller")?;
    let gic = tree
        .index_of(&ic.node)
        .ok_or_else(|| format!("{} is not in the tree", ic.node))?;
    let phandle = tree.phandle_of(gic);
    let (cells, _) =
        board::cells::cells_for_children_of(tree, tree.root()).map_err(|e| e.to_string())?;
    let encode = |v: u64, n: u32| -> Vec<u8> {
        (0..n)
            .rev()
            .flat_map(|i| {
                let w = if i >= 2 { 0 } else { (v >> (32 * i)) as u32 };
                w.to_be_bytes()
            })
            .collect()
    };
    let mut reg = encode(slot.base, cells.address);
    reg.extend(encode(SLOT_SIZE, cells.size));
    let mut irq: Vec<u32> = vec![0, slot.spi - 32, 1]; // SPI, edge-rising
    irq.resize(ic.interrupt_cells.max(3) as usize, 0);
    let prop = |name: &str, value: Vec<u8>| board::tree::Property {
        name: name.to_string(),
        value,
    };
    tree.add_node(
        0,
        &format!("virtio_mmio@{:x}", slot.base),
        vec![
            prop("compatible", b"virtio,mmio\0".to_vec()),
            prop("reg", reg),
            prop("interrupt-parent", phandle.to_be_bytes().to_vec()),
            prop(
                "interrupts",
                irq.iter().flat_map(|c| c.to_be_bytes()).collect(),
            ),
            prop("dma-coherent", Vec::new()),
        ],
    );
    Ok(())
}
