//! GICv3 register maps: the distributor (GICD, with affinity routing: SGIs and PPIs live in
//! the redistributors), one redistributor per PE (GICR: RD_base and SGI_base frames, the
//! WAKER handshake) and the ICC_* system-register CPU interface, as irq-gic-v3 uses them.
//! Reference: Arm GIC Architecture Specification v3/v4 (IHI 0069), 12.9-12.11 and 12.2.

use super::{access_words, Gic, PRIO_MASK, SPURIOUS};
use crate::bus::MmioDevice;

/// The ICC_* registers, named by their MRS/MSR encoding (op0 = 3, op1 = 0, CRn, CRm, op2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IccReg {
    Pmr,
    Iar0,
    Eoir0,
    Hppir0,
    Bpr0,
    Ap0r(u8),
    Ap1r(u8),
    Dir,
    Rpr,
    Sgi1r,
    Asgi1r,
    Sgi0r,
    Iar1,
    Eoir1,
    Hppir1,
    Bpr1,
    Ctlr,
    Sre,
    Igrpen0,
    Igrpen1,
}

impl IccReg {
    /// The register an MRS/MSR encoding names, if it is an ICC_*_EL1 register.
    pub fn from_encoding(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> Option<IccReg> {
        use IccReg::*;
        if op0 != 3 || op1 != 0 {
            return None;
        }
        Some(match (crn, crm, op2) {
            (4, 6, 0) => Pmr,
            (12, 8, 0) => Iar0,
            (12, 8, 1) => Eoir0,
            (12, 8, 2) => Hppir0,
            (12, 8, 3) => Bpr0,
            (12, 8, n @ 4..=7) => Ap0r(n - 4),
            (12, 9, n @ 0..=3) => Ap1r(n),
            (12, 11, 1) => Dir,
            (12, 11, 3) => Rpr,
            (12, 11, 5) => Sgi1r,
            (12, 11, 6) => Asgi1r,
            (12, 11, 7) => Sgi0r,
            (12, 12, 0) => Iar1,
            (12, 12, 1) => Eoir1,
            (12, 12, 2) => Hppir1,
            (12, 12, 3) => Bpr1,
            (12, 12, 4) => Ctlr,
            (12, 12, 5) => Sre,
            (12, 12, 6) => Igrpen0,
            (12, 12, 7) => Igrpen1,
            _ => return None,
        })
    }
}

impl Gic {
    /// MRS of an ICC_* register by the current PE (an IAR read changes the GIC's output).
    pub fn icc_read(&mut self, reg: IccReg) -> u64 {
        let v = self.icc_read_reg(reg);
        self.update_output();
        v
    }

    fn icc_read_reg(&mut self, reg: IccReg) -> u64 {
        use IccReg::*;
        let pe = self.cur;
        if reg == Iar1 {
            return u64::from(self.acknowledge(pe));
        }
        if reg == Hppir1 {
            return u64::from(self.highest_pending(pe).map_or(SPURIOUS, |(id, _)| id));
        }
        if reg == Rpr {
            return u64::from(self.running_priority(pe).min(0xff) as u8);
        }
        let p = &self.pes[pe];
        match reg {
            Pmr => u64::from(p.pmr),
            Iar0 | Hppir0 => u64::from(SPURIOUS),
            Bpr0 => 0,
            Bpr1 => u64::from(p.bpr1),
            Ap1r(0) => u64::from(p.ap1r0),
            // PRIbits = 4 (5 bits), IDbits = 0 (16-bit INTIDs), A3V = 1.
            Ctlr => (1 << 15) | (4 << 8) | (u64::from(p.eoi_mode) << 1) | u64::from(p.cbpr),
            // SRE, DFB, DIB: the system-register interface is always on.
            Sre => 0x7,
            Igrpen0 => u64::from(p.igrpen0),
            Igrpen1 => u64::from(p.igrpen1),
            _ => 0,
        }
    }

    /// MSR to an ICC_* register by the current PE.
    pub fn icc_write(&mut self, reg: IccReg, value: u64) {
        self.icc_write_reg(reg, value);
        self.update_output();
    }

