//! Replays of what Linux 7.3's 8250 drivers do to a 16550-family UART, register access by
//! register access, with the widths they use: `serial_in`/`serial_out` are readb/writeb
//! at `index << regshift` for UPIO_MEM (no `reg-io-width`, or 1) and readl/writel for
//! UPIO_MEM32 (`reg-io-width = <4>`) (8250_port.c set_io_from_upio, 8250_early.c
//! serial8250_early_in/out, 8250_dw.c dw8250_serial_in32/out32). Followed code paths:
//! - earlycon (8250_early.c): init_port, serial_putc (THR, then LSR until both empty);
//! - `autoconfig()` and `autoconfig_16550a()` (also its CONFIG_SERIAL_8250_16550A_VARIANTS
//!   probes: EFR, NatSemi bank 2, 16750, XScale UUE, `size_fifo()`);
//! - of_serial (8250_of.c): PORT_16550A / PORT_16550 / PORT_8250 from the compatible,
//!   UPF_FIXED_TYPE, so no autoconfig; serial8250_config_port, the console's
//!   serial8250_console_setup -> set_termios, serial8250_console_write (byte and FIFO
//!   variants), serial8250_do_startup (clear FIFOs, THRE test, TXEN test),
//!   serial8250_default_handle_irq with serial8250_rx_chars / serial8250_tx_chars;
//! - dw8250 (8250_dw.c, 8250_dwlib.c): dw8250_setup_port's RE_EN / DLF / UCV / CPR reads,
//!   the fallback to autoconfig when CPR reads 0, the LCR write checks of
//!   dw8250_serial_out32, dw8250_set_divisor with dw8250_idle_enter / idle_exit (USR),
//!   dw8250_handle_irq.

mod common;

use std::collections::VecDeque;

use common::{readb, readl, readq, readw, writeb, writel, writeq, writew};
use devices::console::Capture;
use devices::uart16550::Uart16550;
use devices::{IrqLog, MmioDevice};

// include/uapi/linux/serial_reg.h
const UART_RX: u32 = 0;
const UART_TX: u32 = 0;
const UART_DLL: u32 = 0;
const UART_DLM: u32 = 1;
const UART_IER: u32 = 1;
const UART_IIR: u32 = 2;
const UART_FCR: u32 = 2;
const UART_EFR: u32 = 2;
const UART_LCR: u32 = 3;
const UART_MCR: u32 = 4;
const UART_LSR: u32 = 5;
const UART_MSR: u32 = 6;
const UART_SCR: u32 = 7;
const UART_IER_MSI: u32 = 0x08;
const UART_IER_RLSI: u32 = 0x04;
const UART_IER_THRI: u32 = 0x02;
const UART_IER_RDI: u32 = 0x01;
const UART_IER_UUE: u32 = 0x40;
const UART_IER_ALL_INTR: u32 = 0x0f;
const UART_IIR_NO_INT: u32 = 0x01;
const UART_IIR_ID: u32 = 0x0e;
const UART_IIR_THRI: u32 = 0x02;
const UART_IIR_RDI: u32 = 0x04;
const UART_IIR_BUSY: u32 = 0x07;
const UART_IIR_RX_TIMEOUT: u32 = 0x0c;
const UART_IIR_FIFO_ENABLED: u32 = 0xc0;
const UART_IIR_FIFO_ENABLED_16750: u32 = 0xe0;
const UART_FCR_ENABLE_FIFO: u32 = 0x01;
const UART_FCR_CLEAR_RCVR: u32 = 0x02;
const UART_FCR_CLEAR_XMIT: u32 = 0x04;
const UART_FCR_R_TRIG_10: u32 = 0x80;
const UART_FCR7_64BYTE: u32 = 0x20;
const UART_LCR_DLAB: u32 = 0x80;
const UART_LCR_SPAR: u32 = 0x20;
const UART_LCR_EPAR: u32 = 0x10;
const UART_LCR_WLEN8: u32 = 0x03;
const UART_LCR_CONF_MODE_A: u32 = UART_LCR_DLAB;
const UART_LCR_CONF_MODE_B: u32 = 0xbf;
const UART_MCR_LOOP: u32 = 0x10;
const UART_MCR_OUT2: u32 = 0x08;
const UART_MCR_RTS: u32 = 0x02;
const UART_MCR_DTR: u32 = 0x01;
const UART_LSR_TEMT: u32 = 0x40;
const UART_LSR_THRE: u32 = 0x20;
const UART_LSR_BI: u32 = 0x10;
const UART_LSR_DR: u32 = 0x01;
const UART_LSR_BOTH_EMPTY: u32 = UART_LSR_TEMT | UART_LSR_THRE;
const UART_MSR_DCD: u32 = 0x80;
const UART_MSR_CTS: u32 = 0x10;
const UART_MSR_STATUS_BITS: u32 = 0xf0;
// drivers/tty/serial/8250/8250_dwlib.h
const DW_UART_USR: u32 = 0x1f;
const DW_UART_TCR: u64 = 0xac;
const DW_UART_DE_EN: u64 = 0xb0;
const DW_UART_RE_EN: u64 = 0xb4;
const DW_UART_DLF: u64 = 0xc0;
const DW_UART_CPR: u64 = 0xf4;
const DW_UART_UCV: u64 = 0xf8;
const DW_UART_USR_BUSY: u32 = 1;

const BASE_BAUD_CLK: u32 = 1_843_200; // BASE_BAUD * 16 on arm64 (asm/serial.h)

/// UPIO_MEM (reg-io-width 1) or UPIO_MEM32 (reg-io-width 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Io {
    Mem,
    Mem32,
}

