//! Where the guest's console output goes: a shared capture (for the test runner, which
//! parses it, and for tests) that can also echo to the host's stdout.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// Everything written to it, shared between clones; optionally echoed to stdout.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    buf: Rc<RefCell<Vec<u8>>>,
    echo: bool,
}

impl Capture {
    /// A capture that also copies the output to stdout when `echo` is set.
    pub fn new(echo: bool) -> Capture {
        Capture {
            buf: Rc::default(),
            echo,
        }
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.buf.borrow().clone()
    }

    /// Sends echoed output that has no newline yet (a shell prompt) to stdout now. The
    /// runner calls it between chunks of guest instructions and while the guest idles, so
    /// a terminal or a pipe (LAVA) sees every write burst without a write per byte.
    pub fn flush_echo(&self) {
        if self.echo {
            // A closed stdout is the host's business; the guest must not stop for it.
            let _ = std::io::stdout().flush();
        }
    }

    /// The output so far as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.borrow()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.borrow_mut().extend_from_slice(data);
        if self.echo {
            std::io::stdout().write_all(data)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.echo {
            std::io::stdout().flush()?;
        }
        Ok(())
    }
}

/// A device that carries the guest's console and takes input from the host: the UART
/// models and the virtio-console.
pub trait ConsoleInput: std::fmt::Debug {
    /// Whether the guest's driver is ready for input (bytes offered now reach it).
    fn accepting_input(&self) -> bool;
    /// Offers host input; returns how many bytes were taken (the rest is offered later).
    fn receive(&mut self, bytes: &[u8]) -> usize;
}

impl ConsoleInput for crate::pl011::Pl011 {
    fn accepting_input(&self) -> bool {
        crate::pl011::Pl011::accepting_input(self)
    }
    fn receive(&mut self, bytes: &[u8]) -> usize {
        crate::pl011::Pl011::receive(self, bytes)
    }
}

impl ConsoleInput for crate::uart16550::Uart16550 {
    fn accepting_input(&self) -> bool {
        crate::uart16550::Uart16550::accepting_input(self)
    }
    fn receive(&mut self, bytes: &[u8]) -> usize {
        crate::uart16550::Uart16550::receive(self, bytes)
    }
}

impl ConsoleInput for crate::virtio::mmio::VirtioMmio<crate::virtio::console::Console> {
    fn accepting_input(&self) -> bool {
        crate::virtio::mmio::VirtioMmio::<crate::virtio::console::Console>::accepting_input(self)
    }
    fn receive(&mut self, bytes: &[u8]) -> usize {
        crate::virtio::mmio::VirtioMmio::<crate::virtio::console::Console>::receive(self, bytes)
    }
}