    fn icc_write_reg(&mut self, reg: IccReg, value: u64) {
        use IccReg::*;
        let pe = self.cur;
        match reg {
            Eoir1 => {
                let intid = (value & 0xff_ffff) as u32;
                if intid >= SPURIOUS {
                    return;
                }
                self.drop_priority(pe, intid);
                if !self.pes[pe].eoi_mode {
                    self.deactivate(pe, intid);
                }
                return;
            }
            Dir => return self.deactivate(pe, (value & 0xff_ffff) as u32),
            Sgi1r | Asgi1r => return self.send_sgi(value),
            _ => {}
        }
        let p = &mut self.pes[pe];
        match reg {
            Pmr => p.pmr = value as u8 & PRIO_MASK,
            // With 5 priority bits the minimum ICC_BPR1 is 3 (IHI 0069 12.2.4).
            Bpr1 => p.bpr1 = (value as u8 & 7).max(3),
            Ap1r(0) => p.ap1r0 = value as u32,
            Ctlr => {
                p.eoi_mode = value & 2 != 0;
                p.cbpr = value & 1 != 0;
            }
            Igrpen0 => p.igrpen0 = value & 1 != 0,
            Igrpen1 => p.igrpen1 = value & 1 != 0,
            _ => {}
        }
    }

    /// ICC_SGI1R_EL1 from the current PE: TargetList [15:0], Aff1 [23:16], INTID [27:24],
    /// Aff2 [39:32], IRM [40] (every PE but the sender), Aff3 [55:48].
    fn send_sgi(&mut self, v: u64) {
        let intid = ((v >> 24) & 0xf) as u32;
        let irm = v & (1 << 40) != 0;
        let aff = |shift: u32| (v >> shift) & 0xff;
        let me = self.cur;
        let targets: Vec<usize> = self
            .pes
            .iter()
            .enumerate()
            .filter(|&(k, p)| {
                let m = p.mpidr;
                if irm {
                    return k != me;
                }
                aff(16) == (m >> 8) & 0xff
                    && aff(32) == (m >> 16) & 0xff
                    && aff(48) == (m >> 32) & 0xff
                    && (m & 0xff) < 16
                    && v & (1 << (m & 0xf)) != 0
            })
            .map(|(k, _)| k)
            .collect();
        for k in targets {
            self.raise_sgi(k, intid, me);
        }
    }

    /// A 32-bit read of the distributor.
    pub fn gicd_read32(&self, off: u64) -> u32 {
        let n = self.nr_irqs;
        match off {
            // ARE (4) and DS (6) read as one; RWP (31) is always clear.
            0x0000 => self.gicd_ctlr | (1 << 4) | (1 << 6),
            // IDbits = 15 (16-bit INTIDs), ITLinesNumber.
            0x0004 => (15 << 19) | (n / 32 - 1),
            0x0008 => 0x0300_043b,
            0x0080..=0x00fc | 0x0100..=0x03fc | 0x0d00..=0x0d7c => {
                let (base, word) = (off & !0x7f, (off & 0x7f) / 4);
                if word == 0 {
                    0 // SGIs and PPIs live in the redistributor (ARE = 1).
                } else {
                    self.irq_reg_read(self.cur, base, word as u32 * 32)
                }
            }
            0x0400..=0x07fc => {
                let first = (off - 0x400) as u32;
                if first < 32 {
                    return 0;
                }
                (0..4).fold(0, |acc, k| {
                    acc | (u32::from(self.priority_of(self.cur, first + k)) << (8 * k))
                })
            }
            0x0c00..=0x0cfc => {
                let first = ((off - 0xc00) / 4 * 16) as u32;
                if first < 32 {
                    0
                } else {
                    self.icfgr_read(self.cur, first)
                }
            }
            0x6100..=0x7fdc => {
                let i = ((off - 0x6000) / 8) as u32;
                if i < 32 || i >= n {
                    return 0;
                }
                let r = self.route[(i - 32) as usize];
                if off % 8 == 0 {
                    r as u32
                } else {
                    (r >> 32) as u32
                }
            }
            _ => Gic::id_reg(off).unwrap_or(0),
        }
    }

