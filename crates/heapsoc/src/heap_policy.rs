//! `--heap-policy NODE=HEAP[,HEAP...]`: the heaps a device may take buffers from, in
//! priority order (the display lists an ECC-free CMA heap first, the generic one second).
//! Every buffer the device imported or scanned out whose heap the guest named is judged;
//! the report says which heap each device actually got.

use std::str::FromStr;

use crate::buffers::Buffer;

/// One `--heap-policy`, as written: the heap list is split once the board's heaps are
/// known (heap names hold commas: `linux,cma`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub device: String,
    list: String,
}

impl FromStr for Spec {
    type Err = String;
    fn from_str(s: &str) -> Result<Spec, String> {
        // Heap names may hold '@' and ','; the node is everything before the first '='.
        let (device, list) = s
            .split_once('=')
            .ok_or_else(|| format!("{s}: expected NODE=HEAP[,HEAP...]"))?;
        if !device.starts_with('/') {
            return Err(format!(
                "{s}: NODE is a DT node path, e.g. /display@9100000"
            ));
        }
        if list.split(',').all(str::is_empty) {
            return Err(format!("{s}: no heap listed"));
        }
        Ok(Spec {
            device: device.to_string(),
            list: list.to_string(),
        })
    }
}

/// A policy with its heaps named the way the board names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub device: String,
    /// In priority order.
    pub heaps: Vec<String>,
}

impl Spec {
    /// Splits the list into the board's heaps (`dumb` names a DRM driver's own buffer);
    /// an error names a node or heap the board does not have.
    pub fn resolve(&self, board: &board::Board) -> Result<Policy, String> {
        let what = format!("--heap-policy {}={}", self.device, self.list);
        if !board.devices.iter().any(|d| d.node == self.device) {
            return Err(format!(
                "{what}: the board has no device node {}",
                self.device
            ));
        }
        // The heaps Linux 7.3 makes, the no-map carveouts a patched kernel may export as
        // heaps of their names (a prototype binding), and the DRM drivers' own buffers.
        let names: Vec<&str> = board
            .heaps
            .iter()
            .map(|h| h.name.as_str())
            .chain(
                board
                    .reserved
                    .iter()
                    .filter(|r| r.kind == board::ReservedKind::Carveout)
                    .map(|r| r.name.as_str()),
            )
            .chain(["dumb"])
            .collect();
        let pieces: Vec<&str> = self.list.split(',').filter(|p| !p.is_empty()).collect();
        let mut heaps = Vec::new();
        let mut i = 0;
        while i < pieces.len() {
            // The longest run of pieces that names a heap.
            let found = (i + 1..=pieces.len())
                .rev()
                .find(|&j| names.contains(&pieces[i..j].join(",").as_str()));
            let Some(j) = found else {
                return Err(format!(
                    "{what}: the board has no heap {} (its heaps: {})",
                    pieces[i],
                    names.join(", ")
                ));
            };
            heaps.push(pieces[i..j].join(","));
            i = j;
        }
        Ok(Policy {
            device: self.device.clone(),
            heaps,
        })
    }
}

/// Checks `policies` against the buffers devices read; the findings and, per policy, what
/// the device got.
pub fn check(
    policies: &[Policy],
    known: &[Buffer],
) -> (Vec<ledger::Finding>, Vec<ledger::report::HeapPolicy>) {
    let mut findings = Vec::new();
    let mut results = Vec::new();
    for p in policies {
        let mut got: Vec<(String, usize)> = Vec::new();
        let mut unattributed = 0;
        for b in known.iter().filter(|b| b.device == p.device) {
            let Some(heap) = &b.heap else {
                unattributed += 1;
                continue;
            };
            match got.iter_mut().find(|(h, _)| h == heap) {
                Some((_, n)) => *n += 1,
                None => got.push((heap.clone(), 1)),
            }
            if !p.heaps.contains(heap) {
                let range = b
                    .segments
                    .first()
                    .copied()
                    .unwrap_or(board::Range { base: 0, size: 0 });
                findings.push(ledger::Finding {
                    device: p.device.clone(),
                    rule: "heap-policy",
                    range,
                    buffer: b.label.clone(),
                    message: format!(
                        "{} {} came from {}, not a heap its policy allows ({})",
                        if b.scanout { "scanout" } else { "buffer" },
                        b.label,
                        if heap == "dumb" {
                            "no heap (a dumb buffer of the DRM driver)".to_string()
                        } else {
                            format!("heap {heap}")
                        },
                        p.heaps.join(", ")
                    ),
                });
            }
        }
        results.push(ledger::report::HeapPolicy {
            device: p.device.clone(),
            allowed: p.heaps.clone(),
            got,
            unattributed,
        });
    }
    (findings, results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use board::Range;

    fn buffer(device: &str, heap: Option<&str>, base: u64) -> Buffer {
        Buffer {
            device: device.into(),
            label: format!("blob resource {base:x}"),
            segments: vec![Range { base, size: 4096 }],
            heap: heap.map(String::from),
            scanout: false,
        }
    }

    #[test]
    fn heap_lists_split_into_the_boards_heaps() {
        let b = board::Board::from_dtb(&board_dtb()).expect("board");
        let p: Spec = "/display@9100000=display-cma@58000000,linux,cma,system,dumb"
            .parse()
            .unwrap();
        let p = p.resolve(&b).unwrap();
        assert_eq!(p.device, "/display@9100000");
        assert_eq!(
            p.heaps,
            ["display-cma@58000000", "linux,cma", "system", "dumb"]
        );
        let e = "/display@9100000=sytem"
            .parse::<Spec>()
            .unwrap()
            .resolve(&b)
            .unwrap_err();
        assert!(e.contains("no heap sytem"), "{e}");
        let e = "/nope=system"
            .parse::<Spec>()
            .unwrap()
            .resolve(&b)
            .unwrap_err();
        assert!(e.contains("no device node /nope"), "{e}");
        assert!("display=system".parse::<Spec>().is_err());
        assert!("/display@9100000=".parse::<Spec>().is_err());
        assert!("/display@9100000".parse::<Spec>().is_err());
    }

    fn board_dtb() -> Vec<u8> {
        let dts = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../device-trees/heap-soc.dts"
        );
        let out = std::process::Command::new("dtc")
            .args(["-I", "dts", "-O", "dtb", "-q", dts])
            .output()
            .expect("dtc");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn a_buffer_from_a_heap_the_policy_does_not_list_is_a_finding() {
        let p = Policy {
            device: "/gpu".into(),
            heaps: vec!["display-cma@58000000".into(), "default_cma_region".into()],
        };
        let known = [
            buffer("/gpu", Some("display-cma@58000000"), 0x5800_0000),
            buffer("/gpu", Some("system"), 0x4000_0000),
            buffer("/gpu", None, 0x4100_0000),
            buffer("/other", Some("system"), 0x4200_0000),
        ];
        let (findings, results) = check(&[p], &known);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, "heap-policy");
        assert_eq!(findings[0].range.base, 0x4000_0000);
        assert!(
            findings[0].message.contains("heap system"),
            "{}",
            findings[0].message
        );
        assert_eq!(
            results[0].got,
            [
                ("display-cma@58000000".to_string(), 1),
                ("system".to_string(), 1)
            ]
        );
        assert_eq!(results[0].unattributed, 1);
    }
}
