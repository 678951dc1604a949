//! The buffers devices read by DMA, as the ledger records them, and the dma-buf heap each
//! came from, as the guest's display test names it (`heapsoc-display:` lines for imports,
//! `heapsoc-scanout:` lines for frames shown): what `--inject` targets and what
//! `--heap-policy` judges.

use board::{Board, Range};
use ledger::{Direction, Purpose};

/// A buffer a device read by DMA, as the ledger and the guest's test lines know it.
#[derive(Debug, Clone)]
pub struct Buffer {
    pub device: String,
    /// The device's name for it (`framebuffer`, `blob resource 3`).
    pub label: String,
    pub segments: Vec<Range>,
    /// The dma-buf heap it came from, when the guest said (`dumb` for a dumb buffer).
    pub heap: Option<String>,
    pub scanout: bool,
}

impl Buffer {
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    /// The guest-physical address `offset` bytes into the buffer.
    pub fn addr(&self, offset: u64) -> Option<u64> {
        let mut left = offset;
        for s in &self.segments {
            if left < s.size {
                return Some(s.base + left);
            }
            left -= s.size;
        }
        None
    }

    pub fn describe(&self) -> String {
        let heap = match self.heap.as_deref() {
            Some("dumb") => "a dumb buffer (no heap)".to_string(),
            Some(h) => format!("heap {h}"),
            None => "heap not named by the guest (yet)".to_string(),
        };
        format!(
            "{} {} ({} bytes at 0x{:x}, {heap})",
            self.device,
            self.label,
            self.bytes(),
            self.segments.first().map_or(0, |s| s.base)
        )
    }
}

/// `(heap, size)` of each buffer the guest handed the DRM driver `driver`, in order, from
/// its display test's `KEY: device=.. heap=.. size=..` lines (`import=ok` ones when
/// `imports_only`).
pub fn guest_lines(
    console: &str,
    key: &str,
    driver: &str,
    imports_only: bool,
) -> Vec<(String, u64)> {
    console
        .lines()
        .filter_map(|l| l.split(key).nth(1))
        .filter_map(|fields| {
            let get = |k: &str| {
                fields
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
            };
            (get("device")? == driver && (!imports_only || get("import")? == "ok"))
                .then(|| Some((get("heap")?.to_string(), get("size")?.parse().ok()?)))?
        })
        .collect()
}

/// Every buffer devices read so far, in the order they first did, with the heaps the
/// guest's display test names: virtio-gpu imports (`heapsoc-display: ... import=ok`) and
/// display scanouts (`heapsoc-scanout:`), each matched to the next buffer of its size.
pub fn buffers(board: &Board, ledger: &ledger::Ledger, console: &str) -> Vec<Buffer> {
    let mut out: Vec<Buffer> = Vec::new();
    for r in ledger.records() {
        if r.direction != Direction::Read || r.purpose == Purpose::Control {
            continue;
        }
        if out
            .iter()
            .any(|b| b.device == r.device && b.label == r.buffer && b.segments == r.segments)
        {
            continue;
        }
        out.push(Buffer {
            device: r.device.clone(),
            label: r.buffer.clone(),
            segments: r.segments.clone(),
            heap: None,
            scanout: r.purpose == Purpose::Scanout,
        });
    }
    for d in &board.devices {
        let (driver, key, imports_only, scanout) = if d.compatible.iter().any(|c| c == "arm,pl111")
        {
            ("pl111", "heapsoc-scanout: ", false, true)
        } else if d.compatible.iter().any(|c| c == "virtio,mmio") {
            ("virtio_gpu", "heapsoc-display: ", true, false)
        } else {
            continue;
        };
        let mut next = 0usize;
        let mine: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].device == d.node && out[i].scanout == scanout)
            .collect();
        for (heap, size) in guest_lines(console, key, driver, imports_only) {
            let Some(k) = mine[next.min(mine.len())..]
                .iter()
                .position(|&i| out[i].bytes() == size)
            else {
                continue;
            };
            out[mine[next + k]].heap = Some(heap);
            next += k + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_lines_name_the_heap_of_each_buffer() {
        let console = "# heapsoc-display: device=virtio_gpu card=card1 heap=system size=4096 width=32 height=32 tag=1 fb=3 import=ok result=ok\n\
                       # heapsoc-display: device=virtio_gpu card=card1 heap=linux,cma size=4096 width=32 height=32 tag=2 fb=0 import=EINVAL result=refused\n\
                       # heapsoc-scanout: device=pl111 card=card2 heap=dumb size=3145728 width=1024 height=768 tag=9 fb=4 crtc=1 connector=2 hold_ms=400 pattern=bars+tag\n";
        assert_eq!(
            guest_lines(console, "heapsoc-display: ", "virtio_gpu", true),
            vec![("system".to_string(), 4096)]
        );
        assert_eq!(
            guest_lines(console, "heapsoc-scanout: ", "pl111", false),
            vec![("dumb".to_string(), 3_145_728)]
        );
    }
}
