//! Interrupt lines from devices to the interrupt controller.

use std::cell::RefCell;
use std::rc::Rc;

/// One level-sensitive or edge interrupt input of the interrupt controller.
pub trait IrqLine: std::fmt::Debug {
    /// Drive the line: `true` asserts it. Edge-triggered inputs latch on a rising level.
    fn set_level(&self, asserted: bool);
}

/// A line that records its level changes; for tests and for devices not yet wired.
#[derive(Debug, Clone, Default)]
pub struct IrqLog {
    changes: Rc<RefCell<Vec<bool>>>,
}

impl IrqLog {
    /// The levels driven so far, in order.
    pub fn changes(&self) -> Vec<bool> {
        self.changes.borrow().clone()
    }

    /// The current level (deasserted if never driven).
    pub fn level(&self) -> bool {
        self.changes.borrow().last().copied().unwrap_or(false)
    }
}

impl IrqLine for IrqLog {
    fn set_level(&self, asserted: bool) {
        self.changes.borrow_mut().push(asserted);
    }
}