impl Io {
    fn width(self) -> u32 {
        match self {
            Io::Mem => 1,
            Io::Mem32 => 4,
        }
    }
}

/// The parts of `struct uart_8250_port` the replays use, and the port's accessors.
struct Port {
    d: Uart16550,
    out: Capture,
    irq: IrqLog,
    shift: u32,
    io: Io,
    /// dw8250 without `snps,uart-16550-compatible`: serial_out goes through
    /// dw8250_can_skip_reg_write and dw8250_check_lcr.
    dw: bool,
    ier: u32,
    mcr: u32,
    lcr: u32,
    fcr: u32,
    /// UART_CAP_FIFO
    cap_fifo: bool,
    fifosize: usize,
    tx_loadsz: usize,
    bug_thre: bool,
    bug_txen: bool,
    /// The tty layer's transmit buffer (port->state->port.xmit_fifo).
    xmit: VecDeque<u8>,
    /// What the tty layer was handed (tty_flip_buffer_push).
    received: Vec<u8>,
}

impl Port {
    fn new(shift: u32, io: Io, dw: bool) -> Port {
        let out = Capture::default();
        let irq = IrqLog::default();
        let d = Uart16550::new(
            Box::new(out.clone()),
            Box::new(irq.clone()),
            shift,
            io.width(),
            dw,
        )
        .expect("the DT's layout is valid");
        Port {
            d,
            out,
            irq,
            shift,
            io,
            dw,
            ier: 0,
            mcr: 0,
            lcr: 0,
            fcr: 0,
            cap_fifo: false,
            fifosize: 0,
            tx_loadsz: 0,
            bug_thre: false,
            bug_txen: false,
            xmit: VecDeque::new(),
            received: Vec::new(),
        }
    }

    fn raw_in(&mut self, index: u32) -> u32 {
        let off = u64::from(index) << self.shift;
        match self.io {
            Io::Mem => u32::from(readb(&mut self.d, off)),
            Io::Mem32 => readl(&mut self.d, off),
        }
    }

    fn raw_out(&mut self, index: u32, value: u32) {
        let off = u64::from(index) << self.shift;
        match self.io {
            Io::Mem => writeb(&mut self.d, value as u8, off),
            Io::Mem32 => writel(&mut self.d, value, off),
        }
    }

    /// serial_in / serial_port_in.
    fn serial_in(&mut self, index: u32) -> u32 {
        let v = self.raw_in(index);
        assert_eq!(v & !0xff, 0, "upper bits of register {index} must read 0");
        v
    }

    /// serial_out / serial_port_out.
    fn serial_out(&mut self, index: u32, value: u32) {
        if self.dw && index == UART_LCR && self.serial_in(UART_LCR) == value {
            return; // dw8250_can_skip_reg_write
        }
        self.raw_out(index, value);
        if self.dw && index == UART_LCR {
            // dw8250_check_lcr: a mismatch means the write was refused while busy, and the
            // driver would go through dw8250_idle_enter to retry it.
            let lcr = self.serial_in(UART_LCR);
            assert_eq!(
                value & !UART_LCR_SPAR,
                lcr & !UART_LCR_SPAR,
                "LCR write refused"
            );
        }
    }

    /// serial_port_out_sync (MMIO): the write, then a read of LCR.
    fn serial_out_sync(&mut self, index: u32, value: u32) {
        self.serial_out(index, value);
        self.serial_in(UART_LCR);
    }

    fn dl_read(&mut self) -> u32 {
        let dll = self.serial_in(UART_DLL);
        let dlm = self.serial_in(UART_DLM);
        dll | dlm << 8
    }

    fn dl_write(&mut self, value: u32) {
        self.serial_out(UART_DLL, value & 0xff);
        self.serial_out(UART_DLM, value >> 8 & 0xff);
    }

    fn usr(&mut self) -> u32 {
        self.serial_in(DW_UART_USR)
    }

    /// A bounded wait on LSR (wait_for_lsr with frame_time unset polls up to 10000 times;
    /// the model has no time of its own, so it must be ready within a few reads).
    fn wait_for_lsr(&mut self, bits: u32) {
        for _ in 0..4 {
            if self.serial_in(UART_LSR) & bits == bits {
                return;
            }
        }
        panic!("waiting for LSR 0x{bits:x} would time out in the guest");
    }

    fn clear_fifos(&mut self) {
        if self.cap_fifo {
            self.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
            self.serial_out(
                UART_FCR,
                UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT,
            );
            self.serial_out(UART_FCR, 0);
        }
    }

    fn clear_interrupts(&mut self) {
        self.serial_in(UART_LSR);
        self.serial_in(UART_RX);
        self.serial_in(UART_IIR);
        self.serial_in(UART_MSR);
    }

    /// serial8250_set_mctrl with TIOCM bits already as MCR bits.
    fn set_mctrl(&mut self, mctrl: u32) {
        let mcr = mctrl | self.mcr;
        self.serial_out(UART_MCR, mcr);
    }

    /// Type and capabilities from uart_config[] (serial8250_set_defaults for fixed
    /// types, or the end of autoconfig()), then serial8250_config_port's up->fcr.
    fn set_type(&mut self, kind: &str) {
        (self.fifosize, self.tx_loadsz, self.cap_fifo, self.fcr) = match kind {
            "16550A" => (16, 16, true, UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10),
            "16550" | "16450" | "8250" => (1, 1, false, 0),
            other => panic!("unexpected port type {other}"),
        };
    }
}

// --- earlycon (8250_early.c) ---

