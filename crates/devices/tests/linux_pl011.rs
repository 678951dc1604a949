//! Replays of what Linux 7.3's drivers/tty/serial/amba-pl011.c does to the console UART
//! of heap-soc.dts: no `reg-io-width`, so UPIO_MEM and 16-bit readw/writew for every
//! register (pl011_read/pl011_write); earlycon uses readl/writeb; the AMBA bus reads the
//! PrimeCell ID with readl.

mod common;

use common::{poll, readl, readw, writeb, writew};
use devices::console::Capture;
use devices::pl011::Pl011;
use devices::{IrqLog, MmioDevice};

// include/linux/amba/serial.h
const DR: u64 = 0x00;
const FR: u64 = 0x18;
const IBRD: u64 = 0x24;
const FBRD: u64 = 0x28;
const LCRH: u64 = 0x2c;
const CR: u64 = 0x30;
const IFLS: u64 = 0x34;
const IMSC: u64 = 0x38;
const RIS: u64 = 0x3c;
const ICR: u64 = 0x44;
const FR_BUSY: u16 = 1 << 3;
const FR_RXFE: u16 = 1 << 4;
const FR_TXFF: u16 = 1 << 5;
const FR_TXFE: u16 = 1 << 7;
const FR_MODEM_ANY: u16 = 0x1 | 0x2 | 0x4 | (1 << 8); // CTS | DSR | DCD | RI
const CR_UARTEN: u16 = 1;
const CR_TXE: u16 = 1 << 8;
const CR_RXE: u16 = 1 << 9;
const CR_RTS: u16 = 1 << 11;
const CR_DTR: u16 = 1 << 10;
const CR_CTSEN: u16 = 1 << 15;
const LCRH_FEN: u16 = 1 << 4;
const LCRH_WLEN_8: u16 = 0x60;
const IFLS_RX4_8: u16 = 2 << 3;
const IFLS_TX4_8: u16 = 2;
const OEIS: u16 = 1 << 10;
const BEIS: u16 = 1 << 9;
const PEIS: u16 = 1 << 8;
const FEIS: u16 = 1 << 7;
const RTIS: u16 = 1 << 6;
const TXIS: u16 = 1 << 5;
const RXIS: u16 = 1 << 4;
const UARTCLK: u32 = 24_000_000; // the DT's apb-pclk fixed clock
const AMBA_CID: u32 = 0xb105_f00d;

fn uart() -> (Pl011, Capture, IrqLog) {
    let out = Capture::default();
    let irq = IrqLog::default();
    (
        Pl011::new(Box::new(out.clone()), Box::new(irq.clone())),
        out,
        irq,
    )
}

/// amba_read_periphid: readl at size - 0x20 + 4i and size - 0x10 + 4i, low bytes only.
fn amba_read_periphid(d: &mut dyn MmioDevice, size: u64) -> (u32, u32) {
    let mut pid = 0;
    let mut cid = 0;
    for i in 0..4 {
        pid |= (readl(d, size - 0x20 + 4 * i) & 255) << (i * 8);
        cid |= (readl(d, size - 0x10 + 4 * i) & 255) << (i * 8);
    }
    (pid, cid)
}

/// pl011_probe up to uart_add_one_port, then pl011_console_setup with "115200n8".
fn probe(d: &mut dyn MmioDevice) -> usize {
    let (pid, cid) = amba_read_periphid(d, 0x1000);
    assert_eq!(cid, AMBA_CID);
    // pl011_ids[]: vendor_arm is { 0x00041011, 0x000fffff }.
    assert_eq!(pid & 0x000f_ffff, 0x0004_1011, "matched by amba-pl011");
    // get_fifosize_arm: amba_rev(dev) < 3 ? 16 : 32.
    let fifosize = if (pid >> 20) & 0xf < 3 { 16 } else { 32 };
    // pl011_register_port: mask and clear everything.
    writew(d, 0, IMSC);
    writew(d, 0xffff, ICR);
    // pl011_console_setup -> (options given) uart_set_options -> pl011_set_termios below;
    // pl011_console_get_options is only consulted without options, and returns at once
    // while UARTEN is clear (otherwise it divides by 64 * IBRD + FBRD).
    assert_eq!(
        readw(d, CR) & CR_UARTEN,
        0,
        "reset value leaves the UART off"
    );
    fifosize
}

/// pl011_set_termios for 115200 8N1 with the FIFO on.
fn set_termios(d: &mut dyn MmioDevice, fifosize: usize) {
    let baud = 115_200u32;
    let quot = (UARTCLK * 4 + baud / 2) / baud; // DIV_ROUND_CLOSEST(uartclk * 4, baud)
    let mut lcr_h = LCRH_WLEN_8;
    if fifosize > 1 {
        lcr_h |= LCRH_FEN;
    }
    let old_cr = readw(d, CR);
    writew(d, 0, CR);
    writew(d, (quot & 0x3f) as u16, FBRD);
    writew(d, (quot >> 6) as u16, IBRD);
    writew(d, lcr_h, LCRH); // pl011_write_lcr_h: LCRH_RX == LCRH_TX on Arm's PL011
    writew(d, old_cr | CR_RXE, CR);
}

