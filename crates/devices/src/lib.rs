//! Device models and the MMIO bus.
//!
//! Devices never know which backend runs the CPU: the CPU side reaches them through
//! [`Bus`] with `read(offset, &mut [u8])` / `write(offset, &[u8])`, and they raise
//! interrupts through an [`IrqLine`].

pub mod bus;
pub mod console;
pub mod dma;
pub mod dmc520;
pub mod gic;
pub mod irq;
pub mod pl011;
pub mod pl111;
pub mod placeholder;
pub mod uart16550;
pub mod virtio;

pub use bus::{Bus, BusError, MmioDevice};
pub use irq::{IrqLine, IrqLog};
