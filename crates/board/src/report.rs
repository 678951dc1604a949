//! The memory map as a developer reads it (`heapsoc inspect`).

use std::fmt::Write;

use crate::model::*;

/// `256 MiB`, `8 KiB`, `1.5 GiB`, or bytes.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (unit, name) in UNITS {
        if bytes >= unit {
            return if bytes % unit == 0 {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{:.1} {name}", bytes as f64 / unit as f64)
            };
        }
    }
    format!("{bytes} B")
}

fn ecc_label(ecc: &Ecc) -> String {
    if !ecc.protected() {
        return "non-ECC".into();
    }
    let mut parts = Vec::new();
    if let Some(d) = ecc.detection_bits {
        parts.push(format!("detects {d}"));
    }
    if let Some(c) = ecc.correction_bits {
        parts.push(format!("corrects {c}"));
    }
    format!("ECC ({} bit)", parts.join(", "))
}

/// The banks a reserved region can lie in: the bank holding a fixed region, or every bank
/// an `alloc-ranges` entry touches (all banks when there is none).
pub fn region_banks<'b>(board: &'b Board, region: &ReservedRegion) -> Vec<&'b MemoryBank> {
    match &region.placement {
        Placement::Fixed { range } => board
            .banks
            .iter()
            .filter(|b| b.range.overlaps(range))
            .collect(),
        Placement::Dynamic { alloc_ranges, .. } if !alloc_ranges.is_empty() => board
            .banks
            .iter()
            .filter(|b| alloc_ranges.iter().any(|r| b.range.overlaps(r)))
            .collect(),
        Placement::Dynamic { .. } => board.banks.iter().collect(),
    }
}

/// `memory@50000000, non-ECC` or `memory@40000000 + memory@50000000, ECC and non-ECC`.
pub fn banks_label(banks: &[&MemoryBank]) -> String {
    let names: Vec<&str> = banks.iter().map(|b| b.name.as_str()).collect();
    let ecc = banks.iter().filter(|b| b.ecc.protected()).count();
    let kind = match (ecc, banks.len()) {
        (_, 0) => "outside RAM",
        (0, _) => "non-ECC",
        (e, n) if e == n => "ECC",
        _ => "ECC and non-ECC",
    };
    format!("{}, {kind}", names.join(" + "))
}

fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(8)
}

/// The whole memory map and device list as text.
pub fn text(board: &Board) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "board: {}",
        board.model.as_deref().unwrap_or("(no model)")
    );
    if !board.compatible.is_empty() {
        let _ = writeln!(o, "compatible: {}", board.compatible.join(", "));
    }

    let _ = writeln!(o, "\nRAM banks");
    let w = name_width(board.banks.iter().map(|b| b.name.as_str()));
    for b in &board.banks {
        let _ = writeln!(
            o,
            "  {:w$}  {:>25}  {:>8}  {}",
            b.name,
            b.range.to_string(),
            size(b.range.size),
            ecc_label(&b.ecc)
        );
    }

    let _ = writeln!(o, "\nReserved memory");
    if board.reserved.is_empty() {
        let _ = writeln!(o, "  (none)");
    }
    let w = name_width(board.reserved.iter().map(|r| r.name.as_str()));
    for r in &board.reserved {
        let mut kind = r.kind.describe().to_string();
        if r.cma_default {
            kind.push_str(" (default)");
        }
        let banks = banks_label(&region_banks(board, r));
        let place = match &r.placement {
            Placement::Fixed { range } => format!(
                "{:>25}  {:>8}  in {banks}",
                range.to_string(),
                size(range.size)
            ),
            Placement::Dynamic {
                size: s,
                alignment,
                alloc_ranges,
            } => {
                let within = if alloc_ranges.is_empty() {
                    "anywhere in RAM".to_string()
                } else {
                    alloc_ranges
                        .iter()
                        .map(Range::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let align = alignment
                    .map(|a| format!(", align {}", size(a)))
                    .unwrap_or_default();
                format!(
                    "{:>25}  {:>8}  in {within} ({banks}){align}",
                    "placed by the kernel",
                    size(*s)
                )
            }
        };
        let _ = writeln!(o, "  {:w$}  {:24}  {place}", r.name, kind);
        if !r.users.is_empty() {
            let _ = writeln!(o, "  {:w$}  used by {}", "", r.users.join(", "));
        }
    }

    let _ = writeln!(o, "\ndma-buf heaps Linux 7.3 will create (/dev/dma_heap)");
    let w = name_width(board.heaps.iter().map(|h| h.name.as_str()));
    for h in &board.heaps {
        let banks = h
            .region
            .as_deref()
            .and_then(|p| board.reserved.iter().find(|r| r.node == p))
            .map(|r| format!(" [{}]", banks_label(&region_banks(board, r))))
            .unwrap_or_default();
        let _ = writeln!(o, "  {:w$}  {}{banks}", h.name, h.source);
    }

    let _ = writeln!(o, "\nCPUs");
    for c in &board.cpus {
        let _ = writeln!(
            o,
            "  {}  {}  mpidr 0x{:x}{}",
            c.node,
            c.compatible.join(", "),
            c.mpidr,
            c.enable_method
                .as_deref()
                .map(|m| format!(", enable-method {m}"))
                .unwrap_or_default()
        );
    }
    if let Some(g) = &board.interrupt_controller {
        let regs: Vec<String> = g.reg.iter().map(Range::to_string).collect();
        let _ = writeln!(
            o,
            "interrupt controller: {} ({:?}) {}",
            g.node,
            g.version,
            regs.join(", ")
        );
    }
    if let Some(t) = &board.timer {
        let irqs: Vec<String> = t.interrupts.iter().map(irq_label).collect();
        let _ = writeln!(o, "timer: {} {}", t.node, irqs.join(", "));
    }
    if let Some(p) = &board.psci {
        let _ = writeln!(
            o,
            "psci: {} via {}",
            p.compatible.first().map(String::as_str).unwrap_or("?"),
            p.method
        );
    }

    let _ = writeln!(o, "\nDevices");
    let w = name_width(board.devices.iter().map(|d| d.node.as_str()));
    for d in &board.devices {
        let mut line = format!(
            "  {:w$}  {:20}",
            d.node,
            d.compatible.first().map(String::as_str).unwrap_or("")
        );
        if let Some(r) = d.reg.first() {
            let _ = write!(line, "  0x{:x}+0x{:x}", r.base, r.size);
        }
        if !d.interrupts.is_empty() {
            let irqs: Vec<String> = d.interrupts.iter().map(irq_label).collect();
            let _ = write!(line, "  irq {}", irqs.join(", "));
        }
        for m in &d.memory_regions {
            let _ = write!(line, "  memory-region {m}");
        }
        if d.status != Status::Okay {
            let _ = write!(line, "  [{:?}]", d.status);
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }

    if !board.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for warn in &board.warnings {
            let _ = writeln!(o, "  {warn}");
        }
    }
    o
}

fn irq_label(i: &Interrupt) -> String {
    match (&i.kind, &i.trigger) {
        (Some(k), Some(t)) => format!("{k} {t}"),
        _ => format!("{:?}", i.cells),
    }
}
