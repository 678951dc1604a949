//! `--inject`: memory errors put where the DMA ledger says a device's buffer is, when the
//! guest gets there, and what became of them.
//!
//! `KIND@TARGET[@when:EVENT]`
//! - KIND: `ce` / `ue` (what an ECC controller reports: correctable, uncorrectable; in a
//!   non-ECC bank one and two flipped bits) or `flip` (one bit flips, the DRAM upset ECC
//!   exists for: corrected and reported as a CE in an ECC bank, silent in a non-ECC one).
//! - TARGET: a guest-physical address; `buffer:NODE[#N][+OFF]`, the N-th buffer (from 1, in
//!   the order the device first read them; default the latest) the device NODE read by DMA;
//!   `heap:NAME[+OFF]`, the latest buffer a device got from the dma-buf heap NAME (the guest's
//!   display test says which heap each imported or scanned-out buffer came from). OFF is a
//!   byte offset into the buffer, default its middle (4-byte aligned).
//! - EVENT: `init` (the guest runs /init; the default for an address), `first-scanout` (a
//!   display scanned out for the first time), `import` (a device was handed a buffer for the
//!   first time), `exit` (the guest's tests are done, `HEAPSOC-EXIT:`), or a number: that
//!   many guest instructions. A buffer target without an event goes in as soon as the
//!   buffer exists.
//!
//! Everything is decided from the guest's state at the runner's looks (every 200 000
//! instructions while injections wait), so the same command line gives the same run.

use board::{Board, Range};
use ledger::{Direction, Purpose};

use crate::buffers::{buffers, Buffer};
use crate::cli::parse_u64 as number;

/// What goes wrong in the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ce,
    Ue,
    Flip,
}

/// Where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Addr(u64),
    Buffer {
        node: String,
        nth: Option<usize>,
        offset: Option<u64>,
    },
    Heap {
        name: String,
        offset: Option<u64>,
    },
}

/// When.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Init,
    FirstScanout,
    Import,
    Instructions(u64),
    /// The guest's tests are done (`HEAPSOC-EXIT:`): buffers are gone, nobody reads them.
    Exit,
    /// As soon as the target buffer exists.
    Ready,
}

/// One `--inject` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub kind: Kind,
    pub target: Target,
    pub when: When,
    /// As the user wrote it.
    pub text: String,
}

/// `REST[+OFF]`: the offset when what follows the last `+` is a number.
fn split_offset(s: &str) -> Result<(&str, Option<u64>), String> {
    match s.rsplit_once('+') {
        Some((head, off)) if off.starts_with(|c: char| c.is_ascii_digit()) => {
            Ok((head, Some(number(off)?)))
        }
        _ => Ok((s, None)),
    }
}

