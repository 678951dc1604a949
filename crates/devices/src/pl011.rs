//! Arm PrimeCell UART (PL011), as the Linux `amba-pl011` driver and its earlycon use it.
//!
//! Transmission is instantaneous: the TX FIFO is always empty and each written byte goes
//! straight to the output. Received bytes queue in a 32-entry FIFO. The interrupt line is
//! the OR of the masked interrupt status (UARTMIS), level-sensitive.
//! Register map: PL011 Technical Reference Manual (DDI 0183), chapter 3.

use std::collections::VecDeque;
use std::io::Write;

use crate::bus::Registers32;
use crate::irq::IrqLine;

const DR: u64 = 0x000;
const RSR: u64 = 0x004;
const FR: u64 = 0x018;
const ILPR: u64 = 0x020;
const IBRD: u64 = 0x024;
const FBRD: u64 = 0x028;
const LCR_H: u64 = 0x02c;
const CR: u64 = 0x030;
const IFLS: u64 = 0x034;
const IMSC: u64 = 0x038;
const RIS: u64 = 0x03c;
const MIS: u64 = 0x040;
const ICR: u64 = 0x044;
const DMACR: u64 = 0x048;

const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const FR_RXFF: u32 = 1 << 6;
const FR_TXFE: u32 = 1 << 7;

const INT_RX: u32 = 1 << 4;
const INT_TX: u32 = 1 << 5;
const INT_RT: u32 = 1 << 6;
const INT_ALL: u32 = 0x7ff;

const LCR_H_FEN: u32 = 1 << 4;
const FIFO_DEPTH: usize = 32;

/// PrimeCell identification (UARTPeriphID0-3, UARTPCellID0-3) at 0xfe0-0xffc: PL011 r1p5.
const ID: [u8; 8] = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// The UART.
pub struct Pl011 {
    out: Box<dyn Write>,
    irq: Box<dyn IrqLine>,
    rx: VecDeque<u8>,
    ris: u32,
    imsc: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    dmacr: u32,
    ilpr: u32,
    irq_level: bool,
}

impl std::fmt::Debug for Pl011 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl011")
            .field("rx", &self.rx.len())
            .field("ris", &self.ris)
            .field("imsc", &self.imsc)
            .finish_non_exhaustive()
    }
}

impl Pl011 {
    /// A UART writing guest output to `out` and interrupting through `irq`.
    pub fn new(out: Box<dyn Write>, irq: Box<dyn IrqLine>) -> Pl011 {
        Pl011 {
            out,
            irq,
            rx: VecDeque::new(),
            ris: 0,
            imsc: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            // Reset value: TXE and RXE set, UART disabled.
            cr: 0x300,
            ifls: 0x12,
            dmacr: 0,
            ilpr: 0,
            irq_level: false,
        }
    }

    fn capacity(&self) -> usize {
        if self.lcr_h & LCR_H_FEN != 0 {
            FIFO_DEPTH
        } else {
            1
        }
    }

    /// Queues input from the host console; returns how many bytes fitted.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let room = self.capacity().saturating_sub(self.rx.len());
        let n = room.min(bytes.len());
        self.rx.extend(&bytes[..n]);
        if n > 0 {
            self.ris |= INT_RX | INT_RT;
            self.update();
        }
        n
    }

    /// Whether a driver is listening: UART and receiver enabled (UARTCR UARTEN, RXE) and
    /// the receive interrupts unmasked, as once Linux's tty for it is open. Host input
    /// offered before that would be dropped by the driver's start-up.
    pub fn accepting_input(&self) -> bool {
        const CR_UARTEN: u32 = 1;
        const CR_RXE: u32 = 1 << 9;
        self.cr & (CR_UARTEN | CR_RXE) == (CR_UARTEN | CR_RXE) && self.imsc & (INT_RX | INT_RT) != 0
    }

    /// Whether the receive FIFO can take more input.
    pub fn can_receive(&self) -> bool {
        self.rx.len() < self.capacity()
    }

    fn update(&mut self) {
        let level = self.ris & self.imsc != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    fn flags(&self) -> u32 {
        let mut fr = FR_TXFE;
        if self.rx.is_empty() {
            fr |= FR_RXFE;
        }
        if self.rx.len() >= self.capacity() {
            fr |= FR_RXFF;
        }
        fr & !FR_TXFF
    }
}

