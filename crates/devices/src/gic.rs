//! The GIC without security extensions, for one or more PEs: the interrupt state and the
//! CPU interface logic shared by both versions, and the GICv3 register maps (distributor,
//! one redistributor per PE, ICC_* system registers) as Linux's irq-gic-v3 driver uses
//! them. No LPIs/ITS; GICv3 delivers group 1 only (Linux puts everything there). The GICv2
//! register maps (GICD with its banked SGI/PPI registers, GICC) are in [`v2`].
//!
//! SGIs and PPIs (INTIDs 0-31) are banked: each PE has its own. SPIs go to the PE their
//! route names (GICv3 GICD_IROUTER affinity, or any PE with Interrupt_Routing_Mode; GICv2
//! GICD_ITARGETSR bits). Accesses that the architecture banks by the accessing PE (ICC_*,
//! GICC, the GICv2 distributor's SGI/PPI words) act on the *current* PE, which the machine
//! sets before it runs each PE ([`Gic::set_current_pe`]); redistributor frames select
//! their PE by address.
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
/// GICv2 has at most 8 CPU interfaces.
pub const V2_MAX_PES: usize = 8;

/// One interrupt's state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Irq {
    group: bool,
    enabled: bool,
    /// Pending latch: edge events, software ISPENDR writes, SGIs.
    latched: bool,
    /// The input line, for level-sensitive interrupts.
    level: bool,
    active: bool,
    edge: bool,
    priority: u8,
    grpmod: bool,
}

impl Irq {
    fn pending(&self) -> bool {
        self.latched || (!self.edge && self.level)
    }
}

/// One PE's banked interrupts and CPU interface.
#[derive(Debug, Clone)]
pub(crate) struct Pe {
    mpidr: u64,
    private: [Irq; 32],
    /// GICv2: for each SGI, the CPU interfaces that sent it and are still pending.
    sgi_sources: [u8; 16],
    /// GICR_WAKER.
    waker: u32,
    pmr: u8,
    bpr1: u8,
    eoi_mode: bool,
    cbpr: bool,
    igrpen0: bool,
    /// GICv3 ICC_IGRPEN1_EL1; on GICv2, GICC_CTLR's enable bits.
    igrpen1: bool,
    ap1r0: u32,
    /// Priorities of acknowledged, not yet priority-dropped interrupts (innermost last).
    active_prios: Vec<(u32, u8)>,
    /// The PE's IRQ input, driven whenever the GIC's output can change (every register
    /// access, every input change), as a GIC drives its PE's nIRQ.
    irq_out: Option<Arc<AtomicBool>>,
    /// IAR reads that found nothing to acknowledge where the driver expects an interrupt.
    spurious: u64,
    /// Whether the last IAR read returned the spurious INTID.
    last_iar_spurious: bool,
}

impl Pe {
    fn new(mpidr: u64) -> Pe {
        let mut private = [Irq::default(); 32];
        for sgi in &mut private[..16] {
            sgi.edge = true; // SGIs are always edge-triggered.
        }
        Pe {
            mpidr,
            private,
            sgi_sources: [0; 16],
            waker: 0b110,
            pmr: 0,
            bpr1: 3,
            eoi_mode: false,
            cbpr: false,
            igrpen0: false,
            igrpen1: false,
            ap1r0: 0,
            active_prios: Vec::new(),
            irq_out: None,
            spurious: 0,
            last_iar_spurious: true,
        }
    }
}

/// The shareable interrupt state; wrap it in `Rc<RefCell<..>>` to share between the bus
/// (GICD, GICR, GICC MMIO), the devices' [`crate::IrqLine`]s and the CPUs' ICC_* accesses.
#[derive(Debug, Clone)]
pub struct Gic {
    /// GICv2 (memory-mapped CPU interface, no groups without security) or GICv3.
    pub(crate) v2: bool,
    nr_irqs: u32,
    gicd_ctlr: u32,
    /// INTIDs 32 and up.
    spis: Vec<Irq>,
    /// GICv3 GICD_IROUTER for each SPI (index INTID - 32).
    route: Vec<u64>,
    /// GICv2 GICD_ITARGETSR for each SPI (index INTID - 32).
    targets: Vec<u8>,
    pes: Vec<Pe>,
    /// The PE whose banked view ICC_*, GICC and GICv2's banked GICD words show.
    cur: usize,
}

fn bit(v: u32, i: u32) -> bool {
    (v >> i) & 1 != 0
}

