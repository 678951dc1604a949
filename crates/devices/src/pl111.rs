//! Arm PrimeCell Color LCD Controller PL111, as Linux's DRM pl111 driver programs it.
//!
//! The contiguous consumer: it scans out one framebuffer from LCDUPBASE, so whatever buffer
//! the guest gives it is one physical range. Each frame (60 per second of virtual time)
//! the scanout is recorded in the DMA ledger and the next-base-update interrupt, which the
//! driver uses as vblank, is raised. Pixels are fetched only when the host asks for a
//! screenshot. Register map: PL111 TRM (DDI 0293), section 3.
//! Not modelled: the hardware cursor, the lower panel of dual-panel STN displays, palettes
//! (only TFT true-colour modes are drawn).

use ledger::{Direction, Purpose};

use crate::bus::Registers32;
use crate::dma::Dma;
use crate::irq::IrqLine;
use board::Range;

const TIM0: u64 = 0x000;
const TIM3: u64 = 0x00c;
const UPBASE: u64 = 0x010;
const LPBASE: u64 = 0x014;
const CONTROL: u64 = 0x018;
const IMSC: u64 = 0x01c;
const RIS: u64 = 0x020;
const MIS: u64 = 0x024;
const ICR: u64 = 0x028;
const UPCURR: u64 = 0x02c;
const LPCURR: u64 = 0x030;

const CNTL_EN: u32 = 1;
const CNTL_TFT: u32 = 1 << 5;
const CNTL_BGR: u32 = 1 << 8;
const CNTL_PWR: u32 = 1 << 11;
/// Next base update: the interrupt Linux's pl111 driver uses as vblank.
pub const INT_LNBU: u32 = 1 << 2;
const INT_ALL: u32 = 0x1e;

/// PeriphID0-3 and PCellID0-3: a PL111 (id 0x00241111).
const ID: [u8; 8] = [0x11, 0x11, 0x24, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// A frame as the display scans it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    /// LcdBpp field of LCDControl.
    pub bpp_code: u32,
    pub bgr: bool,
    /// A TFT panel (true colour). Otherwise STN: the driver's grayscale mode for Y8
    /// panels, where the controller still fetches the RGB framebuffer every frame.
    pub tft: bool,
    pub base: u64,
}

impl Mode {
    /// Bits per pixel in memory.
    pub fn bits_per_pixel(&self) -> u32 {
        match self.bpp_code {
            0 => 1,
            1 => 2,
            2 => 4,
            3 => 8,
            4 | 6 | 7 => 16,
            _ => 32,
        }
    }

    /// The framebuffer's guest-physical range.
    pub fn framebuffer(&self) -> Range {
        Range {
            base: self.base,
            size: u64::from(self.width) * u64::from(self.height) * u64::from(self.bits_per_pixel())
                / 8,
        }
    }
}

/// The display controller.
pub struct Pl111 {
    dma: Dma,
    irq: Box<dyn IrqLine>,
    timing: [u32; 4],
    upbase: u32,
    lpbase: u32,
    control: u32,
    imsc: u32,
    ris: u32,
    irq_level: bool,
    frames: u64,
    /// Counter ticks per frame; 0 disables the frame clock.
    frame_ticks: u64,
    next_frame: u64,
}

