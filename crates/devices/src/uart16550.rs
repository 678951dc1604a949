//! 16550A UART (National Semiconductor PC16550D and the many SoC cores that copy it, among
//! them Synopsys DesignWare DW_apb_uart), for DT nodes compatible with `ns16550a`,
//! `ns16550`, `ns8250`, `snps,dw-apb-uart` and the like, as Linux 7.3's 8250 drivers use
//! them: drivers/tty/serial/8250/8250_of.c (`of_serial`), 8250_dw.c with 8250_dwlib.c,
//! the `autoconfig()` probe and the port operations in 8250_port.c, and the `uart8250` /
//! `ns16550a` earlycon in 8250_early.c.
//!
//! The register model is rust-vmm's `vm_superio::Serial` (a 16550A without FIFO control),
//! wrapped where it differs from the PC16550D datasheet (June 1995) in ways a driver can
//! see:
//! - FCR: `Serial` ignores it and always reports enabled FIFOs in IIR[7:6]. Here FCR[0]
//!   enables the FIFOs (IIR[7:6] = 11 only then), toggling it or FCR[1] clears the
//!   receive FIFO, the trigger level FCR[7:6] is kept, and the receive FIFO holds 16 bytes
//!   (1 without FIFOs, the RBR) where `Serial` holds 64. Linux's `size_fifo()` (run by
//!   `autoconfig_16550a()` with CONFIG_SERIAL_8250_16550A_VARIANTS) counts the loopback
//!   bytes and would call a 64-byte FIFO a "U6_16550A".
//! - IIR: `Serial` ORs its pending sources together and clears all of them on an IIR
//!   read. Here IIR reports the highest-priority source (datasheet Table IV): receiver
//!   line status (0x6), received data at the trigger level (0x4) or character timeout
//!   (0xc, reported at once: bytes from the host arrive in bursts, so by the time the
//!   guest looks the four character times have passed), THR empty (0x2). Only the THRE
//!   source is cleared by reading IIR, and only when IIR reported it; data interrupts
//!   last until the FIFO is drained. THRE is raised when the THR empties (at once: the
//!   transmitter is instantaneous), when IER[1] goes from 0 to 1, and when FCR[0] changes.
//! - The interrupt output is a level (`IrqLine`), IIR[0] inverted, driven when it
//!   changes; `Serial` only has an edge `Trigger`. It is not gated by MCR OUT2 (on a PC
//!   that gate is board logic outside the chip).
//! - MCR[7:5] read as zero; a loopback byte that finds the receive FIFO full sets LSR OE
//!   (cleared by reading LSR) instead of being silently dropped.
//! - Reset values per the datasheet: LCR and MCR zero (`Serial` starts with 8N1 and OUT2).
//!
//! `of_serial` sets UPF_FIXED_TYPE (PORT_16550A for `ns16550a`, PORT_16550 and PORT_8250,
//! which leave the FIFOs off, for `ns16550` and `ns8250`), so only the DesignWare driver
//! below runs `autoconfig()`; both paths, and the earlycon, are replayed in
//! tests/linux_uart16550.rs. `Serial` flushes the output after every byte.
//!
//! Not modelled: parity, framing and break errors (the host delivers bytes, not a line),
//! MSR delta bits and the modem status interrupt (the modem inputs are constant: CTS, DSR
//! and DCD asserted; in loopback they follow MCR as the datasheet says), DMA signalling.
//!
//! Register addressing follows the DT binding and Linux's `serial_in`/`serial_out`: the
//! register with index `i` is at byte offset `i << reg-shift`, and is `reg-io-width` bytes
//! wide with the 8-bit register in the low byte (the upper bytes read zero, writes to them
//! are ignored). An access of any size at any offset is split into the registers whose low
//! byte it covers, in address order; bytes of no register read zero. `reg-io-width = <4>`
//! with `big-endian` (UPIO_MEM32BE, the value in the last byte) is not supported;
//! `reg-offset` moves the base address, which is the bus's business.
//!
//! With the DesignWare extras on, the index 0x1f (byte 0x7c with reg-shift 2) is USR, the
//! UART status register: never busy (BUSY = 0, so LCR writes are never refused and no
//! busy-detect interrupt, IIR 0x7, is raised), transmit FIFO empty and not full, receive
//! FIFO not empty / full from the FIFO. Every other DW register reads zero and ignores
//! writes; 8250_dwlib.c's `dw8250_setup_port()` reads that as: no RS-485 hardware (RE_EN
//! does not keep a 1), no fractional divisor (DLF does not keep ~0), no component version
//! (UCV), no component parameters (CPR). With CPR zero and no `cpr_value` quirk (plain
//! `snps,dw-apb-uart`) the port keeps PORT_8250 without UPF_FIXED_TYPE, so the 8250 core
//! runs `autoconfig()`, which finds this 16550A, and no DMA is set up (fifosize 0).