/// MPIDR affinity fields Aff3.Aff2.Aff1.Aff0 as GICD_IROUTER and ICC_SGI1R compare them.
fn affinity(mpidr: u64) -> u64 {
    mpidr & 0xff_00ff_ffff
}

impl Gic {
    /// A GICv3 with `spis` shared peripheral interrupts (rounded up to a multiple of 32,
    /// at most the 988 a GIC has) for the PE whose MPIDR is `mpidr`.
    pub fn new(spis: u32, mpidr: u64) -> Gic {
        Gic::with_pes(spis, &[mpidr], false)
    }

    /// A GICv2 (GIC-400 class) with `spis` SPIs and one CPU interface.
    pub fn new_v2(spis: u32) -> Gic {
        Gic::with_pes(spis, &[0], true)
    }

    /// A GIC for the PEs with MPIDRs `mpidrs` (PE `k` is redistributor `k`, or GICv2 CPU
    /// interface `k`); at least one PE.
    pub fn with_pes(spis: u32, mpidrs: &[u64], v2: bool) -> Gic {
        let nr = (32 + spis.min(988).div_ceil(32) * 32).min(1020);
        let n = (nr - 32) as usize;
        let mpidrs = if mpidrs.is_empty() { &[0][..] } else { mpidrs };
        Gic {
            v2,
            nr_irqs: nr,
            gicd_ctlr: 0,
            spis: vec![Irq::default(); n],
            route: vec![0; n],
            targets: vec![0; n],
            pes: mpidrs.iter().map(|&m| Pe::new(m)).collect(),
            cur: 0,
        }
    }

    /// Number of interrupt IDs implemented (SGIs + PPIs + SPIs).
    pub fn nr_irqs(&self) -> u32 {
        self.nr_irqs
    }

    /// Number of PEs (redistributors, or GICv2 CPU interfaces).
    pub fn pe_count(&self) -> usize {
        self.pes.len()
    }

    /// Makes PE `pe` the one whose banked registers the ICC_*, GICC and GICv2 distributor
    /// accesses reach (the machine runs one PE at a time and sets it before each).
    pub fn set_current_pe(&mut self, pe: usize) {
        if pe < self.pes.len() {
            self.cur = pe;
        }
    }

    /// The PE the banked accesses reach.
    pub fn current_pe(&self) -> usize {
        self.cur
    }

    /// Connects PE 0's IRQ input: from now on the GIC drives it on every change.
    pub fn connect_cpu(&mut self, line: Arc<AtomicBool>) {
        self.connect_pe(0, line);
    }

    /// Connects PE `pe`'s IRQ input.
    pub fn connect_pe(&mut self, pe: usize, line: Arc<AtomicBool>) {
        if let Some(p) = self.pes.get_mut(pe) {
            p.irq_out = Some(line);
        }
        self.update_output();
    }

    /// Drives every PE's IRQ input to the GIC's current output for it.
    pub fn update_output(&self) {
        for (k, p) in self.pes.iter().enumerate() {
            if let Some(line) = &p.irq_out {
                line.store(self.irq_pending_for(k), Ordering::Relaxed);
            }
        }
    }

    /// IAR reads that found no interrupt to acknowledge although the PE had taken the IRQ
    /// exception for one, over all PEs: the PE was interrupted for nothing. GICv3's Linux
    /// driver reads ICC_IAR1 once per exception, so every spurious read counts; GICv2's
    /// reads GICC_IAR until it returns 1023, so there a spurious read counts only when it
    /// is the first read after the previous loop ended.
    pub fn spurious_acks(&self) -> u64 {
        self.pes.iter().map(|p| p.spurious).sum()
    }

    /// Drives the input of SPI `intid` (or, for a PPI, PE 0's): level-sensitive inputs
    /// are pending while asserted, edge-triggered ones latch on a rising edge.
    pub fn set_level(&mut self, intid: u32, asserted: bool) {
        self.set_ppi_level(0, intid, asserted);
    }

    /// Drives the input of interrupt `intid` on PE `pe` (PPIs are per PE; an SPI is the
    /// same input whichever PE is named).
    pub fn set_ppi_level(&mut self, pe: usize, intid: u32, asserted: bool) {
        if intid < 16 {
            return;
        }
        let Some(irq) = self.irq_mut(pe, intid) else {
            return;
        };
        if irq.edge && asserted && !irq.level {
            irq.latched = true;
        }
        irq.level = asserted;
        self.update_output();
    }