    /// A 32-bit write to the distributor.
    pub fn gicd_write32(&mut self, off: u64, value: u32) {
        let n = self.nr_irqs;
        match off {
            0x0000 => self.gicd_ctlr = value & 0b11,
            0x0080..=0x03fc | 0x0d00..=0x0d7c => {
                let (base, word) = (off & !0x7f, (off & 0x7f) / 4);
                if word != 0 {
                    self.irq_reg_write(self.cur, base, word as u32 * 32, value);
                }
            }
            0x0400..=0x07fc => {
                self.priority_bytes(self.cur, (off - 0x400) as u32, &value.to_le_bytes(), 32)
            }
            0x0c00..=0x0cfc => {
                let first = ((off - 0xc00) / 4 * 16) as u32;
                if first >= 32 {
                    self.icfgr_write(self.cur, first, value);
                }
            }
            0x6100..=0x7fdc => {
                let i = ((off - 0x6000) / 8) as u32;
                if i >= 32 && i < n {
                    let r = &mut self.route[(i - 32) as usize];
                    *r = if off % 8 == 0 {
                        (*r & !0xffff_ffff) | u64::from(value)
                    } else {
                        (*r & 0xffff_ffff) | (u64::from(value) << 32)
                    };
                }
            }
            _ => {}
        }
    }

    /// GICR_TYPER of PE `pe`: affinity in [63:32], Processor_Number [23:8], Last (bit 4)
    /// on the last redistributor.
    fn gicr_typer(&self, pe: usize) -> u64 {
        let m = self.pes[pe].mpidr;
        let aff = (m & 0xff_ffff) | ((m >> 8) & 0xff00_0000);
        let last = u64::from(pe + 1 == self.pes.len());
        (aff << 32) | (((pe as u64) & 0xffff) << 8) | (last << 4)
    }

    /// A 32-bit read of PE `pe`'s redistributor frames (RD_base, then SGI_base at +64 KiB).
    pub fn gicr_read32(&self, pe: usize, off: u64) -> u32 {
        if pe >= self.pes.len() {
            return 0;
        }
        match off {
            0x0000 => 0,
            0x0004 => 0x0300_043b,
            0x0008 => self.gicr_typer(pe) as u32,
            0x000c => (self.gicr_typer(pe) >> 32) as u32,
            // ChildrenAsleep follows ProcessorSleep at once.
            0x0014 => self.pes[pe].waker,
            0x1_0080 | 0x1_0100 | 0x1_0180 | 0x1_0200 | 0x1_0280 | 0x1_0300 | 0x1_0380
            | 0x1_0d00 => self.irq_reg_read(pe, off - 0x1_0000, 0),
            0x1_0400..=0x1_041c => {
                let first = (off - 0x1_0400) as u32;
                (0..4).fold(0, |acc, k| {
                    acc | (u32::from(self.priority_of(pe, first + k)) << (8 * k))
                })
            }
            0x1_0c00 => self.icfgr_read(pe, 0),
            0x1_0c04 => self.icfgr_read(pe, 16),
            0xffd0..=0xfffc => Gic::id_reg(off).unwrap_or(0),
            _ => 0,
        }
    }

    /// A 32-bit write to PE `pe`'s redistributor frames.
    pub fn gicr_write32(&mut self, pe: usize, off: u64, value: u32) {
        if pe >= self.pes.len() {
            return;
        }
        match off {
            0x0014 => {
                let sleep = value & 2;
                self.pes[pe].waker = sleep | (sleep << 1);
            }
            0x1_0080 | 0x1_0100 | 0x1_0180 | 0x1_0200 | 0x1_0280 | 0x1_0300 | 0x1_0380
            | 0x1_0d00 => self.irq_reg_write(pe, off - 0x1_0000, 0, value),
            0x1_0400..=0x1_041c => {
                self.priority_bytes(pe, (off - 0x1_0400) as u32, &value.to_le_bytes(), 0)
            }
            0x1_0c04 => self.icfgr_write(pe, 16, value),
            _ => {}
        }
    }