use std::io::Write;

use vm_superio::serial::NoEvents;
use vm_superio::{Serial, Trigger};

use crate::bus::MmioDevice;
use crate::irq::IrqLine;

// Register indices (include/uapi/linux/serial_reg.h).
const RBR_THR: u64 = 0; // DLL with LCR.DLAB
const IER: u64 = 1; // DLM with LCR.DLAB
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;
/// DW_apb_uart UART Status Register, byte offset 0x7c (8250_dwlib.h: DW_UART_USR 0x1f).
const DW_USR: u64 = 0x1f;

const IER_RDI: u8 = 0x01;
const IER_THRI: u8 = 0x02;
const IER_RLSI: u8 = 0x04;
/// IER[7:4] are always zero on the 16550A (`Serial` masks writes the same way).
const IER_MASK: u8 = 0x0f;

const IIR_NO_INT: u8 = 0x01;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_RLSI: u8 = 0x06;
const IIR_RX_TIMEOUT: u8 = 0x0c;
const IIR_FIFO_ENABLED: u8 = 0xc0;

const FCR_ENABLE_FIFO: u8 = 0x01;
const FCR_CLEAR_RCVR: u8 = 0x02;
const FCR_DMA_SELECT: u8 = 0x08;
const FCR_TRIGGER_MASK: u8 = 0xc0;

const LCR_DLAB: u8 = 0x80;
const MCR_LOOP: u8 = 0x10;
/// MCR[7:5] are always zero on the 16550A.
const MCR_MASK: u8 = 0x1f;
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;

const USR_TFNF: u8 = 1 << 1;
const USR_TFE: u8 = 1 << 2;
const USR_RFNE: u8 = 1 << 3;
const USR_RFF: u8 = 1 << 4;

/// The 16550A's receive FIFO depth.
pub const FIFO_SIZE: usize = 16;
/// The receive trigger levels FCR[7:6] select.
const TRIGGER_LEVELS: [usize; 4] = [1, 4, 8, 14];

/// The largest `reg-shift` accepted: registers 64 KiB apart are already far beyond any
/// real part (they use 0 to 2).
pub const MAX_REG_SHIFT: u32 = 16;

/// Register layout values a DT can give that the model (like Linux's
/// `uart_read_port_properties`) does not accept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Uart16550Error {
    #[error("reg-io-width {0} is not 1, 2 or 4")]
    IoWidth(u32),
    #[error("reg-shift {0} is larger than {MAX_REG_SHIFT}")]
    RegShift(u32),
}

/// `Serial` tells of interrupts through a `Trigger`; the wrapper works the level out from
/// the registers instead, so the trigger does nothing.
#[derive(Debug, Clone, Copy)]
struct NoTrigger;

impl Trigger for NoTrigger {
    type E = std::convert::Infallible;

    fn trigger(&self) -> Result<(), Self::E> {
        Ok(())
    }
}