    /// The state of interrupt `intid` as PE `pe` sees it.
    pub(crate) fn irq(&self, pe: usize, intid: u32) -> Option<&Irq> {
        if intid < 32 {
            self.pes.get(pe)?.private.get(intid as usize)
        } else {
            self.spis.get((intid - 32) as usize)
        }
    }

    pub(crate) fn irq_mut(&mut self, pe: usize, intid: u32) -> Option<&mut Irq> {
        if intid < 32 {
            self.pes.get_mut(pe)?.private.get_mut(intid as usize)
        } else {
            self.spis.get_mut((intid - 32) as usize)
        }
    }

    /// Whether SPI `intid` is routed to PE `pe`.
    fn routed_to(&self, intid: u32, pe: usize) -> bool {
        let i = (intid - 32) as usize;
        if self.v2 {
            return pe < 8 && self.targets.get(i).is_some_and(|t| t & (1 << pe) != 0);
        }
        let route = self.route.get(i).copied().unwrap_or(0);
        if route & (1 << 31) != 0 {
            // Interrupt_Routing_Mode: any PE that takes group 1; the lowest-numbered one,
            // so that the choice is deterministic.
            return self.pes.iter().position(|p| p.igrpen1) == Some(pe);
        }
        self.pes
            .get(pe)
            .is_some_and(|p| affinity(p.mpidr) == affinity(route))
    }

    /// Group priority under the binary point (IHI 0069 4.8.3): GICv3 group 1 uses
    /// ICC_BPR1 (group priority bits [7:BPR1]); GICv2 group 0 uses GICC_BPR (bits
    /// [7:BPR+1]).
    fn group_priority(&self, pe: &Pe, prio: u8) -> u16 {
        let shift = if self.v2 { pe.bpr1 + 1 } else { pe.bpr1 }.min(7);
        u16::from(prio & (0xffu8 << shift))
    }

    pub(crate) fn running_priority(&self, pe: usize) -> u16 {
        self.pes.get(pe).map_or(IDLE_PRIORITY, |p| {
            p.active_prios
                .iter()
                .map(|&(_, p)| u16::from(p))
                .min()
                .unwrap_or(IDLE_PRIORITY)
        })
    }

    /// The highest-priority pending, enabled, group 1 interrupt for PE `pe` that is not
    /// active.
    pub(crate) fn highest_pending(&self, pe: usize) -> Option<(u32, u8)> {
        // GICv3: EnableGrp1NS; GICv2 without security: Enable (both groups signal IRQ).
        let enabled = if self.v2 {
            self.gicd_ctlr & 3
        } else {
            self.gicd_ctlr & 2
        };
        let p = self.pes.get(pe)?;
        if enabled == 0 {
            return None;
        }
        let candidate =
            |irq: &Irq| irq.enabled && (self.v2 || irq.group) && !irq.active && irq.pending();
        let mut best: Option<(u32, u8)> = None;
        let mut consider = |intid: u32, prio: u8| {
            if best.is_none_or(|(_, bp)| prio < bp) {
                best = Some((intid, prio));
            }
        };
        for (i, irq) in p.private.iter().enumerate() {
            if candidate(irq) {
                consider(i as u32, irq.priority);
            }
        }
        for (k, irq) in self.spis.iter().enumerate() {
            let intid = k as u32 + 32;
            if candidate(irq) && self.routed_to(intid, pe) {
                consider(intid, irq.priority);
            }
        }
        best
    }

    fn deliverable(&self, pe: usize) -> Option<(u32, u8)> {
        let (intid, prio) = self.highest_pending(pe)?;
        let p = self.pes.get(pe)?;
        let ok =
            p.igrpen1 && prio < p.pmr && self.group_priority(p, prio) < self.running_priority(pe);
        ok.then_some((intid, prio))
    }

    /// Whether PE 0's IRQ line is asserted.
    pub fn irq_pending(&self) -> bool {
        self.irq_pending_for(0)
    }

    /// Whether PE `pe`'s IRQ line is asserted.
    pub fn irq_pending_for(&self, pe: usize) -> bool {
        self.deliverable(pe).is_some()
    }

