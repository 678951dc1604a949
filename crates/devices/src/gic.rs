//! The GIC for one PE without security extensions: the interrupt state and the CPU
//! interface logic shared by both versions, and the GICv3 register maps (distributor,
//! redistributor, ICC_* system registers) as Linux's irq-gic-v3 driver uses them. No
//! LPIs/ITS; GICv3 delivers group 1 only (Linux puts everything there). The GICv2
//! register maps (GICD, GICC) are in [`v2`].
//!
//! References: Arm GIC Architecture Specification v3/v4 (IHI 0069): 12.9 (GICD_*),
//! 12.10/12.11 (GICR_*), 12.2 (ICC_*), 4.8 (priority, running priority, preemption).
//! Priorities keep 5 bits (as GIC-600): the low three bits read as zero.

pub mod v2;
pub mod v3;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use v3::{GicdMmio, GicrMmio, IccReg};

/// Interrupt IDs above this are not implemented (spurious is 1023).
pub const SPURIOUS: u32 = 1023;
const PRIO_MASK: u8 = 0xf8;
const IDLE_PRIORITY: u16 = 0x100;

/// The shareable interrupt state; wrap it in `Rc<RefCell<..>>` to share between the bus
/// (GICD and GICR MMIO), the devices' [`crate::IrqLine`]s and the CPU's ICC_* accesses.
#[derive(Debug, Clone)]
pub struct Gic {
    /// GICv2 (memory-mapped CPU interface, no groups without security) or GICv3.
    pub(crate) v2: bool,
    nr_irqs: u32,
    mpidr: u64,
    gicd_ctlr: u32,
    group: Vec<bool>,
    enabled: Vec<bool>,
    /// Pending latch: edge events, software ISPENDR writes, SGIs.
    latched: Vec<bool>,
    /// The input line, for level-sensitive interrupts.
    level: Vec<bool>,
    active: Vec<bool>,
    edge: Vec<bool>,
    priority: Vec<u8>,
    route: Vec<u64>,
    grpmod: Vec<bool>,
    waker: u32,
    // CPU interface
    pmr: u8,
    bpr1: u8,
    eoi_mode: bool,
    cbpr: bool,
    igrpen0: bool,
    /// GICv3 ICC_IGRPEN1_EL1; on GICv2, GICC_CTLR's enable bits.
    igrpen1: bool,
    ap1r0: u32,
    /// GICv2 GICD_ITARGETSR for SPIs (one PE: stored, not used for delivery).
    targets: Vec<u8>,
    /// Priorities of acknowledged, not yet priority-dropped interrupts (innermost last).
    active_prios: Vec<(u32, u8)>,
    /// The PE's IRQ input, driven whenever the GIC's output can change (every register
    /// access, every input change), as a GIC drives its PE's nIRQ.
    irq_out: Option<Arc<AtomicBool>>,
    /// IAR reads that found nothing to acknowledge where the driver expects an interrupt
    /// (see [`Gic::spurious_acks`]).
    spurious: u64,
    /// Whether the last IAR read returned the spurious INTID.
    last_iar_spurious: bool,
}

fn bit(v: u32, i: u32) -> bool {
    (v >> i) & 1 != 0
}

impl Gic {
    /// A GIC with `spis` shared peripheral interrupts (rounded up to a multiple of 32, at
    /// most the 988 a GIC has) for the PE whose MPIDR is `mpidr`.
    pub fn new(spis: u32, mpidr: u64) -> Gic {
        let nr = (32 + spis.min(988).div_ceil(32) * 32).min(1020);
        let n = nr as usize;
        let mut edge = vec![false; n];
        edge[..16].fill(true); // SGIs are always edge-triggered.
        Gic {
            v2: false,
            nr_irqs: nr,
            mpidr,
            gicd_ctlr: 0,
            group: vec![false; n],
            enabled: vec![false; n],
            latched: vec![false; n],
            level: vec![false; n],
            active: vec![false; n],
            edge,
            priority: vec![0; n],
            route: vec![0; n],
            grpmod: vec![false; n],
            waker: 0b110,
            pmr: 0,
            bpr1: 3,
            eoi_mode: false,
            cbpr: false,
            igrpen0: false,
            igrpen1: false,
            ap1r0: 0,
            targets: vec![0; n],
            active_prios: Vec::new(),
            irq_out: None,
            spurious: 0,
            last_iar_spurious: true,
        }
    }

    /// Connects the PE's IRQ input: from now on the GIC drives it on every change.
    pub fn connect_cpu(&mut self, line: Arc<AtomicBool>) {
        self.irq_out = Some(line);
        self.update_output();
    }

