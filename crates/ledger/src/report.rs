//! The placement report: per device, where its buffers landed.

use std::fmt::Write;

use board::{Board, Range};
use serde::Serialize;

use crate::map::{MemoryMap, Region};
use crate::policy::{self, Finding, Rule};
use crate::Ledger;

/// Bytes of a device's buffers in one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankShare {
    pub bank: String,
    pub ecc: bool,
    pub bytes: u64,
}

/// One device's DMA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSummary {
    pub device: String,
    /// Distinct buffers (same name and segments count once).
    pub buffers: usize,
    /// Bytes in the distinct buffers.
    pub bytes: u64,
    pub banks: Vec<BankShare>,
    pub outside_ram_bytes: u64,
    /// Reserved regions the buffers touched.
    pub pools: Vec<String>,
    /// Whether every buffer was one contiguous range.
    pub contiguous: bool,
    /// Accesses, counting repeats.
    pub accesses: u64,
    pub findings: Vec<Finding>,
}

impl DeviceSummary {
    /// Share of the bytes in ECC banks, 0.0 to 1.0.
    pub fn ecc_share(&self) -> f64 {
        let ecc: u64 = self.banks.iter().filter(|b| b.ecc).map(|b| b.bytes).sum();
        if self.bytes == 0 {
            0.0
        } else {
            ecc as f64 / self.bytes as f64
        }
    }
}

/// Where the buffers a device imported from one dma-buf heap landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeapSummary {
    pub heap: String,
    pub device: String,
    pub buffers: usize,
    pub bytes: u64,
    pub banks: Vec<BankShare>,
    /// Whether every buffer was one contiguous range.
    pub contiguous: bool,
}

/// A device's heap policy (the heaps it may take buffers from, in priority order) and the
/// heaps its buffers came from.
#[derive(Debug, Clone, Serialize)]
pub struct HeapPolicy {
    pub device: String,
    pub allowed: Vec<String>,
    /// Heap and buffer count, in the order the device first met them (`dumb`: a buffer the
    /// DRM driver allocated itself, from no heap).
    pub got: Vec<(String, usize)>,
    /// Buffers of the device the guest named no heap for (not judged).
    pub unattributed: usize,
}

/// The verdict of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    pub devices: Vec<DeviceSummary>,
    /// Imported buffers by heap, when the guest said which heap each came from.
    pub heaps: Vec<HeapSummary>,
    /// Heap policies given for the run and what each device got.
    pub policies: Vec<HeapPolicy>,
    pub regions: Vec<Region>,
    pub findings: Vec<Finding>,
    /// Distinct accesses the ledger could not keep (it was full): the verdict is incomplete.
    pub unrecorded: u64,
    /// No finding, and nothing left unrecorded.
    pub passed: bool,
}