    fn gicd_access(&mut self, off: u64, data: &mut [u8], write: bool) {
        // IPRIORITYR is byte-accessible; everything else is 32- or 64-bit.
        if (0x400..0x800).contains(&off) && data.len() < 4 {
            let first = (off - 0x400) as u32;
            if write {
                let bytes = data.to_vec();
                self.priority_bytes(self.cur, first, &bytes, 32);
            } else {
                for (k, b) in data.iter_mut().enumerate() {
                    let i = first + k as u32;
                    *b = if i < 32 {
                        0
                    } else {
                        self.priority_of(self.cur, i)
                    };
                }
            }
            return;
        }
        access_words(data, off, write, |o, v| match v {
            Some(v) => {
                self.gicd_write32(o, v);
                0
            }
            None => self.gicd_read32(o),
        });
    }
}

/// The size of one PE's redistributor frames (RD_base + SGI_base, GICv3 without VLPIs).
const GICR_FRAMES: u64 = 0x2_0000;

/// The distributor's MMIO window.
#[derive(Debug)]
pub struct GicdMmio(pub std::rc::Rc<std::cell::RefCell<Gic>>);

/// The redistributors' MMIO window: for each PE in turn, its RD_base and SGI_base frames
/// (128 KiB); the rest of the DT's region reads as zero.
#[derive(Debug)]
pub struct GicrMmio(pub std::rc::Rc<std::cell::RefCell<Gic>>);

impl MmioDevice for GicdMmio {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.0.borrow_mut().gicd_access(offset, data, false);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut buf = data.to_vec();
        let mut gic = self.0.borrow_mut();
        gic.gicd_access(offset, &mut buf, true);
        gic.update_output();
    }
}

/// GICR_IPRIORITYR<n> in SGI_base: byte-accessible, like the distributor's (IHI 0069
/// 12.11.13); Linux's gic_irq_set_prio writes PPI priorities there with writeb.
const GICR_IPRIORITYR: std::ops::Range<u64> = 0x1_0400..0x1_0420;

impl MmioDevice for GicrMmio {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let gic = self.0.borrow();
        let (pe, off) = ((offset / GICR_FRAMES) as usize, offset % GICR_FRAMES);
        if GICR_IPRIORITYR.contains(&off) && data.len() < 4 {
            let first = (off - GICR_IPRIORITYR.start) as u32;
            for (k, b) in data.iter_mut().enumerate() {
                *b = gic.priority_of(pe, first + k as u32);
            }
            return;
        }
        access_words(data, off, false, |o, _| gic.gicr_read32(pe, o));
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut gic = self.0.borrow_mut();
        let (pe, off) = ((offset / GICR_FRAMES) as usize, offset % GICR_FRAMES);
        if GICR_IPRIORITYR.contains(&off) && data.len() < 4 {
            let first = (off - GICR_IPRIORITYR.start) as usize;
            let n = data.len().min(32 - first);
            gic.priority_bytes(pe, first as u32, &data[..n], 0);
            gic.update_output();
            return;
        }
        let mut buf = data.to_vec();
        access_words(&mut buf, off, true, |o, v| {
            gic.gicr_write32(pe, o, v.unwrap_or(0));
            0
        });
        gic.update_output();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::gic::GicIrq;
    use crate::IrqLine;

    const UART: u32 = 33;
    const VTIMER: u32 = 27;

    fn r(dev: &mut dyn MmioDevice, off: u64) -> u32 {
        let mut d = [0u8; 4];
        dev.read(off, &mut d);
        u32::from_le_bytes(d)
    }

    fn w(dev: &mut dyn MmioDevice, off: u64, v: u32) {
        dev.write(off, &v.to_le_bytes());
    }

