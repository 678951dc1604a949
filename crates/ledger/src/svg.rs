//! An SVG memory map: one row per RAM bank (ECC banks shaded), its reserved regions, and
//! where each device's buffers landed.

use std::fmt::Write;

use board::ReservedKind;

use crate::map::MemoryMap;
use crate::Ledger;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 190.0;
const ROW: f64 = 70.0;
const COLOURS: [&str; 6] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the map and the ledger's buffers.
pub fn render(map: &MemoryMap, ledger: &Ledger) -> String {
    let mut devices: Vec<&str> = Vec::new();
    for r in ledger.records() {
        if !devices.contains(&r.device.as_str()) {
            devices.push(&r.device);
        }
    }
    let height = 40.0 + ROW * map.banks.len() as f64 + 22.0 * devices.len() as f64 + 20.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"monospace\" font-size=\"12\">"
    );
    let _ = writeln!(o, "<text x=\"10\" y=\"20\" font-size=\"14\">heapsoc memory map: banks, pools, device buffers</text>");
    let bar = WIDTH - LEFT - 20.0;
    for (i, bank) in map.banks.iter().enumerate() {
        let y = 40.0 + ROW * i as f64;
        let x_of = |addr: u64| {
            LEFT + bar * (addr.saturating_sub(bank.range.base)) as f64
                / bank.range.size.max(1) as f64
        };
        let fill = if bank.ecc.protected() {
            "#cfe8cf"
        } else {
            "#f4f4f4"
        };
        let _ = writeln!(
            o,
            "<text x=\"10\" y=\"{:.0}\">{} {}</text>",
            y + 18.0,
            esc(&bank.name),
            if bank.ecc.protected() {
                "ECC"
            } else {
                "non-ECC"
            }
        );
        let _ = writeln!(
            o,
            "<text x=\"10\" y=\"{:.0}\" fill=\"#666\">{}</text>",
            y + 34.0,
            bank.range
        );
        let _ = writeln!(
            o,
            "<rect x=\"{LEFT}\" y=\"{y}\" width=\"{bar}\" height=\"40\" fill=\"{fill}\" stroke=\"#333\"/>"
        );
        for r in &map.regions {
            let Some(rr) = r.range.filter(|rr| bank.range.overlaps(rr)) else {
                continue;
            };
            let (x0, x1) = (
                x_of(rr.base.max(bank.range.base)),
                x_of(rr.end().min(bank.range.end())),
            );
            let (fill, label) = match r.kind {
                ReservedKind::Carveout => ("#555", "carveout"),
                ReservedKind::CmaPool => ("#ffe9a8", "CMA"),
                _ => ("#dddddd", "reserved"),
            };
            let _ = writeln!(
                o,
                "<rect x=\"{x0:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"40\" fill=\"{fill}\" stroke=\"#333\"><title>{} ({label}) {rr}</title></rect>",
                (x1 - x0).max(1.0),
                esc(&r.name)
            );
            let _ = writeln!(
                o,
                "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"10\">{}</text>",
                x0 + 2.0,
                y + 52.0,
                esc(&r.name)
            );
        }
        for rec in ledger.records() {
            let colour =
                COLOURS[devices.iter().position(|d| *d == rec.device).unwrap_or(0) % COLOURS.len()];
            for s in rec.segments.iter().filter(|s| bank.range.overlaps(s)) {
                let (x0, x1) = (
                    x_of(s.base.max(bank.range.base)),
                    x_of(s.end().min(bank.range.end())),
                );
                let _ = writeln!(
                    o,
                    "<rect x=\"{x0:.1}\" y=\"{:.0}\" width=\"{:.1}\" height=\"20\" fill=\"{colour}\" opacity=\"0.8\"><title>{} {} {s}</title></rect>",
                    y + 10.0,
                    (x1 - x0).max(1.5),
                    esc(&rec.device),
                    esc(&rec.buffer)
                );
            }
        }
    }
    let legend_y = 40.0 + ROW * map.banks.len() as f64 + 10.0;
    for (i, d) in devices.iter().enumerate() {
        let y = legend_y + 22.0 * i as f64;
        let _ = writeln!(
            o,
            "<rect x=\"10\" y=\"{y}\" width=\"14\" height=\"14\" fill=\"{}\"/>",
            COLOURS[i % COLOURS.len()]
        );
        let _ = writeln!(o, "<text x=\"30\" y=\"{:.0}\">{}</text>", y + 12.0, esc(d));
    }
    o.push_str("</svg>\n");
    o
}