    /// Drives the PE's IRQ input to the GIC's current output.
    pub fn update_output(&self) {
        if let Some(line) = &self.irq_out {
            line.store(self.irq_pending(), Ordering::Relaxed);
        }
    }

    /// IAR reads that found no interrupt to acknowledge although the PE had taken the IRQ
    /// exception for one: the PE was interrupted for nothing. GICv3's Linux driver reads
    /// ICC_IAR1 once per exception, so every spurious read counts; GICv2's reads GICC_IAR
    /// until it returns 1023, so there a spurious read counts only when it is the first
    /// read after the previous loop ended.
    pub fn spurious_acks(&self) -> u64 {
        self.spurious
    }

    /// A GICv2 (GIC-400 class) with `spis` SPIs.
    pub fn new_v2(spis: u32) -> Gic {
        Gic {
            v2: true,
            ..Gic::new(spis, 0)
        }
    }

    /// Number of interrupt IDs implemented (SGIs + PPIs + SPIs).
    pub fn nr_irqs(&self) -> u32 {
        self.nr_irqs
    }

    /// Drives the input of interrupt `intid` (a PPI or SPI): level-sensitive inputs are
    /// pending while asserted, edge-triggered ones latch on a rising edge.
    pub fn set_level(&mut self, intid: u32, asserted: bool) {
        let Some(i) = self.index(intid) else { return };
        if intid < 16 {
            return;
        }
        if self.edge[i] && asserted && !self.level[i] {
            self.latched[i] = true;
        }
        self.level[i] = asserted;
        self.update_output();
    }

    pub(crate) fn index(&self, intid: u32) -> Option<usize> {
        (intid < self.nr_irqs).then_some(intid as usize)
    }

    pub(crate) fn pending(&self, i: usize) -> bool {
        self.latched[i] || (!self.edge[i] && self.level[i])
    }

    /// Group priority under the binary point (IHI 0069 4.8.3): GICv3 group 1 uses
    /// ICC_BPR1 (group priority bits [7:BPR1]); GICv2 group 0 uses GICC_BPR (bits
    /// [7:BPR+1]).
    fn group_priority(&self, prio: u8) -> u16 {
        let shift = if self.v2 { self.bpr1 + 1 } else { self.bpr1 }.min(7);
        u16::from(prio & (0xffu8 << shift))
    }

    pub(crate) fn running_priority(&self) -> u16 {
        self.active_prios
            .iter()
            .map(|&(_, p)| u16::from(p))
            .min()
            .unwrap_or(IDLE_PRIORITY)
    }

    /// The highest-priority pending, enabled, group 1 interrupt that is not active.
    pub(crate) fn highest_pending(&self) -> Option<(u32, u8)> {
        // GICv3: EnableGrp1NS; GICv2 without security: Enable (both groups signal IRQ).
        let enabled = if self.v2 {
            self.gicd_ctlr & 3
        } else {
            self.gicd_ctlr & 2
        };
        if enabled == 0 {
            return None;
        }
        let mut best: Option<(u32, u8)> = None;
        for i in 0..self.nr_irqs as usize {
            let group_ok = self.v2 || self.group[i];
            if self.enabled[i] && group_ok && !self.active[i] && self.pending(i) {
                let p = self.priority[i];
                if best.is_none_or(|(_, bp)| p < bp) {
                    best = Some((i as u32, p));
                }
            }
        }
        best
    }

    fn deliverable(&self) -> Option<(u32, u8)> {
        let (intid, prio) = self.highest_pending()?;
        let ok =
            self.igrpen1 && prio < self.pmr && self.group_priority(prio) < self.running_priority();
        ok.then_some((intid, prio))
    }

    /// Whether the IRQ line to the PE is asserted.
    pub fn irq_pending(&self) -> bool {
        self.deliverable().is_some()
    }

    pub(crate) fn acknowledge(&mut self) -> u32 {
        let Some((intid, prio)) = self.deliverable() else {
            if !self.v2 || self.last_iar_spurious {
                self.spurious += 1;
            }
            self.last_iar_spurious = true;
            return SPURIOUS;
        };
        self.last_iar_spurious = false;
        let i = intid as usize;
        self.active[i] = true;
        self.latched[i] = false;
        self.active_prios.push((intid, prio));
        intid
    }

    pub(crate) fn drop_priority(&mut self, intid: u32) {
        // The highest active priority is dropped (IHI 0069 4.8.4); Linux EOIs in order.
        if let Some(pos) = self.active_prios.iter().rposition(|&(id, _)| id == intid) {
            self.active_prios.remove(pos);
        } else {
            self.active_prios.pop();
        }
    }