    /// What irq-gic-v3.c does at boot (gic_dist_init, gic_cpu_init, gic_cpu_sys_reg_init).
    fn booted() -> (Rc<RefCell<Gic>>, GicdMmio, GicrMmio) {
        let gic = Rc::new(RefCell::new(Gic::new(64, 0x8000_0000)));
        let mut d = GicdMmio(gic.clone());
        let mut rd = GicrMmio(gic.clone());
        w(&mut d, 0x0, 0);
        let lines = (r(&mut d, 0x4) & 0x1f) + 1;
        for n in 1..lines as u64 {
            w(&mut d, 0x80 + 4 * n, !0);
            w(&mut d, 0x180 + 4 * n, !0);
        }
        for i in (32..lines as u64 * 32).step_by(4) {
            w(&mut d, 0x400 + i, 0xa0a0_a0a0);
        }
        w(&mut d, 0x0, 0x12);
        w(&mut rd, 0x14, 0);
        assert_eq!(
            r(&mut rd, 0x14) & 4,
            0,
            "ChildrenAsleep clears with ProcessorSleep"
        );
        w(&mut rd, 0x1_0080, !0);
        for i in (0..32).step_by(4) {
            w(&mut rd, 0x1_0400 + i, 0xa0a0_a0a0);
        }
        {
            let mut g = gic.borrow_mut();
            assert_eq!(g.icc_read(IccReg::Sre) & 1, 1);
            g.icc_write(IccReg::Pmr, 0xf0);
            g.icc_write(IccReg::Bpr1, 0);
            g.icc_write(IccReg::Ctlr, 0);
            g.icc_write(IccReg::Igrpen1, 1);
        }
        (gic, d, rd)
    }

    #[test]
    fn identification_registers_match_what_linux_probes() {
        let (_, mut d, mut rd) = booted();
        assert_eq!((r(&mut d, 0xffe8) >> 4) & 0xf, 3, "GICD_PIDR2.ArchRev");
        assert_eq!((r(&mut rd, 0xffe8) >> 4) & 0xf, 3, "GICR_PIDR2.ArchRev");
        assert_eq!(r(&mut d, 0x4) & 0x1f, 2, "64 SPIs: ITLinesNumber 2");
        let mut typer = [0u8; 8];
        rd.read(0x8, &mut typer);
        let typer = u64::from_le_bytes(typer);
        assert_ne!(typer & (1 << 4), 0, "Last");
        assert_eq!(typer >> 32, 0, "affinity 0.0.0.0");
        assert_eq!(r(&mut d, 0x0) & (1 << 31), 0, "RWP clear");
    }

