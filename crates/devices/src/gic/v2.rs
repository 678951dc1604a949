//! GICv2 (GIC-400 class) register maps, without security extensions: the distributor with
//! the SGI/PPI bank in it (banked by the accessing PE), and the memory-mapped CPU interface
//! (GICC, the accessing PE's), as Linux's
//! irq-gic driver uses them. The interrupt state and priority logic are shared with GICv3.
//! Reference: Arm GIC Architecture Specification v2 (IHI 0048B), 4.3 (GICD) and 4.4 (GICC).

use std::cell::RefCell;
use std::rc::Rc;

use super::{access_words, Gic, PRIO_MASK, SPURIOUS, V2_MAX_PES};
use crate::bus::MmioDevice;

impl Gic {
    /// GICD_ITARGETSR byte for INTID `i` as the current PE reads it: SGIs and PPIs read
    /// as the current CPU interface's own bit (IHI 0048B 4.3.12).
    fn targets_byte(&self, i: u32) -> u8 {
        if i < 32 {
            1 << self.cur.min(7)
        } else {
            self.targets.get((i - 32) as usize).copied().unwrap_or(0)
        }
    }

    /// GICD_SGIR from the current PE: TargetListFilter [25:24] (0: the CPUTargetList,
    /// 1: every other CPU interface, 2: the sender), CPUTargetList [23:16], SGIINTID [3:0].
    fn send_sgi_v2(&mut self, v: u32) {
        let intid = v & 0xf;
        let me = self.cur;
        let n = self.pes.len().min(V2_MAX_PES);
        for k in 0..n {
            let to = match (v >> 24) & 3 {
                0 => (v >> 16) & (1 << k) != 0,
                1 => k != me,
                2 => k == me,
                _ => false,
            };
            if to {
                self.raise_sgi(k, intid, me);
            }
        }
    }

    /// A 32-bit read of the GICv2 distributor (its SGI/PPI words banked by the current PE).
    pub fn gicd_v2_read32(&self, off: u64) -> u32 {
        let pe = self.cur;
        match off {
            0x000 => self.gicd_ctlr & 3,
            // ITLinesNumber, CPUNumber [7:5]; no security extensions.
            0x004 => (self.nr_irqs / 32 - 1) | (((self.pes.len().min(8) as u32) - 1) << 5),
            0x008 => 0x0200_043b,
            0x080..=0x03fc => self.irq_reg_read(pe, off & !0x7f, ((off & 0x7f) / 4) as u32 * 32),
            0x400..=0xbfc => (0..4).fold(0, |acc, k| {
                acc | (u32::from(self.byte_reg(off + k)) << (8 * k))
            }),
            0xc00..=0xcfc => self.icfgr_read(pe, ((off - 0xc00) / 4 * 16) as u32),
            // SPENDSGIR/CPENDSGIR: one byte per SGI, a bit per source CPU interface.
            0xf10..=0xf2c => {
                let first = ((off & 0xf) / 4 * 4) as usize;
                (0..4).fold(0, |acc, k| {
                    acc | (u32::from(self.pes[pe].sgi_sources[first + k]) << (8 * k))
                })
            }
            0xfe8 => 0x2b, // PIDR2: ArchRev 2
            _ => Gic::id_reg(off + 0xf000).unwrap_or(0),
        }
    }

    fn byte_reg(&self, off: u64) -> u8 {
        let i = (off & 0x3ff) as u32;
        match off {
            0x400..=0x7ff => self.priority_of(self.cur, i),
            0x800..=0xbff => self.targets_byte(i),
            _ => 0,
        }
    }

    fn byte_reg_write(&mut self, off: u64, b: u8) {
        let i = (off & 0x3ff) as u32;
        if i >= self.nr_irqs {
            return;
        }
        match off {
            0x400..=0x7ff => self.priority_bytes(self.cur, i, &[b], 0),
            0x800..=0xbff if i >= 32 => self.targets[(i - 32) as usize] = b,
            _ => {}
        }
    }