/// The UART.
pub struct Uart16550 {
    serial: Serial<NoTrigger, NoEvents, Box<dyn Write>>,
    irq: Box<dyn IrqLine>,
    irq_level: bool,
    reg_shift: u32,
    reg_io_width: u32,
    designware: bool,
    /// `Serial`'s own FIFO size, to count the bytes it holds from its free room.
    inner_capacity: usize,
    /// IER as written (`Serial` only shows it while LCR.DLAB is clear).
    ier: u8,
    /// MCR as written (`Serial::read` needs `&mut`, and the queries here do not).
    mcr: u8,
    /// FCR[0], FCR[3] and FCR[7:6] as last programmed (the reset bits self-clear).
    fcr: u8,
    /// The THRE interrupt source (datasheet Table IV): set when the THR empties, cleared
    /// by reading IIR while it is the reported source.
    thre_pending: bool,
    /// LSR OE, set by a loopback byte that found the receive FIFO full.
    overrun: bool,
}

impl std::fmt::Debug for Uart16550 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uart16550")
            .field("reg_shift", &self.reg_shift)
            .field("reg_io_width", &self.reg_io_width)
            .field("designware", &self.designware)
            .field("rx", &self.rx_len())
            .field("ier", &self.ier)
            .field("fcr", &self.fcr)
            .field("irq_level", &self.irq_level)
            .finish_non_exhaustive()
    }
}

impl Uart16550 {
    /// A UART writing guest output to `out` and interrupting through `irq`. `reg_shift`
    /// and `reg_io_width` are the DT properties (absent: 0 and 1); `designware` adds the
    /// DW_apb_uart registers (for `snps,dw-apb-uart` and the other 8250_dw.c
    /// compatibles).
    pub fn new(
        out: Box<dyn Write>,
        irq: Box<dyn IrqLine>,
        reg_shift: u32,
        reg_io_width: u32,
        designware: bool,
    ) -> Result<Uart16550, Uart16550Error> {
        if !matches!(reg_io_width, 1 | 2 | 4) {
            return Err(Uart16550Error::IoWidth(reg_io_width));
        }
        if reg_shift > MAX_REG_SHIFT {
            return Err(Uart16550Error::RegShift(reg_shift));
        }
        let serial = Serial::new(NoTrigger, out);
        let inner_capacity = serial.fifo_capacity();
        let mut uart = Uart16550 {
            serial,
            irq,
            irq_level: false,
            reg_shift,
            reg_io_width,
            designware,
            inner_capacity,
            ier: 0,
            mcr: 0,
            fcr: 0,
            thre_pending: false,
            overrun: false,
        };
        // The datasheet's reset configuration: LCR and MCR all bits low.
        uart.serial_write(LCR, 0);
        uart.serial_write(MCR, 0);
        Ok(uart)
    }