    #[test]
    fn level_ppi_is_acknowledged_and_deactivated_at_eoi() {
        let (gic, _, mut rd) = booted();
        w(&mut rd, 0x1_0100, 1 << VTIMER);
        gic.borrow_mut().set_level(VTIMER, true);
        let mut g = gic.borrow_mut();
        assert!(g.irq_pending());
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(VTIMER));
        assert!(
            !g.irq_pending(),
            "active interrupts are not signalled again"
        );
        assert_eq!(g.icc_read(IccReg::Rpr), 0xa0);
        g.set_level(VTIMER, false);
        g.icc_write(IccReg::Eoir1, u64::from(VTIMER));
        assert_eq!(g.icc_read(IccReg::Rpr), 0xff);
        assert!(!g.irq_pending());
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(SPURIOUS));
    }

    #[test]
    fn a_level_interrupt_still_asserted_after_eoi_fires_again() {
        let (gic, mut d, _) = booted();
        w(&mut d, 0x104, 1 << (UART - 32));
        let line = GicIrq {
            gic: gic.clone(),
            intid: UART,
        };
        line.set_level(true);
        let mut g = gic.borrow_mut();
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(UART));
        g.icc_write(IccReg::Eoir1, u64::from(UART));
        assert!(g.irq_pending());
    }

    #[test]
    fn edge_spi_latches_once_per_rising_edge() {
        let (gic, mut d, _) = booted();
        w(&mut d, 0xc08, 0b10 << (2 * (UART - 32))); // ICFGR2: SPI 1 edge
        w(&mut d, 0x104, 1 << (UART - 32));
        let mut g = gic.borrow_mut();
        g.set_level(UART, true);
        g.set_level(UART, true);
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(UART));
        g.icc_write(IccReg::Eoir1, u64::from(UART));
        assert!(!g.irq_pending(), "one edge, one interrupt");
        g.set_level(UART, false);
        g.set_level(UART, true);
        assert!(g.irq_pending());
    }

    #[test]
    fn disabled_masked_or_lower_priority_interrupts_are_not_signalled() {
        let (gic, mut d, _) = booted();
        gic.borrow_mut().set_level(UART, true);
        assert!(!gic.borrow().irq_pending(), "not enabled");
        w(&mut d, 0x104, 1 << (UART - 32));
        gic.borrow_mut().icc_write(IccReg::Pmr, 0x80);
        assert!(
            !gic.borrow().irq_pending(),
            "priority 0xa0 is masked by PMR 0x80"
        );
        gic.borrow_mut().icc_write(IccReg::Pmr, 0xf0);
        gic.borrow_mut().icc_write(IccReg::Igrpen1, 0);
        assert!(
            !gic.borrow().irq_pending(),
            "group 1 disabled at the CPU interface"
        );
        gic.borrow_mut().icc_write(IccReg::Igrpen1, 1);
        assert!(gic.borrow().irq_pending());
    }

    #[test]
    fn higher_priority_preempts_an_active_interrupt_and_lower_waits() {
        let (gic, mut d, _) = booted();
        w(&mut d, 0x104, 0b111 << (UART - 32));
        // INTID 34 at 0x80 (higher), INTID 35 at 0xc0 (lower).
        let mut prio = [0u8; 1];
        prio[0] = 0x80;
        d.write(0x400 + 34, &prio);
        prio[0] = 0xc0;
        d.write(0x400 + 35, &prio);
        let mut g = gic.borrow_mut();
        g.set_level(UART, true);
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(UART));
        g.set_level(35, true);
        assert!(!g.irq_pending(), "0xc0 does not preempt 0xa0");
        g.set_level(34, true);
        assert_eq!(g.icc_read(IccReg::Iar1), 34, "0x80 preempts 0xa0");
        g.set_level(34, false);
        g.icc_write(IccReg::Eoir1, 34);
        g.set_level(UART, false);
        g.icc_write(IccReg::Eoir1, u64::from(UART));
        assert_eq!(g.icc_read(IccReg::Iar1), 35);
    }

    #[test]
    fn sgi_to_self_through_icc_sgi1r() {
        let (gic, _, mut rd) = booted();
        w(&mut rd, 0x1_0100, 1 << 1);
        let mut g = gic.borrow_mut();
        g.icc_write(IccReg::Sgi1r, (1 << 24) | 1);
        assert_eq!(g.icc_read(IccReg::Iar1), 1);
        g.icc_write(IccReg::Eoir1, 1);
        assert!(!g.irq_pending());
        g.icc_write(IccReg::Sgi1r, (1 << 24) | 2);
        assert!(!g.irq_pending(), "target list without this PE");
    }

    #[test]
    fn eoi_mode_1_splits_priority_drop_and_deactivation() {
        let (gic, mut d, _) = booted();
        w(&mut d, 0x104, 1 << (UART - 32));
        let mut g = gic.borrow_mut();
        g.icc_write(IccReg::Ctlr, 2);
        g.set_level(UART, true);
        assert_eq!(g.icc_read(IccReg::Iar1), u64::from(UART));
        g.icc_write(IccReg::Eoir1, u64::from(UART));
        assert_eq!(g.icc_read(IccReg::Rpr), 0xff, "priority dropped");
        assert!(!g.irq_pending(), "still active until DIR");
        g.icc_write(IccReg::Dir, u64::from(UART));
        assert!(g.irq_pending());
    }

    #[test]
    fn icc_encodings_decode() {
        assert_eq!(IccReg::from_encoding(3, 0, 12, 12, 0), Some(IccReg::Iar1));
        assert_eq!(IccReg::from_encoding(3, 0, 4, 6, 0), Some(IccReg::Pmr));
        assert_eq!(IccReg::from_encoding(3, 0, 12, 11, 5), Some(IccReg::Sgi1r));
        assert_eq!(IccReg::from_encoding(3, 0, 1, 0, 0), None);
    }
}