    /// A 32-bit write to the GICv2 distributor.
    pub fn gicd_v2_write32(&mut self, off: u64, v: u32) {
        let pe = self.cur;
        match off {
            0x000 => self.gicd_ctlr = v & 3,
            // GICD_ISPENDR0/ICPENDR0: the SGI bits are write-ignored on GICv2 (the pending
            // state of an SGI is per source, set through GICD_SPENDSGIRn).
            0x200 | 0x280 => self.irq_reg_write(pe, off, 0, v & !0xffff),
            0x080..=0x03fc => {
                self.irq_reg_write(pe, off & !0x7f, ((off & 0x7f) / 4) as u32 * 32, v)
            }
            0x400..=0xbfc => {
                for k in 0..4 {
                    self.byte_reg_write(off + k, (v >> (8 * k)) as u8);
                }
            }
            0xc00..=0xcfc => self.icfgr_write(pe, ((off - 0xc00) / 4 * 16) as u32, v),
            0xf00 => self.send_sgi_v2(v),
            0xf10..=0xf1c | 0xf20..=0xf2c => {
                let first = ((off & 0xf) / 4 * 4) as usize;
                let set = off >= 0xf20; // GICD_CPENDSGIRn at 0xf10, GICD_SPENDSGIRn at 0xf20
                let p = &mut self.pes[pe];
                for k in 0..4 {
                    let sources = (v >> (8 * k)) as u8;
                    let s = &mut p.sgi_sources[first + k];
                    *s = if set { *s | sources } else { *s & !sources };
                    p.private[first + k].latched = *s != 0;
                }
            }
            _ => {}
        }
    }

    /// A 32-bit read of the current PE's GICv2 CPU interface.
    pub fn gicc_read32(&mut self, off: u64) -> u32 {
        let pe = self.cur;
        match off {
            0x0c | 0x20 => return self.acknowledge(pe),
            0x14 => return u32::from(self.running_priority(pe).min(0xff) as u8),
            0x18 | 0x28 => return self.highest_pending(pe).map_or(SPURIOUS, |(id, _)| id),
            _ => {}
        }
        let p = &self.pes[pe];
        match off {
            0x00 => u32::from(p.igrpen1) | (u32::from(p.eoi_mode) << 9),
            0x04 => u32::from(p.pmr),
            0x08 | 0x1c => u32::from(p.bpr1),
            0xd0 => p.ap1r0,
            0xfc => 0x0202_043b,
            _ => 0,
        }
    }

    /// A 32-bit write to the current PE's GICv2 CPU interface.
    pub fn gicc_write32(&mut self, off: u64, v: u32) {
        let pe = self.cur;
        match off {
            0x10 | 0x24 => {
                let intid = v & 0x3ff;
                if intid < SPURIOUS {
                    self.drop_priority(pe, intid);
                    if !self.pes[pe].eoi_mode {
                        self.deactivate(pe, intid);
                    }
                }
                return;
            }
            0x1000 => return self.deactivate(pe, v & 0x3ff),
            _ => {}
        }
        let p = &mut self.pes[pe];
        match off {
            // EnableGrp0/EnableGrp1 (both signal IRQ without security), EOImodeNS [9].
            0x00 => {
                p.igrpen1 = v & 3 != 0;
                p.eoi_mode = v & (1 << 9) != 0;
            }
            0x04 => p.pmr = v as u8 & PRIO_MASK,
            // With 5 priority bits the minimum GICC_BPR is 2 (IHI 0048B 3.3.3).
            0x08 | 0x1c => p.bpr1 = (v as u8 & 7).max(2),
            0xd0 => p.ap1r0 = v,
            _ => {}
        }
    }
}

/// The GICv2 distributor's MMIO window.
#[derive(Debug)]
pub struct GicdV2Mmio(pub Rc<RefCell<Gic>>);

/// The GICv2 CPU interface's MMIO window.
#[derive(Debug)]
pub struct GiccMmio(pub Rc<RefCell<Gic>>);

impl MmioDevice for GicdV2Mmio {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let gic = self.0.borrow();
        if (0x400..0xc00).contains(&offset) && data.len() < 4 {
            for (k, b) in data.iter_mut().enumerate() {
                *b = gic.byte_reg(offset + k as u64);
            }
            return;
        }
        access_words(data, offset, false, |o, _| gic.gicd_v2_read32(o));
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut gic = self.0.borrow_mut();
        if (0x400..0xc00).contains(&offset) && data.len() < 4 {
            for (k, b) in data.iter().enumerate() {
                gic.byte_reg_write(offset + k as u64, *b);
            }
            gic.update_output();
            return;
        }
        let mut buf = data.to_vec();
        access_words(&mut buf, offset, true, |o, v| {
            gic.gicd_v2_write32(o, v.unwrap_or(0));
            0
        });
        gic.update_output();
    }
}

