//! The rules a run is judged by (design brief, section 5).

use std::str::FromStr;

use board::{Board, Range, ReservedKind};
use serde::Serialize;

use crate::map::MemoryMap;
use crate::{DmaRecord, Ledger, Purpose};

/// What a user may demand of a device with `--expect NODE=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    /// Every byte it touches is in an ECC bank.
    Ecc,
    /// Every byte it touches is in a non-ECC bank.
    NonEcc,
    /// Every buffer it is given is physically contiguous.
    Contiguous,
}

/// `--expect NODE=ecc|non-ecc|contiguous`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub device: String,
    pub expect: Expectation,
}

impl FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Rule, String> {
        let (device, what) = s
            .rsplit_once('=')
            .ok_or_else(|| format!("{s}: expected NODE=ecc|non-ecc|contiguous"))?;
        let expect = match what {
            "ecc" => Expectation::Ecc,
            "non-ecc" => Expectation::NonEcc,
            "contiguous" => Expectation::Contiguous,
            other => {
                return Err(format!(
                    "{s}: unknown expectation `{other}` (ecc, non-ecc, contiguous)"
                ))
            }
        };
        Ok(Rule {
            device: device.to_string(),
            expect,
        })
    }
}

/// A broken rule, naming the device, the address and what it hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub device: String,
    /// `outside-ram`, `outside-pools`, `carveout`, `scanout-not-contiguous`,
    /// `scanout-spans-banks`, `expect-ecc`, `expect-non-ecc`, `expect-contiguous`.
    pub rule: &'static str,
    pub range: Range,
    pub buffer: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} [{}]", self.device, self.message, self.rule)
    }
}

fn finding(rec: &DmaRecord, rule: &'static str, range: Range, message: String) -> Finding {
    Finding {
        device: rec.device.clone(),
        rule,
        range,
        buffer: rec.buffer.clone(),
        message,
    }
}

/// Judges every record of `ledger`.
pub fn evaluate(board: &Board, map: &MemoryMap, ledger: &Ledger, rules: &[Rule]) -> Vec<Finding> {
    let mut out = Vec::new();
    for rec in ledger.records() {
        let pools: Vec<usize> = board
            .device(&rec.device)
            .map(|d| {
                d.memory_regions
                    .iter()
                    .filter_map(|p| map.regions.iter().position(|r| &r.node == p))
                    .collect()
            })
            .unwrap_or_default();
        let expects: Vec<Expectation> = rules
            .iter()
            .filter(|r| r.device == rec.device)
            .map(|r| r.expect)
            .collect();
        for seg in &rec.segments {
            for place in map.place(*seg) {
                let Some(bank) = place.bank else {
                    out.push(finding(
                        rec,
                        "outside-ram",
                        place.range,
                        format!("{} {} is outside every RAM bank", rec.buffer, place.range),
                    ));
                    continue;
                };
                let bank = &map.banks[bank];
                if !pools.is_empty() && !place.region.is_some_and(|r| pools.contains(&r)) {
                    let names: Vec<&str> = pools
                        .iter()
                        .map(|&p| map.regions[p].name.as_str())
                        .collect();
                    out.push(finding(
                        rec,
                        "outside-pools",
                        place.range,
                        format!(
                            "{} {} is outside its memory-region pool(s) {}",
                            rec.buffer,
                            place.range,
                            names.join(", ")
                        ),
                    ));
                }
                if let Some(r) = place.region.map(|r| &map.regions[r]) {
                    if r.kind == ReservedKind::Carveout
                        && !r.heap
                        && !r.owners.contains(&rec.device)
                    {
                        out.push(finding(
                            rec,
                            "carveout",
                            place.range,
                            format!(
                                "{} {} is inside the no-map carveout {}",
                                rec.buffer, place.range, r.name
                            ),
                        ));
                    }
                }
                for e in &expects {
                    let ecc = bank.ecc.protected();
                    let bad = match e {
                        Expectation::Ecc => (!ecc).then_some(("expect-ecc", "non-ECC")),
                        Expectation::NonEcc => ecc.then_some(("expect-non-ecc", "ECC")),
                        Expectation::Contiguous => None,
                    };
                    if let Some((rule, what)) = bad {
                        out.push(finding(
                            rec,
                            rule,
                            place.range,
                            format!(
                                "{} {} is in {what} bank {}",
                                rec.buffer, place.range, bank.name
                            ),
                        ));
                    }
                }
            }
        }
        let whole = Range {
            base: rec.segments.first().map_or(0, |s| s.base),
            size: rec.bytes(),
        };
        let contiguity_required = rec.purpose == Purpose::Scanout
            || (rec.purpose == Purpose::Buffer && expects.contains(&Expectation::Contiguous));
        if contiguity_required && !rec.contiguous() {
            let rule = if rec.purpose == Purpose::Scanout {
                "scanout-not-contiguous"
            } else {
                "expect-contiguous"
            };
            out.push(finding(
                rec,
                rule,
                whole,
                format!(
                    "{} is {} segments, not one contiguous range",
                    rec.buffer,
                    rec.segments.len()
                ),
            ));
        } else if rec.purpose == Purpose::Scanout
            && map.banks.iter().all(|b| !b.range.contains(&whole))
        {
            out.push(finding(
                rec,
                "scanout-spans-banks",
                whole,
                format!("{} {whole} is not inside one bank", rec.buffer),
            ));
        }
    }
    out.dedup();
    out
}