/// Summarises `ledger` over the board and judges it by the built-in policies and `rules`.
pub fn build(board: &Board, map: &MemoryMap, ledger: &Ledger, rules: &[Rule]) -> Placement {
    let findings = policy::evaluate(board, map, ledger, rules);
    let mut devices: Vec<DeviceSummary> = Vec::new();
    let mut seen: Vec<(String, String, Vec<Range>)> = Vec::new();
    for rec in ledger.records() {
        let idx = match devices.iter().position(|d| d.device == rec.device) {
            Some(i) => i,
            None => {
                devices.push(DeviceSummary {
                    device: rec.device.clone(),
                    buffers: 0,
                    bytes: 0,
                    banks: Vec::new(),
                    outside_ram_bytes: 0,
                    pools: Vec::new(),
                    contiguous: true,
                    accesses: 0,
                    findings: findings
                        .iter()
                        .filter(|f| f.device == rec.device)
                        .cloned()
                        .collect(),
                });
                devices.len() - 1
            }
        };
        let d = &mut devices[idx];
        d.accesses += rec.count;
        d.contiguous &= rec.contiguous();
        let key = (rec.device.clone(), rec.buffer.clone(), rec.segments.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        d.buffers += 1;
        d.bytes += rec.bytes();
        for seg in &rec.segments {
            for place in map.place(*seg) {
                if !add_to_bank(&mut d.banks, map, &place) {
                    d.outside_ram_bytes += place.range.size;
                }
                if let Some(r) = place.region.map(|r| &map.regions[r]) {
                    if !d.pools.contains(&r.name) {
                        d.pools.push(r.name.clone());
                    }
                }
            }
        }
    }
    Placement {
        passed: findings.is_empty() && ledger.overflowed() == 0,
        unrecorded: ledger.overflowed(),
        heaps: Vec::new(),
        policies: Vec::new(),
        devices,
        regions: map.regions.clone(),
        findings,
    }
}

/// Adds `place`'s bytes to its bank's share; false if it is outside RAM.
fn add_to_bank(banks: &mut Vec<BankShare>, map: &MemoryMap, place: &crate::map::Place) -> bool {
    let Some(bank) = place.bank.map(|b| &map.banks[b]) else {
        return false;
    };
    match banks.iter_mut().find(|s| s.bank == bank.name) {
        Some(s) => s.bytes += place.range.size,
        None => banks.push(BankShare {
            bank: bank.name.clone(),
            ecc: bank.ecc.protected(),
            bytes: place.range.size,
        }),
    }
    true
}

/// Attributes `device`'s buffers whose ledger name starts with `prefix` to heaps: the guest
/// imported buffers in the order `imports` lists them (heap, size in bytes), and the device
/// met them in the same order; each import takes the next unclaimed buffer of its size.
pub fn attribute_to_heaps(
    map: &MemoryMap,
    ledger: &Ledger,
    device: &str,
    prefix: &str,
    imports: &[(String, u64)],
) -> Vec<HeapSummary> {
    let mut buffers: Vec<&crate::DmaRecord> = Vec::new();
    for r in ledger.records() {
        if r.device == device
            && r.buffer.starts_with(prefix)
            && !buffers.iter().any(|b| b.buffer == r.buffer)
        {
            buffers.push(r);
        }
    }
    let mut next = 0usize;
    let mut out: Vec<HeapSummary> = Vec::new();
    for (heap, size) in imports {
        let Some(offset) = buffers[next..].iter().position(|b| b.bytes() == *size) else {
            continue;
        };
        let rec = buffers[next + offset];
        next += offset + 1;
        let idx = match out.iter().position(|h| &h.heap == heap) {
            Some(i) => i,
            None => {
                out.push(HeapSummary {
                    heap: heap.clone(),
                    device: device.to_string(),
                    buffers: 0,
                    bytes: 0,
                    banks: Vec::new(),
                    contiguous: true,
                });
                out.len() - 1
            }
        };
        let h = &mut out[idx];
        h.buffers += 1;
        h.bytes += rec.bytes();
        h.contiguous &= rec.contiguous();
        for seg in &rec.segments {
            for place in map.place(*seg) {
                add_to_bank(&mut h.banks, map, &place);
            }
        }
    }
    out
}

/// The report as a table a developer reads at the end of a run.
pub fn text(p: &Placement) -> String {
    let mut o = String::from("DMA placement\n");
    if p.devices.is_empty() {
        o.push_str("  (no device DMA recorded)\n");
    }
    for d in &p.devices {
        let banks: Vec<String> = d
            .banks
            .iter()
            .map(|b| {
                format!(
                    "{} {} {}",
                    b.bank,
                    if b.ecc { "ECC" } else { "non-ECC" },
                    board::report::size(b.bytes)
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "  {}: {} buffer(s), {}, {} access(es); contiguous: {}; ECC share {:.0}%",
            d.device,
            d.buffers,
            board::report::size(d.bytes),
            d.accesses,
            if d.contiguous { "yes" } else { "no" },
            100.0 * d.ecc_share()
        );
        let _ = writeln!(
            o,
            "    banks: {}",
            if banks.is_empty() {
                "-".into()
            } else {
                banks.join(", ")
            }
        );
        if d.outside_ram_bytes > 0 {
            let _ = writeln!(
                o,
                "    outside RAM: {}",
                board::report::size(d.outside_ram_bytes)
            );
        }
        let _ = writeln!(
            o,
            "    pools: {}",
            if d.pools.is_empty() {
                "-".into()
            } else {
                d.pools.join(", ")
            }
        );
    }
    if !p.heaps.is_empty() {
        o.push_str("Imported buffers by heap\n");
    }
    for h in &p.heaps {
        let ecc: u64 = h.banks.iter().filter(|b| b.ecc).map(|b| b.bytes).sum();
        let banks: Vec<String> = h
            .banks
            .iter()
            .map(|b| format!("{} {}", b.bank, board::report::size(b.bytes)))
            .collect();
        let _ = writeln!(
            o,
            "  {} -> {}: {} buffer(s), {}; contiguous: {}; ECC share {:.0}% ({})",
            h.heap,
            h.device,
            h.buffers,
            board::report::size(h.bytes),
            if h.contiguous { "yes" } else { "no" },
            if h.bytes == 0 {
                0.0
            } else {
                100.0 * ecc as f64 / h.bytes as f64
            },
            banks.join(", ")
        );
    }
    if !p.policies.is_empty() {
        o.push_str("Heap policies\n");
    }
    for h in &p.policies {
        let got: Vec<String> = h
            .got
            .iter()
            .map(|(heap, n)| match h.allowed.iter().position(|a| a == heap) {
                Some(i) => format!("{heap} x{n} (choice {})", i + 1),
                None => format!("{heap} x{n} (not allowed)"),
            })
            .collect();
        let _ = writeln!(
            o,
            "  {} may take {}: got {}{}",
            h.device,
            h.allowed.join(", "),
            if got.is_empty() {
                "no buffer from a heap".to_string()
            } else {
                got.join(", ")
            },
            if h.unattributed > 0 {
                format!("; {} buffer(s) the guest named no heap for", h.unattributed)
            } else {
                String::new()
            }
        );
    }
    if p.unrecorded > 0 {
        let _ = writeln!(
            o,
            "  {} distinct device accesses were not recorded (the ledger was full): the verdict is incomplete",
            p.unrecorded
        );
    }
    if p.passed {
        o.push_str("verdict: pass (no finding)\n");
    } else {
        let _ = writeln!(o, "verdict: FAIL ({} finding(s))", p.findings.len());
        for f in &p.findings {
            let _ = writeln!(o, "  {f}");
        }
    }
    o
}