impl MmioDevice for GiccMmio {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let mut gic = self.0.borrow_mut();
        access_words(data, offset, false, |o, _| gic.gicc_read32(o));
        // A GICC_IAR read acknowledges.
        gic.update_output();
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let mut gic = self.0.borrow_mut();
        let mut buf = data.to_vec();
        access_words(&mut buf, offset, true, |o, v| {
            gic.gicc_write32(o, v.unwrap_or(0));
            0
        });
        gic.update_output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UART: u32 = 33;

    fn r(d: &mut dyn MmioDevice, off: u64) -> u32 {
        let mut b = [0u8; 4];
        d.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn w(d: &mut dyn MmioDevice, off: u64, v: u32) {
        d.write(off, &v.to_le_bytes());
    }

    /// gic_dist_init + gic_cpu_init of Linux's irq-gic.c.
    fn booted() -> (Rc<RefCell<Gic>>, GicdV2Mmio, GiccMmio) {
        let gic = Rc::new(RefCell::new(Gic::new_v2(64)));
        let mut d = GicdV2Mmio(gic.clone());
        let mut c = GiccMmio(gic.clone());
        w(&mut d, 0x000, 0);
        let mask = (0..8).fold(0, |m, i| m | r(&mut d, 0x800 + 4 * i));
        assert_eq!(mask & 0xff, 1, "ITARGETSR0-7 name this CPU");
        for i in (32..96).step_by(4) {
            w(&mut d, 0x800 + i, 0x0101_0101);
            w(&mut d, 0x400 + i, 0xa0a0_a0a0);
        }
        for i in (0..32).step_by(4) {
            w(&mut d, 0x400 + i, 0xa0a0_a0a0);
        }
        w(&mut d, 0x000, 1);
        w(&mut c, 0x04, 0xf0);
        w(&mut c, 0x00, 1);
        (gic, d, c)
    }

    #[test]
    fn identifies_as_gicv2() {
        let (_, mut d, mut c) = booted();
        assert_eq!((r(&mut d, 0xfe8) >> 4) & 0xf, 2, "PIDR2.ArchRev");
        assert_eq!(r(&mut d, 0x004) & 0x1f, 2);
        assert_eq!(r(&mut c, 0xfc), 0x0202_043b);
    }

    #[test]
    fn spi_is_acknowledged_through_gicc_and_ended() {
        let (gic, mut d, mut c) = booted();
        w(&mut d, 0x104, 1 << (UART - 32));
        gic.borrow_mut().set_level(UART, true);
        assert!(gic.borrow().irq_pending());
        assert_eq!(r(&mut c, 0x0c), UART);
        assert_eq!(r(&mut c, 0x14), 0xa0, "running priority");
        gic.borrow_mut().set_level(UART, false);
        w(&mut c, 0x10, UART);
        assert!(!gic.borrow().irq_pending());
        assert_eq!(r(&mut c, 0x0c), SPURIOUS);
    }

    #[test]
    fn sgi_to_self_and_byte_priorities() {
        let (gic, mut d, mut c) = booted();
        w(&mut d, 0x100, 1 << 3);
        d.write(0x403, &[0x40]);
        let mut b = [0u8; 1];
        d.read(0x403, &mut b);
        assert_eq!(b[0], 0x40);
        w(&mut d, 0xf00, (2 << 24) | 3);
        assert_eq!(r(&mut c, 0x0c), 3);
        w(&mut c, 0x10, 3);
        assert!(!gic.borrow().irq_pending());
    }

    #[test]
    fn disabled_cpu_interface_signals_nothing() {
        let (gic, mut d, mut c) = booted();
        w(&mut d, 0x104, 1 << (UART - 32));
        w(&mut c, 0x00, 0);
        gic.borrow_mut().set_level(UART, true);
        assert!(!gic.borrow().irq_pending());
    }
}