    pub(crate) fn deactivate(&mut self, intid: u32) {
        if let Some(i) = self.index(intid) {
            self.active[i] = false;
        }
    }

    fn bits_read(&self, v: &[bool], first: usize) -> u32 {
        (0..32).fold(0, |acc, b| {
            acc | (u32::from(v.get(first + b).copied().unwrap_or(false)) << b)
        })
    }

    /// Reads one 32-bit word of the bitmap/byte registers shared by GICD (SPIs) and
    /// GICR SGI_base (SGIs/PPIs); `first` is the first INTID the word covers.
    pub(crate) fn irq_reg_read(&self, base: u64, first: usize) -> u32 {
        match base {
            0x080 => self.bits_read(&self.group, first),
            0x100 | 0x180 => self.bits_read(&self.enabled, first),
            0x200 | 0x280 => (0..32).fold(0, |acc, b| {
                let i = first + b;
                acc | (u32::from(i < self.nr_irqs as usize && self.pending(i)) << b)
            }),
            0x300 | 0x380 => self.bits_read(&self.active, first),
            0xd00 => self.bits_read(&self.grpmod, first),
            _ => 0,
        }
    }

    pub(crate) fn irq_reg_write(&mut self, base: u64, first: usize, value: u32) {
        let n = self.nr_irqs as usize;
        for b in 0..32 {
            let i = first + b;
            if i >= n {
                break;
            }
            let set = bit(value, b as u32);
            match base {
                0x080 => self.group[i] = set,
                0x100 if set => self.enabled[i] = true,
                0x180 if set => self.enabled[i] = false,
                0x200 if set => self.latched[i] = true,
                0x280 if set => self.latched[i] = false,
                0x300 if set => self.active[i] = true,
                0x380 if set => self.active[i] = false,
                0xd00 => self.grpmod[i] = set,
                _ => {}
            }
        }
    }

    pub(crate) fn icfgr_read(&self, first: usize) -> u32 {
        (0..16).fold(0, |acc, k| {
            let e = self.edge.get(first + k).copied().unwrap_or(false);
            acc | (u32::from(e) << (2 * k + 1))
        })
    }

    pub(crate) fn icfgr_write(&mut self, first: usize, value: u32) {
        for k in 0..16 {
            let i = first + k;
            // SGIs are always edge; their configuration is read-only.
            if i >= 16 && i < self.nr_irqs as usize {
                self.edge[i] = bit(value, 2 * k as u32 + 1);
            }
        }
    }

    pub(crate) fn id_reg(offset: u64) -> Option<u32> {
        // PIDR4, PIDR5-7, PIDR0-3, CIDR0-3 (IHI 0069 12.1.3); PIDR2.ArchRev = 3.
        Some(match offset {
            0xffd0 => 0x44,
            0xffe0 => 0x92,
            0xffe4 => 0xb4,
            0xffe8 => 0x3b,
            0xfff0 => 0x0d,
            0xfff4 => 0xf0,
            0xfff8 => 0x05,
            0xfffc => 0xb1,
            0xffd4..=0xffec => 0,
            _ => return None,
        })
    }

    pub(crate) fn priority_bytes(&mut self, first: usize, data: &[u8], skip_below: usize) {
        for (k, &b) in data.iter().enumerate() {
            let i = first + k;
            if i >= skip_below && i < self.nr_irqs as usize {
                self.priority[i] = b & PRIO_MASK;
            }
        }
    }
}

/// Splits a 4- or 8-byte access into 32-bit register accesses; other sizes read as zero
/// and ignore writes (IHI 0069 12.1.4).
/// `reg(offset, Some(value))` writes, `reg(offset, None)` reads.
pub(crate) fn access_words(
    data: &mut [u8],
    off: u64,
    write: bool,
    mut reg: impl FnMut(u64, Option<u32>) -> u32,
) {
    if !(data.len() == 4 || data.len() == 8) || off % 4 != 0 {
        if !write {
            data.fill(0);
        }
        return;
    }
    for (k, chunk) in data.chunks_mut(4).enumerate() {
        let o = off + 4 * k as u64;
        if write {
            reg(
                o,
                Some(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
            );
        } else {
            chunk.copy_from_slice(&reg(o, None).to_le_bytes());
        }
    }
}

/// An interrupt input of the GIC, for a device model.
#[derive(Debug, Clone)]
pub struct GicIrq {
    pub gic: std::rc::Rc<std::cell::RefCell<Gic>>,
    pub intid: u32,
}

impl crate::IrqLine for GicIrq {
    fn set_level(&self, asserted: bool) {
        self.gic.borrow_mut().set_level(self.intid, asserted);
    }
}