impl Registers32 for Pl011 {
    fn read_reg(&mut self, offset: u64) -> u32 {
        match offset {
            DR => {
                let byte = self.rx.pop_front().unwrap_or(0);
                if self.rx.is_empty() {
                    self.ris &= !(INT_RX | INT_RT);
                    self.update();
                }
                u32::from(byte)
            }
            RSR => 0,
            FR => self.flags(),
            ILPR => self.ilpr,
            IBRD => self.ibrd,
            FBRD => self.fbrd,
            LCR_H => self.lcr_h,
            CR => self.cr,
            IFLS => self.ifls,
            IMSC => self.imsc,
            RIS => self.ris,
            MIS => self.ris & self.imsc,
            DMACR => self.dmacr,
            0xfe0..=0xffc if offset % 4 == 0 => u32::from(ID[((offset - 0xfe0) / 4) as usize]),
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u64, value: u32) {
        match offset {
            DR => {
                // The output is the guest's console: a failing host sink must not stop
                // the guest, and there is nobody in the guest to tell.
                let _ = self.out.write_all(&[value as u8]);
                if value as u8 == b'\n' {
                    let _ = self.out.flush();
                }
                self.ris |= INT_TX;
            }
            RSR => {}
            ILPR => self.ilpr = value & 0xff,
            IBRD => self.ibrd = value & 0xffff,
            FBRD => self.fbrd = value & 0x3f,
            LCR_H => {
                // Toggling the FIFO enable flushes the receive FIFO.
                if (self.lcr_h ^ value) & LCR_H_FEN != 0 {
                    self.rx.clear();
                }
                self.lcr_h = value & 0xff;
            }
            CR => self.cr = value & 0xffff,
            IFLS => self.ifls = value & 0x3f,
            IMSC => self.imsc = value & INT_ALL,
            ICR => self.ris &= !value,
            DMACR => self.dmacr = value & 0x7,
            _ => {}
        }
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::MmioDevice;
    use crate::console::Capture;
    use crate::irq::IrqLog;

    fn uart() -> (Pl011, Capture, IrqLog) {
        let sink = Capture::default();
        let irq = IrqLog::default();
        (
            Pl011::new(Box::new(sink.clone()), Box::new(irq.clone())),
            sink,
            irq,
        )
    }

    fn r32(u: &mut Pl011, off: u64) -> u32 {
        let mut d = [0u8; 4];
        u.read(off, &mut d);
        u32::from_le_bytes(d)
    }

    fn w32(u: &mut Pl011, off: u64, v: u32) {
        u.write(off, &v.to_le_bytes());
    }

    #[test]
    fn written_bytes_reach_the_output_and_raise_tx_when_unmasked() {
        let (mut u, sink, irq) = uart();
        w32(&mut u, DR, u32::from(b'h'));
        w32(&mut u, DR, u32::from(b'i'));
        assert_eq!(sink.bytes().as_slice(), b"hi");
        assert!(!irq.level(), "TX is masked at reset");
        w32(&mut u, IMSC, INT_TX);
        assert!(irq.level());
        w32(&mut u, ICR, INT_TX);
        assert!(!irq.level());
    }

    #[test]
    fn flags_say_tx_empty_and_rx_empty_until_input_arrives() {
        let (mut u, _, _) = uart();
        assert_eq!(
            r32(&mut u, FR) & (FR_TXFE | FR_RXFE | FR_TXFF),
            FR_TXFE | FR_RXFE
        );
        assert_eq!(u.receive(b"ab"), 1, "without FEN the FIFO holds one byte");
        assert_eq!(r32(&mut u, FR) & (FR_RXFE | FR_RXFF), FR_RXFF);
    }

    #[test]
    fn received_bytes_interrupt_and_drain_through_dr() {
        let (mut u, _, irq) = uart();
        w32(&mut u, LCR_H, LCR_H_FEN | 0x60);
        w32(&mut u, IMSC, INT_RX | INT_RT);
        assert_eq!(u.receive(b"ok"), 2);
        assert!(irq.level());
        assert_eq!(r32(&mut u, DR), u32::from(b'o'));
        assert!(irq.level(), "still data in the FIFO");
        assert_eq!(r32(&mut u, DR), u32::from(b'k'));
        assert!(!irq.level());
        assert_eq!(irq.changes(), [true, false]);
    }

    #[test]
    fn sixteen_bit_accesses_work_as_linux_makes_them() {
        let (mut u, sink, _) = uart();
        u.write(DR, &u16::from(b'z').to_le_bytes());
        u.write(IMSC, &(INT_TX as u16).to_le_bytes());
        let mut fr = [0u8; 2];
        u.read(FR, &mut fr);
        assert_eq!(sink.bytes().as_slice(), b"z");
        assert_eq!(r32(&mut u, IMSC), INT_TX);
        assert_ne!(u16::from_le_bytes(fr) as u32 & FR_TXFE, 0);
    }

    #[test]
    fn input_is_accepted_once_the_driver_listens() {
        let (mut u, _, _) = uart();
        assert!(!u.accepting_input());
        w32(&mut u, CR, 0x301);
        assert!(!u.accepting_input(), "receive interrupts still masked");
        w32(&mut u, IMSC, INT_RX | INT_RT);
        assert!(u.accepting_input());
    }

    #[test]
    fn primecell_id_registers_identify_a_pl011() {
        let (mut u, _, _) = uart();
        let id: Vec<u32> = (0..8).map(|i| r32(&mut u, 0xfe0 + 4 * i)).collect();
        assert_eq!(id, [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    }
}