/// Parses `KIND@TARGET[@when:EVENT]`.
pub fn parse(s: &str) -> Result<Spec, String> {
    let usage = "expected KIND@TARGET[@when:EVENT]: KIND ce, ue or flip; TARGET an address, buffer:NODE[#N][+OFF] or heap:NAME[+OFF]; EVENT init, first-scanout, import, exit or an instruction count";
    let (kind, rest) = s.split_once('@').ok_or_else(|| format!("{s}: {usage}"))?;
    let kind = match kind {
        "ce" => Kind::Ce,
        "ue" => Kind::Ue,
        "flip" => Kind::Flip,
        other => {
            return Err(format!(
                "{s}: unknown error kind `{other}` (ce, ue or flip)"
            ))
        }
    };
    let (target, when) = match rest.rsplit_once("@when:") {
        Some((t, e)) => {
            let when = match e {
                "init" => When::Init,
                "first-scanout" => When::FirstScanout,
                "import" => When::Import,
                "exit" => When::Exit,
                n if n.starts_with(|c: char| c.is_ascii_digit()) => {
                    When::Instructions(number(n).map_err(|e| format!("{s}: {e}"))?)
                }
                other => {
                    return Err(format!(
                        "{s}: unknown event `{other}` (init, first-scanout, import, exit or an instruction count)"
                    ))
                }
            };
            (t, Some(when))
        }
        None => (rest, None),
    };
    let target = if let Some(b) = target.strip_prefix("buffer:") {
        let (b, offset) = split_offset(b).map_err(|e| format!("{s}: {e}"))?;
        let (node, nth) = match b.rsplit_once('#') {
            Some((node, n)) => {
                let n = number(n).map_err(|e| format!("{s}: buffer number {e}"))?;
                if n == 0 {
                    return Err(format!("{s}: buffers are numbered from 1"));
                }
                (node, Some(n as usize))
            }
            None => (b, None),
        };
        if !node.starts_with('/') {
            return Err(format!(
                "{s}: NODE is a DT node path, e.g. /display@9100000"
            ));
        }
        Target::Buffer {
            node: node.to_string(),
            nth,
            offset,
        }
    } else if let Some(h) = target.strip_prefix("heap:") {
        let (name, offset) = split_offset(h).map_err(|e| format!("{s}: {e}"))?;
        if name.is_empty() {
            return Err(format!("{s}: heap:NAME needs a heap name"));
        }
        Target::Heap {
            name: name.to_string(),
            offset,
        }
    } else {
        Target::Addr(number(target).map_err(|e| format!("{s}: {e}; {usage}"))?)
    };
    let when = when.unwrap_or(match target {
        Target::Addr(_) => When::Init,
        _ => When::Ready,
    });
    Ok(Spec {
        kind,
        target,
        when,
        text: s.to_string(),
    })
}

/// An injection that went in.
#[derive(Debug)]
struct Done {
    spec: Spec,
    addr: u64,
    /// Guest counter when it went in.
    time: u64,
    bank: String,
    ecc: bool,
    /// The buffer hit, if the target named one or the address lies in one.
    buffer: Option<Buffer>,
    /// One line on what happened then.
    outcome: String,
}

/// The injections of a run: waiting, then done.
#[derive(Debug, Default)]
pub struct Injector {
    pending: Vec<Spec>,
    done: Vec<Done>,
}