impl std::fmt::Debug for Pl111 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl111")
            .field("device", &self.dma.device())
            .field("control", &self.control)
            .field("upbase", &self.upbase)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Pl111 {
    /// A display whose frame clock runs at 60 Hz of a counter at `counter_hz`.
    pub fn new(dma: Dma, irq: Box<dyn IrqLine>, counter_hz: u64) -> Pl111 {
        Pl111 {
            dma,
            irq,
            timing: [0; 4],
            upbase: 0,
            lpbase: 0,
            control: 0,
            imsc: 0,
            ris: 0,
            irq_level: false,
            frames: 0,
            frame_ticks: counter_hz / 60,
            next_frame: 0,
        }
    }

    /// The programmed mode while the display is enabled and powered (TFT or STN: frames,
    /// and their vblank interrupts, run either way).
    pub fn mode(&self) -> Option<Mode> {
        if self.control & (CNTL_EN | CNTL_PWR) != (CNTL_EN | CNTL_PWR) {
            return None;
        }
        Some(Mode {
            // TIM0.PPL [7:2]: pixels per line / 16 - 1; TIM1.LPP [9:0]: lines - 1.
            width: (((self.timing[0] >> 2) & 0x3f) + 1) * 16,
            height: (self.timing[1] & 0x3ff) + 1,
            bpp_code: (self.control >> 1) & 7,
            bgr: self.control & CNTL_BGR != 0,
            tft: self.control & CNTL_TFT != 0,
            base: u64::from(self.upbase),
        })
    }

    /// Frames scanned out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The counter value at which the next frame starts, when the display runs.
    pub fn next_deadline(&self) -> Option<u64> {
        (self.mode().is_some() && self.frame_ticks > 0).then_some(self.next_frame)
    }

    /// Advances the frame clock to counter value `now`: each elapsed frame is one scanout
    /// (recorded in the ledger) and one next-base-update interrupt.
    pub fn tick(&mut self, now: u64) {
        let Some(mode) = self.mode() else { return };
        if self.frame_ticks == 0 || now < self.next_frame {
            return;
        }
        self.dma.touch(
            &[mode.framebuffer()],
            Direction::Read,
            Purpose::Scanout,
            "framebuffer",
        );
        self.frames += 1;
        self.next_frame = now - now % self.frame_ticks + self.frame_ticks;
        self.ris |= INT_LNBU;
        self.update();
    }

    /// Reads the current framebuffer as 8-bit RGB rows (a screenshot); TFT modes only.
    pub fn capture(&self) -> Option<(Mode, Vec<u8>)> {
        let mode = self.mode().filter(|m| m.tft)?;
        let fb = mode.framebuffer();
        let mut raw = vec![0u8; usize::try_from(fb.size).ok()?];
        // The host's look at the frame, not a scanout: not in the ledger.
        self.dma.peek(&[fb], &mut raw).ok()?;
        let mut rgb = Vec::with_capacity(mode.width as usize * mode.height as usize * 3);
        let px = |r: u8, g: u8, b: u8, bgr: bool| if bgr { [b, g, r] } else { [r, g, b] };
        match mode.bits_per_pixel() {
            32 => raw.chunks_exact(4).for_each(|p| {
                // PL111 24 bpp TFT: 0x00BBGGRR in a little-endian word unless BGR.
                rgb.extend_from_slice(&px(p[0], p[1], p[2], mode.bgr))
            }),
            16 => raw.chunks_exact(2).for_each(|p| {
                let v = u16::from_le_bytes([p[0], p[1]]);
                let (r, g, b) = match mode.bpp_code {
                    6 => (v & 0x1f, (v >> 5) & 0x3f, (v >> 11) & 0x1f), // 5:6:5
                    7 => (v & 0xf, (v >> 4) & 0xf, (v >> 8) & 0xf),     // 4:4:4
                    _ => (v & 0x1f, (v >> 5) & 0x1f, (v >> 10) & 0x1f), // 1:5:5:5
                };
                let scale = |c: u16, bits: u32| ((u32::from(c) * 255) / ((1 << bits) - 1)) as u8;
                let (gb, rb) = match mode.bpp_code {
                    6 => (6, 5),
                    7 => (4, 4),
                    _ => (5, 5),
                };
                rgb.extend_from_slice(&px(scale(r, rb), scale(g, gb), scale(b, rb), mode.bgr));
            }),
            _ => return None,
        }
        Some((mode, rgb))
    }

    fn update(&mut self) {
        let level = self.ris & self.imsc != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }
}

