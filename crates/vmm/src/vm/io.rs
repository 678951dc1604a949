//! A PE's view of everything that is not RAM: the bus, and the GIC's CPU interface.

use std::cell::RefCell;
use std::rc::Rc;

use a64::{BusFault, Mmio};
use devices::gic::{Gic, IccReg};
use devices::Bus;

use super::UnmappedAccess;

/// The CPU's view of everything that is not RAM: the bus, and the GIC's CPU interface.
#[derive(Debug)]
pub(super) struct Io {
    pub(super) bus: Rc<RefCell<Bus>>,
    pub(super) gic: Rc<RefCell<Gic>>,
    pub(super) unmapped: Rc<RefCell<Vec<UnmappedAccess>>>,
}

impl Io {
    fn fault(&self, addr: u64, size: u8, write: bool) -> BusFault {
        UnmappedAccess { addr, size, write }.record(&self.unmapped);
        BusFault
    }
}

impl Mmio for Io {
    fn read(&mut self, pa: u64, size: u8) -> Result<u64, BusFault> {
        let mut buf = [0u8; 8];
        let n = usize::from(size.min(8));
        match self.bus.borrow_mut().read(pa, &mut buf[..n]) {
            Ok(()) => Ok(u64::from_le_bytes(buf)),
            Err(_) => Err(self.fault(pa, size, false)),
        }
    }

    fn write(&mut self, pa: u64, size: u8, value: u64) -> Result<(), BusFault> {
        let n = usize::from(size.min(8));
        match self.bus.borrow_mut().write(pa, &value.to_le_bytes()[..n]) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.fault(pa, size, true)),
        }
    }

    fn sysreg_read(&mut self, key: u32) -> Option<u64> {
        let reg = icc_reg(key)?;
        Some(self.gic.borrow_mut().icc_read(reg))
    }

    fn sysreg_write(&mut self, key: u32, value: u64) -> bool {
        match icc_reg(key) {
            Some(reg) => {
                self.gic.borrow_mut().icc_write(reg, value);
                true
            }
            None => false,
        }
    }
}

/// The ICC_* register an a64 system-register key (instruction bits 20:5: op0, op1, CRn,
/// CRm, op2) names.
fn icc_reg(key: u32) -> Option<IccReg> {
    let field = |shift: u32, bits: u32| ((key >> shift) & ((1 << bits) - 1)) as u8;
    IccReg::from_encoding(
        field(14, 2),
        field(11, 3),
        field(7, 4),
        field(3, 4),
        field(0, 3),
    )
}