impl Injector {
    /// Checks what can be checked before the run: addresses in RAM, nodes in the DT.
    pub fn new(specs: &[Spec], board: &Board) -> Result<Injector, String> {
        for s in specs {
            match &s.target {
                Target::Addr(a) => {
                    if !board
                        .banks
                        .iter()
                        .any(|b| b.range.contains(&Range { base: *a, size: 1 }))
                    {
                        return Err(format!(
                            "--inject {}: 0x{a:x} is outside RAM (banks: {})",
                            s.text,
                            board
                                .banks
                                .iter()
                                .map(|b| format!("{} {}", b.name, b.range))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
                Target::Buffer { node, .. } => {
                    if !board.devices.iter().any(|d| &d.node == node) {
                        return Err(format!(
                            "--inject {}: the board has no device node {node}",
                            s.text
                        ));
                    }
                }
                Target::Heap { name, .. } => {
                    if !board.heaps.iter().any(|h| &h.name == name) {
                        return Err(format!(
                            "--inject {}: the board has no heap {name} (its heaps: {})",
                            s.text,
                            board
                                .heaps
                                .iter()
                                .map(|h| h.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
        }
        Ok(Injector {
            pending: specs.to_vec(),
            done: Vec::new(),
        })
    }

    /// The first injection that waits for an instruction count, as the user wrote it.
    pub fn by_count(&self) -> Option<&str> {
        self.pending
            .iter()
            .find(|s| matches!(s.when, When::Instructions(n) if n != u64::MAX))
            .map(|s| s.text.as_str())
    }

    /// Whether injections still wait (the runner looks more often then).
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Puts in every injection whose moment has come and whose target exists; prints a
    /// line for each.
    pub fn poll(&mut self, vm: &vmm::vm::Vm, board: &Board, console: &str) {
        if self.pending.is_empty() {
            return;
        }
        let ledger = vm.machine().dma.ledger.borrow();
        let happened = |w: When| match w {
            When::Init => console.contains("Run /init"),
            When::FirstScanout => ledger
                .records()
                .iter()
                .any(|r| r.purpose == Purpose::Scanout),
            When::Import => ledger
                .records()
                .iter()
                .any(|r| r.purpose == Purpose::Buffer && r.direction == Direction::Read),
            When::Instructions(n) => vm.instructions() >= n,
            When::Exit => console.contains(tap::EXIT_MARKER),
            When::Ready => true,
        };
        let due: Vec<usize> = (0..self.pending.len())
            .filter(|&i| happened(self.pending[i].when))
            .collect();
        if due.is_empty() {
            return;
        }
        let known = buffers(board, &ledger, console);
        drop(ledger);
        let mut still = Vec::new();
        for (i, spec) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            if !due.contains(&i) {
                still.push(spec);
                continue;
            }
            let (addr, buffer) = match &spec.target {
                Target::Addr(a) => {
                    let hit = known.iter().rev().find(|b| {
                        b.segments
                            .iter()
                            .any(|s| s.contains(&Range { base: *a, size: 1 }))
                    });
                    (*a, hit.cloned())
                }
                Target::Buffer { node, nth, offset } => {
                    let mine: Vec<&Buffer> = known.iter().filter(|b| &b.device == node).collect();
                    let pick = match nth {
                        Some(n) => mine.get(n - 1),
                        None => mine.last(),
                    };
                    let Some(b) = pick else {
                        still.push(spec);
                        continue;
                    };
                    match at(b, *offset) {
                        Some(a) => (a, Some((*b).clone())),
                        None => {
                            self.fail_later(spec, b);
                            continue;
                        }
                    }
                }
                Target::Heap { name, offset } => {
                    let Some(b) = known.iter().rev().find(|b| b.heap.as_deref() == Some(name))
                    else {
                        still.push(spec);
                        continue;
                    };
                    match at(b, *offset) {
                        Some(a) => (a, Some(b.clone())),
                        None => {
                            self.fail_later(spec, b);
                            continue;
                        }
                    }
                }
            };
            let kind = match spec.kind {
                Kind::Ue => devices::dmc520::EccError::Uncorrectable,
                Kind::Ce | Kind::Flip => devices::dmc520::EccError::Correctable,
            };
            let outcome = match vm.machine().inject_ecc(board, kind, addr) {
                vmm::machine::Injected::Reported { controller, .. } => {
                    format!("ECC: reported to the guest by {controller}")
                }
                vmm::machine::Injected::Unreported { .. } => {
                    "ECC: corrected, but no modelled controller reports it".to_string()
                }
                vmm::machine::Injected::Corrupted { .. } => format!(
                    "no ECC: {} flipped silently",
                    if spec.kind == Kind::Ue {
                        "two bits"
                    } else {
                        "one bit"
                    }
                ),
                vmm::machine::Injected::NotRam => "outside RAM: nothing happened".to_string(),
            };
            let bank = board.banks.iter().find(|b| {
                b.range.contains(&Range {
                    base: addr,
                    size: 1,
                })
            });
            let done = Done {
                addr,
                time: vm.counter(),
                bank: bank.map_or_else(|| "no bank".to_string(), |b| b.name.clone()),
                ecc: bank.is_some_and(|b| b.ecc.protected()),
                buffer,
                outcome,
                spec,
            };
            eprintln!(
                "heapsoc: inject {}: 0x{:x} in {} ({}) at {} instructions, in {}: {}",
                done.spec.text,
                done.addr,
                done.bank,
                if done.ecc { "ECC" } else { "non-ECC" },
                vm.instructions(),
                done.buffer
                    .as_ref()
                    .map_or_else(|| "no device buffer".to_string(), Buffer::describe),
                done.outcome
            );
            self.done.push(done);
        }
        self.pending = still;
    }

    fn fail_later(&mut self, spec: Spec, b: &Buffer) {
        eprintln!(
            "heapsoc: inject {}: the offset lies outside {}",
            spec.text,
            b.describe()
        );
        // Never injected: reported as such at the end.
        self.pending.push(Spec {
            when: When::Instructions(u64::MAX),
            ..spec
        });
    }

    /// What became of each injection, one line each, and the failures of the run (targets
    /// that never existed). `frame`: the display's last frame (mode), for pixel coordinates.
    pub fn consequences(
        &self,
        vm: &vmm::vm::Vm,
        board: &Board,
        map: &ledger::MemoryMap,
        console: &str,
    ) -> (Vec<String>, Vec<(String, String)>) {
        let mut lines = Vec::new();
        let mut failures = Vec::new();
        let edac: Vec<&str> = console
            .lines()
            .filter(|l| l.starts_with("EDAC MC"))
            .map(str::trim)
            .collect();
        let (mut ce_seen, mut ue_seen) = (0usize, 0usize);
        let ledger = vm.machine().dma.ledger.borrow();
        // The guest names a buffer's heap once it is shown (after the injection, maybe).
        let known = buffers(board, &ledger, console);
        for d in &self.done {
            let buffer = d.buffer.as_ref().map(|b| {
                let mut b = b.clone();
                if let Some(k) = known.iter().find(|k| {
                    k.device == b.device && k.label == b.label && k.segments == b.segments
                }) {
                    b.heap = b.heap.or(k.heap.clone());
                }
                b
            });
            let pool = map
                .place(Range {
                    base: d.addr,
                    size: 1,
                })
                .first()
                .and_then(|p| p.region)
                .map(|r| format!(", pool {}", map.regions[r].name))
                .unwrap_or_default();
            let what = match &buffer {
                Some(b) => format!("0x{:x} in {}{pool}", d.addr, b.describe()),
                None => format!("0x{:x} (no device buffer{pool})", d.addr),
            };
            let at = Range {
                base: d.addr,
                size: 1,
            };
            if d.ecc {
                let (needle, seen) = if d.spec.kind == Kind::Ue {
                    (" UE ", &mut ue_seen)
                } else {
                    (" CE ", &mut ce_seen)
                };
                let line = edac.iter().filter(|l| l.contains(needle)).nth(*seen);
                *seen += 1;
                lines.push(match line {
                    Some(l) => format!(
                        "inject {}: {what} in ECC bank {}: the guest's EDAC driver reported: {l}",
                        d.spec.text, d.bank
                    ),
                    None => format!(
                        "inject {}: {what} in ECC bank {}: {}; the guest's EDAC driver printed nothing for it",
                        d.spec.text, d.bank, d.outcome
                    ),
                });
                continue;
            }
            // Non-ECC: who read the bad bytes afterwards?
            let readers: Vec<&ledger::DmaRecord> = ledger
                .records()
                .iter()
                .filter(|r| {
                    r.direction == Direction::Read
                        && r.last_time > d.time
                        && r.segments.iter().any(|s| s.contains(&at))
                })
                .collect();
            if readers.is_empty() {
                lines.push(format!(
                    "inject {}: {what} in non-ECC bank {}: latent: no device read it afterwards (the guest's CPUs may have)",
                    d.spec.text, d.bank
                ));
                continue;
            }
            for r in readers {
                let mut line = format!(
                    "inject {}: {what} in non-ECC bank {}: corrupted data consumed by {} {} (last read at counter {})",
                    d.spec.text, d.bank, r.device, r.buffer, r.last_time
                );
                if r.purpose == Purpose::Scanout {
                    if let Some((x, y)) = pixel(vm, r, d.addr) {
                        line.push_str(&format!("; the display shows it at pixel ({x}, {y})"));
                    }
                }
                lines.push(line);
            }
        }
        for p in &self.pending {
            let why = match &p.target {
                Target::Addr(_) => "its moment never came".to_string(),
                Target::Buffer { node, nth, .. } => match nth {
                    Some(n) => format!("{node} never read a buffer #{n} by DMA"),
                    None => format!("{node} never read a buffer by DMA"),
                },
                Target::Heap { name, .. } => {
                    format!("no device got a buffer the guest said came from heap {name}")
                }
            };
            let when = match p.when {
                When::Instructions(u64::MAX) => "",
                When::FirstScanout => " (after the first scanout)",
                When::Import => " (after the first import)",
                When::Init => " (after /init)",
                When::Exit => " (after the guest's tests)",
                When::Instructions(_) => " (after the instruction count)",
                When::Ready => "",
            };
            failures.push((
                "inject".to_string(),
                format!("--inject {}: never injected: {why}{when}", p.text),
            ));
        }
        (lines, failures)
    }
}

/// The address `offset` (default: the middle, 4-byte aligned) into `b`.
fn at(b: &Buffer, offset: Option<u64>) -> Option<u64> {
    b.addr(offset.unwrap_or((b.bytes() / 2) & !3))
}

/// The pixel a scanout of `r` shows the byte at `addr` in, with the display's mode.
fn pixel(vm: &vmm::vm::Vm, r: &ledger::DmaRecord, addr: u64) -> Option<(u64, u64)> {
    let (mode, _) = vm.last_frame()?;
    let fb = r.segments.first()?;
    let offset = addr.checked_sub(fb.base)?;
    let pixel = offset * 8 / u64::from(mode.bits_per_pixel());
    let width = u64::from(mode.width);
    Some((pixel % width, pixel / width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_node_names_that_hold_at_signs() {
        let s = parse("flip@buffer:/display@9100000@when:first-scanout").unwrap();
        assert_eq!(s.kind, Kind::Flip);
        assert_eq!(
            s.target,
            Target::Buffer {
                node: "/display@9100000".into(),
                nth: None,
                offset: None
            }
        );
        assert_eq!(s.when, When::FirstScanout);
        let s = parse("ce@buffer:/virtio_mmio@a000000#2+0x10").unwrap();
        assert_eq!(
            s.target,
            Target::Buffer {
                node: "/virtio_mmio@a000000".into(),
                nth: Some(2),
                offset: Some(16)
            }
        );
        assert_eq!(s.when, When::Ready);
        let s = parse("ue@heap:default_cma_region@when:1_000_000").unwrap();
        assert_eq!(
            s.target,
            Target::Heap {
                name: "default_cma_region".into(),
                offset: None
            }
        );
        assert_eq!(s.when, When::Instructions(1_000_000));
        let s = parse("ce@heap:display-cma@58000000").unwrap();
        assert_eq!(
            s.target,
            Target::Heap {
                name: "display-cma@58000000".into(),
                offset: None
            }
        );
        let s = parse("ue@0x50000100").unwrap();
        assert_eq!((s.target, s.when), (Target::Addr(0x5000_0100), When::Init));
    }

    #[test]
    fn bad_specs_are_one_line_errors() {
        for (bad, says) in [
            ("zap@0x1", "unknown error kind"),
            ("flip", "expected KIND@TARGET"),
            ("ce@nowhere", "nowhere"),
            ("ce@buffer:display#1", "DT node path"),
            ("ce@buffer:/display@9100000#0", "numbered from 1"),
            ("ce@0x1@when:later", "unknown event `later`"),
            ("ce@heap:", "needs a heap name"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
    }

    #[test]
    fn buffer_addresses_walk_the_segments() {
        let b = Buffer {
            device: "/gpu".into(),
            label: "blob resource 1".into(),
            segments: vec![
                Range {
                    base: 0x1000,
                    size: 0x1000,
                },
                Range {
                    base: 0x8000,
                    size: 0x1000,
                },
            ],
            heap: Some("system".into()),
            scanout: false,
        };
        assert_eq!(at(&b, None), Some(0x8000));
        assert_eq!(at(&b, Some(0x10)), Some(0x1010));
        assert_eq!(at(&b, Some(0x1ffc)), Some(0x8ffc));
        assert_eq!(at(&b, Some(0x2000)), None);
    }
}