    /// Queues input from the host console into the receive FIFO; returns how many bytes
    /// fitted (the FIFO's free room: 16 bytes with FIFOs enabled, 1 without). The rest
    /// stays with the caller, so nothing is lost and nothing grows without bound. In
    /// loopback mode the serial input is disconnected and nothing is taken.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        if self.loopback() {
            return 0;
        }
        let n = self.rx_room().min(bytes.len());
        if n == 0 {
            return 0;
        }
        let taken = self.serial.enqueue_raw_bytes(&bytes[..n]).unwrap_or(0);
        self.update_irq();
        taken
    }

    /// Whether a driver is listening: the received-data interrupt is enabled (Linux's
    /// 8250 core enables it when the tty is opened) and the UART is not in loopback.
    /// Host input offered before that would be thrown away by the driver's start-up.
    pub fn accepting_input(&self) -> bool {
        self.ier & IER_RDI != 0 && !self.loopback()
    }

    /// Whether the receive FIFO can take more input.
    pub fn can_receive(&self) -> bool {
        !self.loopback() && self.rx_room() > 0
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_ENABLE_FIFO != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_SIZE
        } else {
            1
        }
    }

    fn rx_len(&self) -> usize {
        self.inner_capacity
            .saturating_sub(self.serial.fifo_capacity())
    }

    fn rx_room(&self) -> usize {
        self.rx_capacity().saturating_sub(self.rx_len())
    }

    fn lcr(&mut self) -> u8 {
        self.serial.read(LCR as u8)
    }

    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }

    /// A write to `Serial`. Its only failure is the host output failing: the output is
    /// the guest's console, and there is nobody in the guest to tell.
    fn serial_write(&mut self, index: u64, value: u8) {
        let _ = self.serial.write(index as u8, value);
    }

    /// Empties the receive FIFO (FCR[1], or FCR[0] changing).
    fn clear_rx(&mut self) {
        let lcr = self.lcr();
        if lcr & LCR_DLAB != 0 {
            self.serial_write(LCR, lcr & !LCR_DLAB);
        }
        for _ in 0..self.inner_capacity {
            if self.serial.read(LSR as u8) & LSR_DR == 0 {
                break;
            }
            self.serial.read(RBR_THR as u8);
        }
        if lcr & LCR_DLAB != 0 {
            self.serial_write(LCR, lcr);
        }
    }

    /// The highest-priority pending interrupt (IIR[3:0]); reading it has no side effects.
    fn interrupt_id(&self) -> u8 {
        if self.ier & IER_RLSI != 0 && self.overrun {
            return IIR_RLSI;
        }
        let rx = self.rx_len();
        if self.ier & IER_RDI != 0 && rx > 0 {
            let trigger = TRIGGER_LEVELS[usize::from(self.fcr >> 6)];
            return if self.fifo_enabled() && rx < trigger {
                IIR_RX_TIMEOUT
            } else {
                IIR_RDI
            };
        }
        if self.ier & IER_THRI != 0 && self.thre_pending {
            return IIR_THRI;
        }
        IIR_NO_INT
    }

    fn update_irq(&mut self) {
        let level = self.interrupt_id() != IIR_NO_INT;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    fn read_reg(&mut self, index: u64) -> u8 {
        match index {
            IIR_FCR => {
                let id = self.interrupt_id();
                if id == IIR_THRI {
                    self.thre_pending = false;
                }
                let fifo = if self.fifo_enabled() {
                    IIR_FIFO_ENABLED
                } else {
                    0
                };
                id | fifo
            }
            LSR => {
                let mut lsr = self.serial.read(LSR as u8);
                if self.overrun {
                    lsr |= LSR_OE;
                    self.overrun = false;
                }
                lsr
            }
            MCR => self.serial.read(MCR as u8) & MCR_MASK,
            RBR_THR | IER | LCR | MSR | SCR => self.serial.read(index as u8),
            DW_USR if self.designware => {
                let rx = self.rx_len();
                let mut usr = USR_TFNF | USR_TFE;
                if rx > 0 {
                    usr |= USR_RFNE;
                }
                if rx >= self.rx_capacity() {
                    usr |= USR_RFF;
                }
                usr
            }
            _ => 0,
        }
    }

    fn write_reg(&mut self, index: u64, value: u8) {
        let dlab = self.lcr() & LCR_DLAB != 0;
        match index {
            RBR_THR if !dlab => {
                if self.loopback() {
                    self.loop_back(value);
                } else {
                    self.serial_write(RBR_THR, value);
                }
                // The transmitter takes the byte at once, so the THR is empty again.
                self.thre_pending = true;
            }
            IER if !dlab => {
                let value = value & IER_MASK;
                if value & IER_THRI != 0 && self.ier & IER_THRI == 0 {
                    self.thre_pending = true;
                }
                self.ier = value;
                self.serial_write(IER, value);
            }
            IIR_FCR => self.write_fcr(value),
            MCR => {
                self.mcr = value & MCR_MASK;
                self.serial_write(MCR, self.mcr);
            }
            RBR_THR | IER | LCR | SCR => self.serial_write(index, value),
            // LSR and MSR are read-only ("writing is only used for factory testing").
            _ => {}
        }
    }

    /// A THR byte in loopback mode: into the receive FIFO. A full FIFO is an overrun; in
    /// 16450 mode the new byte replaces the one in the RBR, in FIFO mode it is lost.
    fn loop_back(&mut self, value: u8) {
        if self.rx_room() == 0 {
            self.overrun = true;
            if self.fifo_enabled() {
                return;
            }
            self.serial.read(RBR_THR as u8);
        }
        self.serial_write(RBR_THR, value);
    }

    fn write_fcr(&mut self, value: u8) {
        let enable = value & FCR_ENABLE_FIFO != 0;
        if enable != self.fifo_enabled() {
            // Changing FCR[0] clears both FIFOs, and the transmitter interrupt after it
            // is immediate if enabled.
            self.clear_rx();
            self.thre_pending = true;
        }
        if !enable {
            // The other bits are only programmed while FCR[0] is written as 1.
            self.fcr = 0;
            return;
        }
        if value & FCR_CLEAR_RCVR != 0 {
            self.clear_rx();
        }
        self.fcr = value & (FCR_ENABLE_FIFO | FCR_DMA_SELECT | FCR_TRIGGER_MASK);
    }

    /// The index of the register whose low byte is at byte `addr`, if any.
    fn register_at(&self, addr: u64) -> Option<u64> {
        let stride_mask = (1u64 << self.reg_shift) - 1;
        (addr & stride_mask == 0).then_some(addr >> self.reg_shift)
    }

    /// Walks an access of `len` bytes at `offset`: for each register whose low byte it
    /// covers, `f(index, byte position)`; the register's upper bytes are skipped.
    fn for_each_register(
        &mut self,
        offset: u64,
        len: usize,
        mut f: impl FnMut(&mut Self, u64, usize),
    ) {
        let width = self.reg_io_width as usize;
        let mut i = 0;
        while i < len {
            match offset
                .checked_add(i as u64)
                .and_then(|addr| self.register_at(addr))
            {
                Some(index) => {
                    f(self, index, i);
                    i += width;
                }
                None => i += 1,
            }
        }
    }
}