/// early_serial8250_setup: init_port when a baud rate is known, else only mask IER.
fn early_setup(p: &mut Port, baud: Option<u32>, uartclk: u32) {
    let Some(baud) = baud else {
        let ier = p.serial_in(UART_IER);
        p.serial_out(UART_IER, ier & UART_IER_UUE);
        return;
    };
    p.serial_out(UART_LCR, UART_LCR_WLEN8);
    let ier = p.serial_in(UART_IER);
    p.serial_out(UART_IER, ier & UART_IER_UUE);
    p.serial_out(UART_FCR, 0);
    p.serial_out(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
    if uartclk != 0 {
        let divisor = (uartclk + 8 * baud) / (16 * baud); // DIV_ROUND_CLOSEST
        let c = p.serial_in(UART_LCR);
        p.serial_out(UART_LCR, c | UART_LCR_DLAB);
        p.serial_out(UART_DLL, divisor & 0xff);
        p.serial_out(UART_DLM, divisor >> 8 & 0xff);
        p.serial_out(UART_LCR, c & !UART_LCR_DLAB);
    }
}

/// early_serial8250_write: uart_console_write with serial_putc.
fn early_write(p: &mut Port, s: &[u8]) {
    let putc = |p: &mut Port, c: u8| {
        p.serial_out(UART_TX, u32::from(c));
        p.wait_for_lsr(UART_LSR_BOTH_EMPTY); // until uart_lsr_tx_empty(status)
    };
    for &c in s {
        if c == b'\n' {
            putc(p, b'\r');
        }
        putc(p, c);
    }
}

// --- autoconfig (8250_port.c) ---

fn autoconfig_8250(p: &mut Port) -> &'static str {
    let scratch = p.serial_in(UART_SCR);
    p.serial_out(UART_SCR, 0xa5);
    let status1 = p.serial_in(UART_SCR);
    p.serial_out(UART_SCR, 0x5a);
    let status2 = p.serial_in(UART_SCR);
    p.serial_out(UART_SCR, scratch);
    if status1 == 0xa5 && status2 == 0x5a {
        "16450"
    } else {
        "8250"
    }
}

fn size_fifo(p: &mut Port) -> u32 {
    let old_lcr = p.serial_in(UART_LCR);
    p.serial_out(UART_LCR, 0);
    let old_fcr = p.serial_in(UART_FCR); // reads IIR, as the kernel does
    let old_mcr = p.serial_in(UART_MCR);
    p.serial_out(
        UART_FCR,
        UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT,
    );
    p.serial_out(UART_MCR, UART_MCR_LOOP);
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    let old_dl = p.dl_read();
    p.dl_write(1);
    p.serial_out(UART_LCR, UART_LCR_WLEN8);
    for count in 0..256 {
        p.serial_out(UART_TX, count);
    }
    let mut count = 0;
    while p.serial_in(UART_LSR) & UART_LSR_DR != 0 && count < 256 {
        p.serial_in(UART_RX);
        count += 1;
    }
    p.serial_out(UART_FCR, old_fcr);
    p.serial_out(UART_MCR, old_mcr);
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    p.dl_write(old_dl);
    p.serial_out(UART_LCR, old_lcr);
    count
}

/// autoconfig_16550a; `full_probe` is CONFIG_SERIAL_8250_16550A_VARIANTS (or
/// UPF_FULL_PROBE). The EFR-chip branches are not followed: reaching them fails the test.
fn autoconfig_16550a(p: &mut Port, full_probe: bool) -> &'static str {
    if !full_probe {
        return "16550A";
    }
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    if p.serial_in(UART_EFR) == 0 {
        return "ST16C650V1 (EFR with DLAB)";
    }
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_B);
    if p.serial_in(UART_EFR) == 0 {
        return "EFR chip (16650V2/16850/16C950)";
    }
    // National Semiconductor SuperIO: EXCR1 in bank 2 mirrors MCR LOOP.
    p.serial_out(UART_LCR, 0);
    let status1 = p.serial_in(UART_MCR);
    p.serial_out(UART_LCR, 0xe0);
    let mut status2 = p.serial_in(0x02);
    if (status2 ^ status1) & UART_MCR_LOOP == 0 {
        p.serial_out(UART_LCR, 0);
        p.serial_out(UART_MCR, status1 ^ UART_MCR_LOOP);
        p.serial_out(UART_LCR, 0xe0);
        status2 = p.serial_in(0x02);
        p.serial_out(UART_LCR, 0);
        p.serial_out(UART_MCR, status1);
        if (status2 ^ status1) & UART_MCR_LOOP != 0 {
            return "NS16550A";
        }
    }
    // TI16750: IIR bit 5 with the 64-byte FIFO enabled under DLAB.
    p.serial_out(UART_LCR, 0);
    p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    let s1 = p.serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED_16750;
    p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_A);
    p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
    let s2 = p.serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED_16750;
    p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    p.serial_out(UART_LCR, 0);
    if s1 == UART_IIR_FIFO_ENABLED && s2 == UART_IIR_FIFO_ENABLED_16750 {
        return "16750";
    }
    // XScale: IER bit 6 (UUE) sticks.
    let iersave = p.serial_in(UART_IER);
    p.serial_out(UART_IER, iersave & !UART_IER_UUE);
    if p.serial_in(UART_IER) & UART_IER_UUE == 0 {
        p.serial_out(UART_IER, iersave | UART_IER_UUE);
        if p.serial_in(UART_IER) & UART_IER_UUE != 0 {
            return "XScale";
        }
    }
    p.serial_out(UART_IER, iersave);
    if size_fifo(p) == 64 {
        return "U6_16550A";
    }
    "16550A"
}