/// pl011_startup: pl011_hwinit, IFLS, CR, modem status, pl011_enable_interrupts.
fn startup(d: &mut dyn MmioDevice, fifosize: usize) -> u16 {
    writew(d, OEIS | BEIS | PEIS | FEIS | RTIS | RXIS, ICR);
    let _saved_im = readw(d, IMSC);
    writew(d, RTIS | RXIS, IMSC);
    writew(d, IFLS_RX4_8 | IFLS_TX4_8, IFLS);
    let mut cr = readw(d, CR) & (CR_RTS | CR_DTR);
    cr |= CR_UARTEN | CR_RXE | CR_TXE;
    writew(d, cr, CR);
    let _old_status = readw(d, FR) & FR_MODEM_ANY;
    // pl011_enable_interrupts
    writew(d, RTIS | RXIS, ICR);
    for _ in 0..fifosize * 2 {
        if readw(d, FR) & FR_RXFE != 0 {
            break;
        }
        readw(d, DR);
    }
    let im = RTIS | RXIS; // no DMA: RXIM too
    writew(d, im, IMSC);
    im
}

/// pl011_console_write_atomic with pl011_console_putchar.
fn console_write(d: &mut dyn MmioDevice, s: &[u8]) {
    let old_cr = readw(d, CR);
    writew(d, (old_cr & !CR_CTSEN) | CR_UARTEN | CR_TXE, CR);
    for &c in s {
        if c == b'\n' {
            poll(d, FR, |v| v as u16 & FR_TXFF == 0);
            writew(d, u16::from(b'\r'), DR);
        }
        // while (pl011_read(uap, REG_FR) & UART01x_FR_TXFF) cpu_relax();
        poll(d, FR, |v| v as u16 & FR_TXFF == 0);
        writew(d, u16::from(c), DR);
    }
    poll(d, FR, |v| v as u16 & FR_BUSY == 0);
    writew(d, old_cr, CR);
}

/// pl011_int: RIS & im, ICR for the non-FIFO bits, drain RX (pl011_fifo_to_tty).
fn pl011_int(d: &mut dyn MmioDevice, im: u16) -> Vec<u8> {
    let mut got = Vec::new();
    let mut status = readw(d, RIS) & im;
    let mut pass = 256;
    while status != 0 {
        writew(d, status & !(TXIS | RTIS | RXIS), ICR);
        if status & (RTIS | RXIS) != 0 {
            for _ in 0..256 {
                if readw(d, FR) & FR_RXFE != 0 {
                    break;
                }
                got.push(readw(d, DR) as u8);
            }
        }
        pass -= 1;
        assert!(pass > 0, "pl011_int would loop until AMBA_ISR_PASS_LIMIT");
        status = readw(d, RIS) & im;
    }
    got
}

#[test]
fn probe_startup_and_console_output_with_16_bit_accesses() {
    let (mut u, out, irq) = uart();
    let fifosize = probe(&mut u);
    assert_eq!(fifosize, 32, "PL011 r1p5");
    set_termios(&mut u, fifosize);
    console_write(&mut u, b"Booting Linux\n");
    assert_eq!(out.text(), "Booting Linux\r\n");
    let im = startup(&mut u, fifosize);
    assert_eq!(readw(&mut u, IMSC), im);
    assert!(!irq.level(), "nothing received yet");
    assert_eq!(readw(&mut u, FR) & (FR_TXFE | FR_BUSY | FR_TXFF), FR_TXFE);
    // set_termios left the divisor where the driver put it (LCRH written last).
    assert_eq!(readw(&mut u, IBRD), 833 >> 6);
    assert_eq!(readw(&mut u, FBRD), 833 & 0x3f);
    assert_eq!(readw(&mut u, LCRH), LCRH_WLEN_8 | LCRH_FEN);
}

#[test]
fn received_bytes_interrupt_and_pl011_int_drains_them() {
    let (mut u, _, irq) = uart();
    let fifosize = probe(&mut u);
    set_termios(&mut u, fifosize);
    let im = startup(&mut u, fifosize);
    assert_eq!(u.receive(b"ls\n"), 3);
    assert!(irq.level(), "RX interrupt while data waits");
    assert_eq!(pl011_int(&mut u, im), b"ls\n");
    assert!(!irq.level(), "draining the FIFO clears RX/RT");
}

#[test]
fn start_tx_sends_the_buffer_without_needing_the_tx_interrupt() {
    let (mut u, out, irq) = uart();
    let fifosize = probe(&mut u);
    set_termios(&mut u, fifosize);
    let im = startup(&mut u, fifosize);
    // pl011_start_tx_pio -> pl011_tx_chars(from_irq = false): fill while !TXFF; only if
    // data is left does the driver set TXIM and continue from pl011_int.
    let data: Vec<u8> = (0..100).map(|i| b'a' + (i % 26) as u8).collect();
    let mut sent = 0;
    while sent < data.len() && readw(&mut u, FR) & FR_TXFF == 0 {
        writew(&mut u, u16::from(data[sent]), DR);
        sent += 1;
    }
    assert_eq!(sent, data.len(), "the model's FIFO drains instantly");
    assert_eq!(out.bytes(), data);
    assert!(!irq.level(), "TXIM stays masked");
    // A TXIM set later (x_char, or a refill) finds TXIS raised and pl011_int runs
    // pl011_tx_chars, which finds the buffer empty and calls pl011_stop_tx.
    writew(&mut u, im | TXIS, IMSC);
    assert!(irq.level());
    writew(&mut u, im, IMSC);
    assert!(!irq.level());
}

#[test]
fn earlycon_putc_uses_readl_and_writeb() {
    // pl011_putc (UPIO_MEM): readl FR until !TXFF, writeb DR, readl FR until !BUSY.
    let (mut u, out, _) = uart();
    for &c in b"earlycon" {
        poll(&mut u, FR, |v| v & u32::from(FR_TXFF) == 0);
        writeb(&mut u, c, DR);
        poll(&mut u, FR, |v| v & u32::from(FR_BUSY) == 0);
    }
    assert_eq!(out.text(), "earlycon");
}