impl MmioDevice for Uart16550 {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        data.fill(0);
        self.for_each_register(offset, data.len(), |uart, index, i| {
            let value = uart.read_reg(index);
            if let Some(b) = data.get_mut(i) {
                *b = value;
            }
        });
        self.update_irq();
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        self.for_each_register(offset, data.len(), |uart, index, i| {
            if let Some(&b) = data.get(i) {
                uart.write_reg(index, b);
            }
        });
        self.update_irq();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Capture;
    use crate::irq::IrqLog;

    fn uart(reg_shift: u32, width: u32) -> (Uart16550, Capture, IrqLog) {
        let sink = Capture::default();
        let irq = IrqLog::default();
        let u = Uart16550::new(
            Box::new(sink.clone()),
            Box::new(irq.clone()),
            reg_shift,
            width,
            false,
        )
        .expect("valid layout");
        (u, sink, irq)
    }

    fn rb(u: &mut Uart16550, index: u64) -> u8 {
        let mut b = [0u8];
        u.read(index, &mut b);
        b[0]
    }

    fn wb(u: &mut Uart16550, index: u64, v: u8) {
        u.write(index, &[v]);
    }

    #[test]
    fn reset_values_follow_the_datasheet() {
        let (mut u, _, irq) = uart(0, 1);
        assert_eq!(rb(&mut u, IER), 0);
        assert_eq!(rb(&mut u, IIR_FCR), IIR_NO_INT, "no FIFOs until FCR[0]");
        assert_eq!(rb(&mut u, LCR), 0);
        assert_eq!(rb(&mut u, MCR), 0);
        assert_eq!(rb(&mut u, LSR), 0x60, "THRE and TEMT");
        assert!(irq.changes().is_empty());
    }

    #[test]
    fn layout_values_linux_rejects_are_errors() {
        for (shift, width, err) in [
            (0, 3, Uart16550Error::IoWidth(3)),
            (0, 8, Uart16550Error::IoWidth(8)),
            (17, 1, Uart16550Error::RegShift(17)),
            (64, 4, Uart16550Error::RegShift(64)),
        ] {
            let e = Uart16550::new(
                Box::new(std::io::sink()),
                Box::new(IrqLog::default()),
                shift,
                width,
                false,
            )
            .expect_err("invalid layout");
            assert_eq!(e, err);
        }
    }