    /// An IAR read by PE `pe`: the INTID (for a GICv2 SGI with the source CPU in [12:10]).
    pub(crate) fn acknowledge(&mut self, pe: usize) -> u32 {
        let v2 = self.v2;
        let Some((intid, prio)) = self.deliverable(pe) else {
            if let Some(p) = self.pes.get_mut(pe) {
                if !v2 || p.last_iar_spurious {
                    p.spurious += 1;
                }
                p.last_iar_spurious = true;
            }
            return SPURIOUS;
        };
        let mut source = 0u32;
        if let Some(p) = self.pes.get_mut(pe) {
            p.last_iar_spurious = false;
            p.active_prios.push((intid, prio));
            if v2 && intid < 16 {
                // The lowest-numbered source; the SGI stays pending for the others.
                let s = &mut p.sgi_sources[intid as usize];
                source = s.trailing_zeros().min(7);
                *s &= !(1 << source);
                if *s != 0 {
                    p.private[intid as usize].active = true;
                    return intid | (source << 10);
                }
            }
        }
        if let Some(irq) = self.irq_mut(pe, intid) {
            irq.active = true;
            irq.latched = false;
        }
        intid | (source << 10)
    }

    pub(crate) fn drop_priority(&mut self, pe: usize, intid: u32) {
        // The highest active priority is dropped (IHI 0069 4.8.4); Linux EOIs in order.
        if let Some(p) = self.pes.get_mut(pe) {
            if let Some(pos) = p.active_prios.iter().rposition(|&(id, _)| id == intid) {
                p.active_prios.remove(pos);
            } else {
                p.active_prios.pop();
            }
        }
    }

    pub(crate) fn deactivate(&mut self, pe: usize, intid: u32) {
        if let Some(irq) = self.irq_mut(pe, intid) {
            irq.active = false;
        }
    }

    /// Marks SGI `intid` pending on PE `target`, sent by PE `source`.
    pub(crate) fn raise_sgi(&mut self, target: usize, intid: u32, source: usize) {
        if let Some(p) = self.pes.get_mut(target) {
            let i = (intid & 0xf) as usize;
            p.private[i].latched = true;
            p.sgi_sources[i] |= 1 << source.min(7);
        }
    }

    fn bits_read(&self, pe: usize, first: u32, f: impl Fn(&Irq) -> bool) -> u32 {
        (0..32).fold(0, |acc, b| {
            acc | (u32::from(self.irq(pe, first + b).is_some_and(&f)) << b)
        })
    }

    /// Reads one 32-bit word of the bitmap registers shared by GICD (SPIs) and GICR
    /// SGI_base (SGIs/PPIs), as PE `pe` sees them; `first` is the first INTID the word
    /// covers.
    pub(crate) fn irq_reg_read(&self, pe: usize, base: u64, first: u32) -> u32 {
        match base {
            0x080 => self.bits_read(pe, first, |i| i.group),
            0x100 | 0x180 => self.bits_read(pe, first, |i| i.enabled),
            0x200 | 0x280 => self.bits_read(pe, first, Irq::pending),
            0x300 | 0x380 => self.bits_read(pe, first, |i| i.active),
            0xd00 => self.bits_read(pe, first, |i| i.grpmod),
            _ => 0,
        }
    }

    pub(crate) fn irq_reg_write(&mut self, pe: usize, base: u64, first: u32, value: u32) {
        for b in 0..32 {
            let set = bit(value, b);
            let Some(irq) = self.irq_mut(pe, first + b) else {
                break;
            };
            match base {
                0x080 => irq.group = set,
                0x100 if set => irq.enabled = true,
                0x180 if set => irq.enabled = false,
                0x200 if set => irq.latched = true,
                0x280 if set => irq.latched = false,
                0x300 if set => irq.active = true,
                0x380 if set => irq.active = false,
                0xd00 => irq.grpmod = set,
                _ => {}
            }
        }
    }

    pub(crate) fn icfgr_read(&self, pe: usize, first: u32) -> u32 {
        (0..16).fold(0, |acc, k| {
            let e = self.irq(pe, first + k).is_some_and(|i| i.edge);
            acc | (u32::from(e) << (2 * k + 1))
        })
    }

    pub(crate) fn icfgr_write(&mut self, pe: usize, first: u32, value: u32) {
        for k in 0..16 {
            let i = first + k;
            // SGIs are always edge; their configuration is read-only.
            if i >= 16 {
                if let Some(irq) = self.irq_mut(pe, i) {
                    irq.edge = bit(value, 2 * k + 1);
                }
            }
        }
    }

    pub(crate) fn priority_of(&self, pe: usize, intid: u32) -> u8 {
        self.irq(pe, intid).map_or(0, |i| i.priority)
    }

    pub(crate) fn priority_bytes(&mut self, pe: usize, first: u32, data: &[u8], skip_below: u32) {
        for (k, &b) in data.iter().enumerate() {
            let i = first + k as u32;
            if i >= skip_below {
                if let Some(irq) = self.irq_mut(pe, i) {
                    irq.priority = b & PRIO_MASK;
                }
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
