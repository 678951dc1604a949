//! virtio-console (virtio 1.2, section 5.3) with port 0 only: the console heapsoc gives a
//! guest whose board UART cannot be used. Linux 7.3's `virtio_console`
//! (drivers/char/virtio_console.c) makes it /dev/hvc0 and, with `console=hvc0`, the
//! kernel console.
//!
//! No feature is offered (5.3.3): without VIRTIO_CONSOLE_F_SIZE, F_MULTIPORT and
//! F_EMERG_WRITE no configuration field is valid, so the configuration space (5.3.4:
//! cols, rows, max_nr_ports, emerg_wr) reads as zero and ignores writes, and there are
//! two queues (5.3.2): 0, the receiveq of port 0, and 1, its transmitq.
//!
//! Output (5.3.6, 1): every byte of each transmitq buffer goes, in order, to the host's
//! writer, flushed once per buffer, and the buffer is used at once: Linux's put_chars
//! spins on the used ring until it is.
//!
//! Input (5.3.6, 2): the driver posts empty receiveq buffers ahead (fill_queue: one page
//! each, until the ring is full). The device declines them while it has no input, so the
//! transport keeps them ([`VirtioDevice::offer`]), and fills them when the host delivers
//! input ([`VirtioMmio::receive`]). Input with no buffer posted waits in a buffer of
//! [`MAX_INPUT`] bytes, delivered when the driver next posts one.
//!
//! Every guest-memory access goes through the device's DMA handle: the transport reads
//! the transmit buffers, the device writes the receive buffers, all as `control` records
//! (these are the console's own buffers, not heap buffers).

use std::collections::VecDeque;
use std::io::Write;

use ledger::Purpose;

use super::mmio::VirtioMmio;
use super::{clip, Request, VirtioDevice};
use crate::dma::Dma;

/// virtio device ID of a console (5.3.1).
pub const DEVICE_ID: u32 = 3;
/// VIRTIO_CONSOLE_F_SIZE (not offered).
pub const F_SIZE: u64 = 1 << 0;
/// VIRTIO_CONSOLE_F_MULTIPORT (not offered).
pub const F_MULTIPORT: u64 = 1 << 1;
/// VIRTIO_CONSOLE_F_EMERG_WRITE (not offered).
pub const F_EMERG_WRITE: u64 = 1 << 2;

/// receiveq(port0): the device writes host input into buffers the driver posted.
pub const RECEIVEQ: usize = 0;
/// transmitq(port0): the driver's output.
pub const TRANSMITQ: usize = 1;

/// Host input the device holds while no receive buffer is posted: a caller cannot make
/// the host's memory grow by typing ahead of the guest.
pub const MAX_INPUT: usize = 4096;

/// The console's name for the receive buffers in the DMA ledger.
const RECEIVE_BUFFER: &str = "virtio-console receive buffer";

/// The console device.
pub struct Console {
    out: Box<dyn Write>,
    input: VecDeque<u8>,
    /// Receive buffers the device could not write (outside RAM): completed empty, their
    /// input kept for the next buffer.
    pub dma_errors: u64,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("input", &self.input.len())
            .field("dma_errors", &self.dma_errors)
            .finish_non_exhaustive()
    }
}

impl Console {
    /// A console writing the guest's output to `out`.
    pub fn new(out: Box<dyn Write>) -> Console {
        Console {
            out,
            input: VecDeque::new(),
            dma_errors: 0,
        }
    }

    /// Queues input from the host, up to [`MAX_INPUT`] bytes held; returns how many bytes
    /// fitted. The transport delivers them on [`VirtioMmio::resume`] or when the driver
    /// next posts a receive buffer: [`VirtioMmio::receive`] does both.
    pub fn queue_input(&mut self, bytes: &[u8]) -> usize {
        let n = MAX_INPUT.saturating_sub(self.input.len()).min(bytes.len());
        self.input.extend(&bytes[..n]);
        n
    }

    /// Host input not yet delivered to the guest.
    pub fn pending_input(&self) -> usize {
        self.input.len()
    }

    /// Whether the input buffer can take more.
    pub fn can_receive(&self) -> bool {
        self.input.len() < MAX_INPUT
    }

    /// Writes as much pending input as fits into a receive buffer; returns the bytes
    /// written.
    fn fill(&mut self, req: &Request, dma: &Dma) -> u32 {
        let room: u64 = req.output.iter().map(|r| r.size).sum();
        // At most MAX_INPUT bytes, whatever room the guest claims.
        let n = usize::try_from(room)
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        if n == 0 {
            return 0;
        }
        let data: Vec<u8> = self.input.iter().take(n).copied().collect();
        let segs = clip(&req.output, n as u64);
        match dma.write(&segs, Purpose::Control, RECEIVE_BUFFER, &data) {
            Ok(()) => {
                self.input.drain(..n);
                n as u32
            }
            Err(_) => {
                self.dma_errors += 1;
                0
            }
        }
    }
}

impl VirtioDevice for Console {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        0
    }

    fn queues(&self) -> usize {
        2 // receiveq, transmitq of port 0
    }

    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }

    /// emerg_wr is only valid with VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered.
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}

    fn handle(&mut self, queue: usize, req: &Request, dma: &Dma) -> u32 {
        match queue {
            TRANSMITQ => {
                // The guest's console: a failing host sink must not stop the guest, and
                // there is nobody in the guest to tell.
                let _ = self.out.write_all(&req.input);
                let _ = self.out.flush();
                0
            }
            RECEIVEQ => self.fill(req, dma),
            _ => 0,
        }
    }

    fn offer(&mut self, queue: usize, req: &Request, dma: &Dma) -> Option<u32> {
        let has_room = req.output.iter().any(|r| r.size > 0);
        if queue == RECEIVEQ && has_room && self.input.is_empty() {
            // Wait for input; a buffer with no room is useless and used empty at once.
            return None;
        }
        Some(self.handle(queue, req, dma))
    }

    /// Pending host input stays: it was typed for the guest, which a reset (Linux's probe
    /// starts with one) does not take back.
    fn reset(&mut self) {}
}

impl VirtioMmio<Console> {
    /// Input from the host: queues what fits in the device's buffer and delivers it at
    /// once into the receive buffers the driver posted, raising the used-buffer
    /// interrupt. Returns how many bytes were taken; the caller offers the rest later.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let n = self.device.queue_input(bytes);
        self.resume();
        n
    }

    /// Whether a driver is listening: DRIVER_OK and receive buffers posted (Linux's
    /// add_port fills the receiveq after virtio_device_ready). Input offered before that
    /// waits in the device's bounded buffer.
    pub fn accepting_input(&self) -> bool {
        self.driver_ok() && self.kept(RECEIVEQ) > 0
    }
}