    #[test]
    fn fcr_enables_fifos_and_sets_the_receive_depth() {
        let (mut u, _, _) = uart(0, 1);
        assert_eq!(u.receive(b"abc"), 1, "the RBR holds one byte");
        wb(&mut u, IIR_FCR, FCR_ENABLE_FIFO);
        assert_eq!(
            rb(&mut u, LSR) & LSR_DR,
            0,
            "changing FCR[0] clears the FIFO"
        );
        assert_eq!(rb(&mut u, IIR_FCR) & IIR_FIFO_ENABLED, IIR_FIFO_ENABLED);
        let data = [b'x'; 40];
        assert_eq!(u.receive(&data), FIFO_SIZE);
        assert!(!u.can_receive());
        wb(&mut u, IIR_FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
        assert_eq!(
            rb(&mut u, LSR) & LSR_DR,
            0,
            "FCR[1] clears the receive FIFO"
        );
        assert_eq!(rb(&mut u, IIR_FCR) & IIR_FIFO_ENABLED, IIR_FIFO_ENABLED);
    }

    #[test]
    fn fifo_clear_keeps_the_divisor_latch_selected() {
        let (mut u, _, _) = uart(0, 1);
        wb(&mut u, IIR_FCR, FCR_ENABLE_FIFO);
        u.receive(b"zz");
        wb(&mut u, LCR, LCR_DLAB | 3);
        wb(&mut u, RBR_THR, 0x0d);
        wb(&mut u, IIR_FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
        assert_eq!(rb(&mut u, LCR), LCR_DLAB | 3);
        assert_eq!(rb(&mut u, RBR_THR), 0x0d, "DLL untouched");
        wb(&mut u, LCR, 3);
        assert_eq!(rb(&mut u, LSR) & LSR_DR, 0);
    }

    #[test]
    fn iir_reports_the_highest_priority_source_and_only_thre_clears_on_read() {
        let (mut u, _, irq) = uart(0, 1);
        wb(&mut u, IIR_FCR, FCR_ENABLE_FIFO | 0xc0); // trigger at 14
        wb(&mut u, IER, IER_RDI | IER_THRI | IER_RLSI);
        assert!(irq.level());
        u.receive(b"hi");
        assert_eq!(
            rb(&mut u, IIR_FCR),
            0xc0 | IIR_RX_TIMEOUT,
            "below the trigger"
        );
        assert_eq!(
            rb(&mut u, IIR_FCR),
            0xc0 | IIR_RX_TIMEOUT,
            "not cleared by IIR"
        );
        assert_eq!(rb(&mut u, RBR_THR), b'h');
        assert_eq!(rb(&mut u, RBR_THR), b'i');
        assert_eq!(
            rb(&mut u, IIR_FCR),
            0xc0 | IIR_THRI,
            "THRE was pending all along"
        );
        assert_eq!(
            rb(&mut u, IIR_FCR),
            0xc0 | IIR_NO_INT,
            "and the read cleared it"
        );
        assert!(!irq.level());
        u.receive(&[b'.'; 14]);
        assert_eq!(rb(&mut u, IIR_FCR), 0xc0 | IIR_RDI, "at the trigger level");
    }

    #[test]
    fn loopback_overrun_sets_oe_and_the_line_status_interrupt() {
        let (mut u, out, irq) = uart(0, 1);
        wb(&mut u, MCR, MCR_LOOP);
        wb(&mut u, IER, IER_RLSI);
        wb(&mut u, RBR_THR, 1);
        wb(&mut u, RBR_THR, 2);
        assert!(irq.level());
        assert_eq!(rb(&mut u, IIR_FCR), IIR_RLSI);
        assert_eq!(rb(&mut u, LSR) & (LSR_OE | LSR_DR), LSR_OE | LSR_DR);
        assert!(!irq.level(), "reading LSR clears OE");
        assert_eq!(
            rb(&mut u, RBR_THR),
            2,
            "16450 mode: the new byte replaced the old"
        );
        assert!(
            out.bytes().is_empty(),
            "loopback bytes do not leave the chip"
        );
        assert_eq!(u.receive(b"x"), 0, "the serial input is disconnected");
    }

    #[test]
    fn mcr_upper_bits_read_zero() {
        let (mut u, _, _) = uart(0, 1);
        wb(&mut u, MCR, 0xff);
        assert_eq!(rb(&mut u, MCR), MCR_MASK);
    }
}