/// autoconfig(): existence test, loopback test, FIFO type from IIR[7:6], then the reset
/// at the end (with the port's new capabilities).
fn autoconfig(p: &mut Port, full_probe: bool) -> &'static str {
    let scratch = p.serial_in(UART_IER);
    p.serial_out(UART_IER, 0);
    let scratch2 = p.serial_in(UART_IER) & UART_IER_ALL_INTR;
    p.serial_out(UART_IER, UART_IER_ALL_INTR);
    let scratch3 = p.serial_in(UART_IER) & UART_IER_ALL_INTR;
    p.serial_out(UART_IER, scratch);
    if scratch2 != 0 || scratch3 != UART_IER_ALL_INTR {
        return "unknown (IER test failed)";
    }
    let save_mcr = p.serial_in(UART_MCR);
    let save_lcr = p.serial_in(UART_LCR);
    p.serial_out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    let status1 = p.serial_in(UART_MSR) & UART_MSR_STATUS_BITS;
    p.serial_out(UART_MCR, save_mcr);
    if status1 != UART_MSR_DCD | UART_MSR_CTS {
        return "unknown (loopback test failed)";
    }
    p.serial_out(UART_LCR, UART_LCR_CONF_MODE_B);
    p.serial_out(UART_EFR, 0);
    p.serial_out(UART_LCR, 0);
    p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    let kind = match p.serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED {
        0x00 => autoconfig_8250(p),
        0x80 => "16550",
        0xc0 => autoconfig_16550a(p, full_probe),
        _ => "unknown",
    };
    p.serial_out(UART_LCR, save_lcr);
    p.set_type(kind);
    p.serial_out(UART_MCR, save_mcr);
    p.clear_fifos();
    p.serial_in(UART_RX);
    p.serial_out(UART_IER, 0); // serial8250_clear_IER
    kind
}

// --- the 8250 core's port operations (8250_port.c) ---

/// serial8250_do_set_divisor, or dw8250_set_divisor around it for DesignWare ports.
fn set_divisor(p: &mut Port, quot: u32) {
    if !p.dw {
        p.serial_out(UART_LCR, p.lcr | UART_LCR_DLAB);
        p.dl_write(quot);
        return;
    }
    dw8250_idle_enter(p);
    p.serial_out(UART_LCR, p.lcr | UART_LCR_DLAB);
    assert_ne!(p.serial_in(UART_LCR) & UART_LCR_DLAB, 0, "idle_failed");
    p.dl_write(quot);
    p.serial_out(UART_LCR, p.lcr);
    dw8250_idle_exit(p);
}