impl Registers32 for Pl111 {
    fn read_reg(&mut self, off: u64) -> u32 {
        match off {
            TIM0..=TIM3 => self.timing[(off / 4) as usize],
            UPBASE | UPCURR => self.upbase,
            LPBASE | LPCURR => self.lpbase,
            CONTROL => self.control,
            IMSC => self.imsc,
            RIS => self.ris,
            MIS => self.ris & self.imsc,
            0xfe0..=0xffc if off % 4 == 0 => u32::from(ID[((off - 0xfe0) / 4) as usize]),
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u64, v: u32) {
        match off {
            TIM0..=TIM3 => self.timing[(off / 4) as usize] = v,
            // Frame buffers are double-word aligned (the low three bits are ignored).
            UPBASE => self.upbase = v & !7,
            LPBASE => self.lpbase = v & !7,
            CONTROL => self.control = v & 0x1_3fff,
            IMSC => self.imsc = v & INT_ALL,
            ICR => self.ris &= !v,
            _ => {}
        }
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use ledger::Ledger;
    use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

    use super::*;
    use crate::bus::MmioDevice;
    use crate::dma::DmaContext;
    use crate::irq::IrqLog;

    const HZ: u64 = 62_500_000;
    const TIM1: u64 = 0x004;

    fn display() -> (Pl111, DmaContext, IrqLog) {
        let memory =
            GuestMemoryMmap::from_ranges(&[(GuestAddress(0x5800_0000), 0x40_0000)]).expect("ram");
        let ctx = DmaContext {
            written: Default::default(),
            memory,
            ledger: Rc::new(RefCell::new(Ledger::new())),
            now: Rc::new(Cell::new(0)),
        };
        let irq = IrqLog::default();
        let d = Pl111::new(
            Dma::new(ctx.clone(), "/display@9100000"),
            Box::new(irq.clone()),
            HZ,
        );
        (d, ctx, irq)
    }

    fn w(d: &mut Pl111, off: u64, v: u32) {
        d.write(off, &v.to_le_bytes());
    }

    /// 64x4 at 24 bpp (XRGB in words), as pl111_display_enable programs it.
    fn enable(d: &mut Pl111, base: u32) {
        w(d, TIM0, ((64 / 16 - 1) << 2) | (1 << 8));
        w(d, TIM1, 4 - 1);
        w(d, UPBASE, base);
        w(d, IMSC, INT_LNBU);
        w(d, CONTROL, CNTL_EN | CNTL_TFT | (5 << 1) | CNTL_PWR);
    }

    #[test]
    fn identifies_as_a_pl111() {
        let (mut d, _, _) = display();
        let id: Vec<u8> = (0..8)
            .map(|i| {
                let mut b = [0u8; 4];
                d.read(0xfe0 + 4 * i, &mut b);
                b[0]
            })
            .collect();
        assert_eq!(id, ID);
    }

    #[test]
    fn each_frame_is_a_recorded_scanout_and_a_vblank_interrupt() {
        let (mut d, ctx, irq) = display();
        assert_eq!(d.next_deadline(), None, "off until enabled");
        enable(&mut d, 0x5810_0000);
        let mode = d.mode().expect("enabled");
        assert_eq!(
            (mode.width, mode.height, mode.bits_per_pixel()),
            (64, 4, 32)
        );
        d.tick(0);
        d.tick(HZ / 60);
        assert_eq!(d.frames(), 2);
        assert!(irq.level());
        w(&mut d, ICR, INT_LNBU);
        assert!(!irq.level());
        let ledger = ctx.ledger.borrow();
        let rec = &ledger.records()[0];
        assert_eq!(rec.device, "/display@9100000");
        assert_eq!(
            rec.segments,
            [Range {
                base: 0x5810_0000,
                size: 64 * 4 * 4
            }]
        );
        assert_eq!(rec.purpose, Purpose::Scanout);
        assert_eq!(rec.count, 2);
    }

    #[test]
    fn screenshot_shows_the_framebuffer() {
        let (mut d, ctx, _) = display();
        enable(&mut d, 0x5810_0000);
        // First pixel red, second green (0x00BBGGRR words).
        ctx.memory
            .write_obj(0x0000_00ffu32, GuestAddress(0x5810_0000))
            .expect("px0");
        ctx.memory
            .write_obj(0x0000_ff00u32, GuestAddress(0x5810_0004))
            .expect("px1");
        let (mode, rgb) = d.capture().expect("frame");
        assert_eq!(&rgb[..6], &[255, 0, 0, 0, 255, 0]);
        assert_eq!((mode.width, mode.height, rgb.len()), (64, 4, 64 * 4 * 3));
        assert!(
            ctx.ledger.borrow().records().is_empty(),
            "the host's look at the frame is not a device DMA"
        );
    }

    #[test]
    fn a_framebuffer_outside_ram_cannot_be_captured_but_is_recorded() {
        let (mut d, ctx, _) = display();
        enable(&mut d, 0x7000_0000);
        d.tick(0);
        assert!(d.capture().is_none());
        assert_eq!(
            ctx.ledger.borrow().records()[0].segments[0].base,
            0x7000_0000
        );
    }
}