/// serial8250_do_set_termios for CS8, no parity, CLOCAL (uart_set_options always sets
/// it), at `baud`.
fn set_termios(p: &mut Port, baud: u32, uartclk: u32) {
    // serial8250_compute_lcr: CS8, and EPAR since PARODD is clear.
    let lcr = UART_LCR_WLEN8 | UART_LCR_EPAR;
    let quot = (uartclk / 16 + baud / 2) / baud; // uart_get_divisor
    p.lcr = lcr;
    // serial8250_set_ier: no MSI (CLOCAL, no CRTSCTS).
    p.ier &= !UART_IER_MSI;
    p.serial_out(UART_IER, p.ier);
    set_divisor(p, quot);
    // serial8250_set_fcr
    p.serial_out(UART_LCR, p.lcr);
    if p.fcr & UART_FCR_ENABLE_FIFO != 0 {
        p.serial_out(UART_FCR, UART_FCR_ENABLE_FIFO);
    }
    p.serial_out(UART_FCR, p.fcr);
    p.set_mctrl(UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
}

/// serial8250_do_startup for a port with an interrupt.
fn startup(p: &mut Port) {
    p.mcr = 0;
    p.clear_fifos();
    p.clear_interrupts();
    assert_ne!(p.serial_in(UART_LSR), 0xff, "LSR safety check engaged!");
    // serial8250_THRE_test
    p.wait_for_lsr(UART_LSR_THRE);
    p.serial_out_sync(UART_IER, UART_IER_THRI);
    let iir_noint1 = p.serial_in(UART_IIR) & UART_IIR_NO_INT != 0;
    p.serial_out(UART_IER, 0);
    p.serial_out_sync(UART_IER, UART_IER_THRI);
    let iir_noint2 = p.serial_in(UART_IIR) & UART_IIR_NO_INT != 0;
    p.serial_out(UART_IER, 0);
    p.bug_thre = !iir_noint1 && iir_noint2;
    // serial8250_initialize: LCR, serial8250_init_mctrl (OUT2 with an irq), TXEN test.
    p.serial_out(UART_LCR, UART_LCR_WLEN8);
    p.set_mctrl(UART_MCR_OUT2);
    p.serial_out(UART_IER, UART_IER_THRI);
    let lsr_temt = p.serial_in(UART_LSR) & UART_LSR_TEMT != 0;
    let iir_noint = p.serial_in(UART_IIR) & UART_IIR_NO_INT != 0;
    p.serial_out(UART_IER, 0);
    p.bug_txen = lsr_temt && iir_noint;
    p.clear_interrupts();
    p.ier = UART_IER_RLSI | UART_IER_RDI;
}

/// serial8250_console_write: save and clear IER, write (FIFO or byte variant), wait for
/// both empty, restore IER.
fn console_write(p: &mut Port, s: &[u8], use_fifo: bool) {
    let ier = p.serial_in(UART_IER);
    p.serial_out(UART_IER, 0);
    if use_fifo {
        // __serial8250_console_fifo_write
        let mut i = 0;
        let mut cr_sent = false;
        while i < s.len() {
            p.wait_for_lsr(UART_LSR_THRE); // serial8250_fifo_wait_for_lsr_thre
            let mut n = 0;
            while n < p.tx_loadsz && i < s.len() {
                if s[i] == b'\n' && !cr_sent {
                    p.serial_out(UART_TX, u32::from(b'\r'));
                    cr_sent = true;
                } else {
                    p.serial_out(UART_TX, u32::from(s[i]));
                    i += 1;
                    cr_sent = false;
                }
                n += 1;
            }
        }
        p.wait_for_lsr(UART_LSR_THRE);
    } else {
        for &c in s {
            if c == b'\n' {
                p.wait_for_lsr(UART_LSR_THRE);
                p.serial_out(UART_TX, u32::from(b'\r'));
            }
            p.wait_for_lsr(UART_LSR_THRE); // serial8250_console_wait_putchar
            p.serial_out(UART_TX, u32::from(c));
        }
    }
    p.wait_for_lsr(UART_LSR_BOTH_EMPTY);
    p.serial_out(UART_IER, ier);
}

/// __stop_tx -> serial8250_clear_THRI.
fn stop_tx(p: &mut Port) {
    if p.ier & UART_IER_THRI != 0 {
        p.ier &= !UART_IER_THRI;
        p.serial_out(UART_IER, p.ier);
    }
}

/// serial8250_start_tx -> __start_tx -> serial8250_set_THRI (no DMA, no RS-485).
fn start_tx(p: &mut Port, data: &[u8]) {
    p.xmit.extend(data);
    if p.ier & UART_IER_THRI == 0 {
        p.ier |= UART_IER_THRI;
        p.serial_out(UART_IER, p.ier);
        if p.bug_txen && p.serial_in(UART_LSR) & UART_LSR_THRE != 0 {
            tx_chars(p);
        }
    }
}

fn tx_chars(p: &mut Port) {
    if p.xmit.is_empty() {
        stop_tx(p);
        return;
    }
    for _ in 0..p.tx_loadsz {
        let Some(c) = p.xmit.pop_front() else { break };
        p.serial_out(UART_TX, u32::from(c));
    }
    if p.xmit.is_empty() {
        stop_tx(p);
    }
}

/// serial8250_handle_irq_locked: RX while DR or BI (serial8250_rx_chars), modem status,
/// TX when THRE and THRI.
fn handle_irq_locked(p: &mut Port) {
    let mut status = p.serial_in(UART_LSR);
    if status & (UART_LSR_DR | UART_LSR_BI) != 0 {
        let mut max_count = 256;
        loop {
            assert_ne!(status & UART_LSR_DR, 0);
            let c = p.serial_in(UART_RX) as u8;
            p.received.push(c);
            max_count -= 1;
            if max_count == 0 {
                break;
            }
            status = p.serial_in(UART_LSR);
            if status & (UART_LSR_DR | UART_LSR_BI) == 0 {
                break;
            }
        }
    }
    p.serial_in(UART_MSR); // serial8250_modem_status
    if status & UART_LSR_THRE != 0 && p.ier & UART_IER_THRI != 0 {
        tx_chars(p);
    }
}

/// The port's handle_irq: serial8250_default_handle_irq, or dw8250_handle_irq. Returns
/// whether it claimed the interrupt (IRQ_HANDLED).
fn handle_irq(p: &mut Port) -> bool {
    let iir = p.serial_in(UART_IIR);
    if !p.dw {
        if iir & UART_IIR_NO_INT != 0 {
            return false;
        }
        handle_irq_locked(p);
        return true;
    }
    match iir & 0x0f {
        UART_IIR_NO_INT => return false,
        UART_IIR_BUSY => {
            p.usr();
            return true;
        }
        _ => {}
    }
    if iir & 0x3f == UART_IIR_RX_TIMEOUT {
        let status = p.serial_in(UART_LSR);
        assert_ne!(
            status & (UART_LSR_DR | UART_LSR_BI),
            0,
            "an RX timeout without data would need the bogus RX read"
        );
    }
    handle_irq_locked(p);
    true
}

/// The interrupt controller: runs the handler while the level line is asserted, as a
/// level-sensitive GIC input does.
fn service_interrupts(p: &mut Port) -> usize {
    let mut n = 0;
    while p.irq.level() {
        assert!(
            handle_irq(p),
            "IRQ asserted but the handler found no interrupt"
        );
        n += 1;
        assert!(n < 1000, "interrupt storm");
    }
    n
}

// --- dw8250 (8250_dw.c, 8250_dwlib.c) ---

/// dw8250_setup_port's register reads; returns the CPR value it acts on.
fn dw8250_setup_port(p: &mut Port) -> u32 {
    // dw8250_detect_rs485_hw
    writel(&mut p.d, 1, DW_UART_RE_EN);
    let rs485 = readl(&mut p.d, DW_UART_RE_EN);
    writel(&mut p.d, 0, DW_UART_RE_EN);
    assert_eq!(rs485, 0, "no RS-485 hardware: serial8250_em485_* instead");
    // Fractional divisor: DLF keeps ~0 only if present.
    let old_dlf = readl(&mut p.d, DW_UART_DLF);
    writel(&mut p.d, !0, DW_UART_DLF);
    let dlf = readl(&mut p.d, DW_UART_DLF);
    writel(&mut p.d, old_dlf, DW_UART_DLF);
    assert_eq!(dlf, 0, "no DLF: the 8250 core's divisor");
    assert_eq!(readl(&mut p.d, DW_UART_UCV), 0);
    readl(&mut p.d, DW_UART_CPR)
}

/// dw8250_idle_enter: IER off, wait THRE, loopback, clear FIFOs until USR is not busy,
/// drop a received byte.
fn dw8250_idle_enter(p: &mut Port) {
    p.serial_out(UART_IER, 0);
    p.wait_for_lsr(UART_LSR_THRE);
    p.serial_out(UART_MCR, p.mcr | UART_MCR_LOOP);
    let mut retries = 4;
    loop {
        p.clear_fifos();
        if p.usr() & DW_UART_USR_BUSY == 0 {
            break;
        }
        retries -= 1;
        assert!(retries > 0, "USR stays busy");
    }
    if p.serial_in(UART_LSR) & UART_LSR_DR != 0 {
        p.serial_in(UART_RX);
    }
    assert_eq!(p.usr() & DW_UART_USR_BUSY, 0, "-EBUSY");
}

fn dw8250_idle_exit(p: &mut Port) {
    if p.cap_fifo {
        p.serial_out(UART_FCR, p.fcr);
    }
    p.serial_out(UART_MCR, p.mcr);
    p.serial_out(UART_IER, p.ier);
}

/// Everything from probe to an open tty: for of_serial a fixed `kind`, for dw8250 the
/// CPR fallback and autoconfig. Then the console's set_termios, a console line before
/// the tty is initialised (byte variant), and serial8250_do_startup + set_termios.
fn bring_up(p: &mut Port, fixed: Option<&str>) {
    match fixed {
        Some(kind) => p.set_type(kind),
        None => {
            assert_eq!(autoconfig(p, false), "16550A");
        }
    }
    // uart_configure_port: set_mctrl(port->mctrl & TIOCM_DTR) once the type is known.
    p.set_mctrl(0);
    // univ8250_console_setup -> serial8250_console_setup -> uart_set_options.
    set_termios(p, 115_200, BASE_BAUD_CLK);
    console_write(p, b"printk: console [ttyS0] enabled\n", false);
    startup(p);
    set_termios(p, 115_200, BASE_BAUD_CLK);
    assert!(!p.bug_thre, "THRE re-asserts when IER.THRI is set again");
    assert!(!p.bug_txen, "the THRE interrupt follows IER.THRI at once");
}

const LAYOUTS: [(u32, Io); 2] = [(0, Io::Mem), (2, Io::Mem32)];

#[test]
fn earlycon_writes_thr_and_polls_lsr_with_both_register_layouts() {
    for (shift, io) in LAYOUTS {
        let mut p = Port::new(shift, io, false);
        // earlycon=uart8250,mmio[32],<addr>,115200n8 (or the DT's stdout-path options)
        early_setup(&mut p, Some(115_200), BASE_BAUD_CLK);
        early_write(
            &mut p,
            b"Booting Linux on physical CPU 0x0\nLinux version 7.3.4\n",
        );
        assert_eq!(
            p.out.text(),
            "Booting Linux on physical CPU 0x0\r\nLinux version 7.3.4\r\n",
            "shift {shift}"
        );
        // The divisor the earlycon programmed stays in the latch.
        let lcr = p.serial_in(UART_LCR);
        assert_eq!(lcr, UART_LCR_WLEN8);
        p.serial_out(UART_LCR, lcr | UART_LCR_DLAB);
        assert_eq!(p.dl_read(), 1);
        p.serial_out(UART_LCR, lcr);
        assert!(p.irq.changes().is_empty(), "IER stays 0: no interrupt");
    }
}

#[test]
fn earlycon_without_a_baud_rate_only_masks_ier() {
    // stdout-path = "serial0" with no options and no current-speed: baud 0.
    let mut p = Port::new(2, Io::Mem32, true);
    early_setup(&mut p, None, 0);
    early_write(&mut p, b"ok\n");
    assert_eq!(p.out.text(), "ok\r\n");
}

#[test]
fn autoconfig_finds_a_16550a_with_fifos_with_both_layouts() {
    for (shift, io) in LAYOUTS {
        for full_probe in [false, true] {
            let mut p = Port::new(shift, io, false);
            early_setup(&mut p, Some(115_200), BASE_BAUD_CLK);
            assert_eq!(
                autoconfig(&mut p, full_probe),
                "16550A",
                "shift {shift}, 16550A_VARIANTS {full_probe}"
            );
            assert_eq!(p.fifosize, 16);
            // autoconfig restored LCR and MCR, left FIFOs off and IER clear.
            assert_eq!(p.serial_in(UART_LCR), UART_LCR_WLEN8);
            assert_eq!(p.serial_in(UART_MCR), UART_MCR_DTR | UART_MCR_RTS);
            assert_eq!(p.serial_in(UART_IER), 0);
            assert_eq!(p.serial_in(UART_IIR), UART_IIR_NO_INT);
            assert!(
                p.out.bytes().is_empty(),
                "loopback bytes never reach the host"
            );
        }
    }
}

#[test]
fn size_fifo_counts_sixteen_bytes() {
    let mut p = Port::new(0, Io::Mem, false);
    assert_eq!(size_fifo(&mut p), 16, "not a U6_16550A's 64");
}

#[test]
fn of_serial_16550a_console_and_transmit_with_thre_interrupts() {
    for (shift, io) in LAYOUTS {
        let mut p = Port::new(shift, io, false);
        early_setup(&mut p, Some(115_200), BASE_BAUD_CLK);
        early_write(&mut p, b"early\n");
        bring_up(&mut p, Some("16550A"));
        assert_eq!(
            p.serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED,
            UART_IIR_FIFO_ENABLED
        );
        assert!(!p.irq.level(), "nothing to do: RDI and RLSI only");
        // A tty write: THRI on, the THRE interrupt, 16 bytes per interrupt, THRI off.
        let data: Vec<u8> = (0..100).map(|i| b'a' + (i % 26) as u8).collect();
        start_tx(&mut p, &data);
        assert!(p.irq.level(), "THRE interrupt once THRI is enabled");
        let rounds = service_interrupts(&mut p);
        assert_eq!(rounds, 7, "100 bytes at tx_loadsz 16");
        assert_eq!(p.ier & UART_IER_THRI, 0, "__stop_tx");
        // The console (FIFO variant once the tty is up) interleaves with the tty.
        console_write(&mut p, b"[    1.0] hello\n", true);
        let expected = format!(
            "early\r\nprintk: console [ttyS0] enabled\r\n{}[    1.0] hello\r\n",
            String::from_utf8_lossy(&data)
        );
        assert_eq!(p.out.text(), expected, "shift {shift}");
        assert!(!p.irq.level());
    }
}

#[test]
fn console_write_restores_thri_and_transmission_resumes() {
    let mut p = Port::new(0, Io::Mem, false);
    bring_up(&mut p, Some("16550A"));
    start_tx(&mut p, &[b'x'; 40]);
    // The first interrupt sends 16 bytes; then a printk interrupts the transmission.
    assert_eq!(p.raw_in(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
    assert!(!p.irq.level(), "reading IIR cleared the THRE source");
    tx_chars(&mut p);
    assert!(p.irq.level(), "THR empty again");
    console_write(&mut p, b"!\n", true);
    assert!(p.irq.level(), "IER.THRI restored: THRE interrupt again");
    service_interrupts(&mut p);
    let text = p.out.text();
    assert!(text.ends_with(&format!("{}!\r\n{}", "x".repeat(16), "x".repeat(24))));
}

#[test]
fn of_serial_ns8250_and_ns16550_run_without_fifos() {
    for kind in ["8250", "16550"] {
        let mut p = Port::new(0, Io::Mem, false);
        bring_up(&mut p, Some(kind));
        assert_eq!(p.serial_in(UART_IIR) & UART_IIR_FIFO_ENABLED, 0, "{kind}");
        start_tx(&mut p, b"abc");
        assert_eq!(service_interrupts(&mut p), 3, "one byte per THRE interrupt");
        assert_eq!(p.received, b"");
        assert_eq!(p.d.receive(b"xyz"), 1, "{kind}: only the RBR");
        service_interrupts(&mut p);
        assert_eq!(p.received, b"x");
        assert!(p.out.text().ends_with("abc"));
    }
}

#[test]
fn receive_interrupts_rda_and_timeout_and_the_handler_drains_the_fifo() {
    for (shift, io) in LAYOUTS {
        let mut p = Port::new(shift, io, false);
        bring_up(&mut p, Some("16550A"));
        assert!(p.d.accepting_input());
        let before = p.irq.changes().len();
        // Below the trigger level (8): character timeout.
        assert_eq!(p.d.receive(b"ls\n"), 3);
        assert!(p.irq.level());
        let iir = p.raw_in(UART_IIR);
        assert_eq!(iir, UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
        assert_eq!(service_interrupts(&mut p), 1);
        assert_eq!(p.received, b"ls\n");
        assert!(!p.irq.level());
        // At the trigger level: received data available.
        assert_eq!(p.d.receive(b"uname -a\n"), 9);
        assert_eq!(p.raw_in(UART_IIR) & UART_IIR_ID, UART_IIR_RDI);
        assert_eq!(service_interrupts(&mut p), 1);
        assert_eq!(p.received, b"ls\nuname -a\n");
        assert!(!p.irq.level());
        assert_eq!(p.irq.changes()[before..], [true, false, true, false]);
    }
}

#[test]
fn receive_and_transmit_together() {
    let mut p = Port::new(2, Io::Mem32, false);
    bring_up(&mut p, Some("16550A"));
    start_tx(&mut p, &[b'>'; 20]);
    p.d.receive(b"y");
    // One interrupt services both: RX first (higher priority), then TX from LSR.THRE.
    assert_eq!(p.raw_in(UART_IIR) & UART_IIR_ID, UART_IIR_RX_TIMEOUT);
    service_interrupts(&mut p);
    assert_eq!(p.received, b"y");
    assert!(p.out.text().ends_with(&">".repeat(20)));
    assert!(!p.irq.level());
}

#[test]
fn host_input_is_bounded_by_the_fifo_and_waits_for_the_driver() {
    let mut p = Port::new(0, Io::Mem, false);
    assert!(!p.d.accepting_input(), "no driver yet");
    bring_up(&mut p, Some("16550A"));
    assert!(p.d.accepting_input());
    let input: Vec<u8> = (0..100u8).collect();
    let mut pending: &[u8] = &input;
    let mut rounds = 0;
    while !pending.is_empty() {
        let taken = p.d.receive(pending);
        assert!(taken <= 16, "at most the FIFO");
        assert!(taken > 0, "the handler made room");
        assert!(!p.d.can_receive() || taken == pending.len());
        pending = &pending[taken..];
        service_interrupts(&mut p);
        rounds += 1;
    }
    assert_eq!(rounds, 7);
    assert_eq!(p.received, input);
    // In loopback (dw8250_idle_enter, autoconfig) the input is disconnected.
    p.serial_out(UART_MCR, UART_MCR_LOOP);
    assert!(!p.d.accepting_input());
    assert_eq!(p.d.receive(b"lost?"), 0);
}

#[test]
fn dw8250_probe_falls_back_to_autoconfig_and_runs_with_usr() {
    for (shift, io) in LAYOUTS {
        let mut p = Port::new(shift, io, true);
        early_setup(&mut p, Some(115_200), BASE_BAUD_CLK);
        let cpr = dw8250_setup_port(&mut p);
        // CPR 0 and no cpr_value quirk for snps,dw-apb-uart: type stays PORT_8250 without
        // UPF_FIXED_TYPE and fifosize 0 (no DMA), so uart_configure_port autoconfigs.
        assert_eq!(cpr, 0);
        // Extra DW registers read zero and ignore writes.
        for off in [
            DW_UART_TCR,
            DW_UART_DE_EN,
            DW_UART_RE_EN,
            DW_UART_DLF,
            DW_UART_UCV,
        ] {
            writel(&mut p.d, 0xffff_ffff, off);
            assert_eq!(readl(&mut p.d, off), 0, "0x{off:x}");
        }
        let usr_off = u64::from(DW_UART_USR) << shift;
        assert_eq!(usr_off, if shift == 2 { 0x7c } else { 0x1f });
        assert_eq!(p.usr() & DW_UART_USR_BUSY, 0);
        bring_up(&mut p, None);
        // set_termios went through dw8250_set_divisor (idle enter / exit).
        assert_eq!(
            p.serial_in(UART_MCR) & UART_MCR_LOOP,
            0,
            "idle_exit left loopback"
        );
        assert_eq!(p.serial_in(UART_IER), UART_IER_RLSI | UART_IER_RDI);
        p.serial_out(UART_LCR, p.lcr | UART_LCR_DLAB);
        assert_eq!(p.dl_read(), 1);
        p.serial_out(UART_LCR, p.lcr);
        // Transmit and receive through dw8250_handle_irq.
        start_tx(&mut p, b"dw says hi\n");
        p.d.receive(b"q");
        service_interrupts(&mut p);
        assert_eq!(p.received, b"q");
        assert!(p.out.text().ends_with("enabled\r\ndw says hi\n"));
        // USR: not busy, TX FIFO empty and not full, RX FIFO empty.
        assert_eq!(p.usr(), 0x06);
        p.d.receive(b"0123456789abcdef+");
        assert_eq!(p.usr(), 0x1e, "RX FIFO not empty and full");
        service_interrupts(&mut p);
        assert_eq!(p.received, b"q0123456789abcdef");
    }
}

#[test]
fn the_low_byte_lane_is_the_register_and_the_rest_read_zero() {
    let (out, irq) = (Capture::default(), IrqLog::default());
    let mut d =
        Uart16550::new(Box::new(out.clone()), Box::new(irq.clone()), 2, 4, false).expect("ok");
    // A 32-bit write with garbage in the upper bytes: only the low byte counts.
    writel(&mut d, 0xdead_be00 | u32::from(b'A'), 0x00);
    writel(&mut d, 0xffff_ff00 | UART_IER_THRI, 0x04);
    assert_eq!(readl(&mut d, 0x04), UART_IER_THRI);
    // Byte and halfword reads of the upper lanes see zero and have no side effects.
    assert_eq!(readb(&mut d, 0x09), 0);
    assert_eq!(readw(&mut d, 0x0a), 0);
    assert!(irq.level(), "the IIR read at 0x09 was not an IIR read");
    // A byte read of the low lane is the register (dw8250_tx_wait_empty uses readb).
    assert_eq!(u32::from(readb(&mut d, 0x14)), UART_LSR_BOTH_EMPTY);
    // A 64-bit access covers two registers: LCR (0x0c) and MCR (0x10).
    writeq(&mut d, 0x0000_0013_0000_0003, 0x0c);
    assert_eq!(readq(&mut d, 0x0c), 0x0000_0013_0000_0003);
    writew(&mut d, 0x0003, 0x10);
    assert_eq!(out.text(), "A");
}

#[test]
fn odd_access_sizes_and_offsets_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for shift in 0..=3 {
        for width in [1, 2, 4] {
            for dw in [false, true] {
                let (out, irq) = (Capture::default(), IrqLog::default());
                let mut d = Uart16550::new(Box::new(out), Box::new(irq), shift, width, dw)
                    .expect("valid layout");
                let offsets = (0..0x110u64).chain([u64::MAX - 8, u64::MAX - 1, u64::MAX]);
                for off in offsets {
                    for len in 0..=9 {
                        let mut buf = [0u8; 9];
                        d.read(off, &mut buf[..len]);
                        let v = next().to_le_bytes();
                        d.write(off, &v[..len.min(8)]);
                    }
                }
                // Host input in any state.
                for _ in 0..8 {
                    d.receive(&[0x55; 40]);
                }
                // And the UART still works afterwards: 16550A reset by hand.
                let stride = 1u64 << shift;
                d.write(3 * stride, &[0x03]); // LCR: DLAB off
                d.write(4 * stride, &[0x00]); // MCR: loopback off
                d.write(stride, &[0x00]); // IER
                d.write(2 * stride, &[0x07]); // FCR: FIFOs on, cleared
                let mut lsr = [0u8];
                d.read(5 * stride, &mut lsr);
                assert_eq!(lsr[0] & 0x61, 0x60, "shift {shift} width {width} dw {dw}");
            }
        }
    }
}
