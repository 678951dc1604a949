//! Replays of what Linux 7.3's drivers/gpu/drm/pl111 (pl111_drv.c, pl111_display.c) does
//! to the PL111 of heap-soc.dts: AMBA probe (PrimeCell ID, variant "PL111": CNTL at 0x18,
//! IENB at 0x1c), the TIM2 clock divider, pl111_display_enable for the panel-simple
//! "arm,rtsm-display" mode (1024x768, XRGB8888), pl111_display_update, vblank through
//! the next-base-update interrupt (pl111_irq), and pl111_display_disable. All readl/writel.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use board::Range;
use common::{readl, writel};
use devices::dma::{Dma, DmaContext};
use devices::pl111::Pl111;
use devices::{IrqLog, MmioDevice};
use ledger::{Ledger, Purpose};
use vm_memory::{GuestAddress, GuestMemoryMmap};

// drivers/gpu/drm/pl111/pl111_drm.h
const CLCD_TIM0: u64 = 0x00;
const CLCD_TIM1: u64 = 0x04;
const CLCD_TIM2: u64 = 0x08;
const CLCD_TIM3: u64 = 0x0c;
const CLCD_UBAS: u64 = 0x10;
const CLCD_PL111_CNTL: u64 = 0x18;
const CLCD_PL111_IENB: u64 = 0x1c;
const CLCD_PL111_MIS: u64 = 0x24;
const CLCD_PL111_ICR: u64 = 0x28;
const TIM2_PCD_LO_MASK: u32 = 0x1f;
const TIM2_PCD_LO_BITS: u32 = 5;
const TIM2_IVS: u32 = 1 << 11;
const TIM2_IHS: u32 = 1 << 12;
const TIM2_BCD: u32 = 1 << 26;
const TIM2_PCD_HI_MASK: u32 = 0x1f << 27;
const TIM2_PCD_HI_SHIFT: u32 = 27;
const CNTL_LCDEN: u32 = 1;
const CNTL_LCDBPP24: u32 = 5 << 1;
const CNTL_LCDTFT: u32 = 1 << 5;
const CNTL_LCDMONO8: u32 = 1 << 6;
const CNTL_BGR: u32 = 1 << 8;
const CNTL_LCDPWR: u32 = 1 << 11;
const CNTL_LCDVCOMP_1: u32 = 1 << 12;
const CLCD_IRQ_NEXTBASE_UPDATE: u32 = 1 << 2;
const AMBA_CID: u32 = 0xb105_f00d;

const HZ: u64 = 62_500_000;
const FB: u64 = 0x5800_0000; // display-cma@58000000

struct Rig {
    clcd: Pl111,
    irq: IrqLog,
    ledger: Rc<RefCell<Ledger>>,
}

fn rig() -> Rig {
    let memory = GuestMemoryMmap::from_ranges(&[(GuestAddress(FB), 0x40_0000)]).expect("ram");
    let ledger = Rc::new(RefCell::new(Ledger::new()));
    let ctx = DmaContext {
        written: Default::default(),
        memory,
        ledger: ledger.clone(),
        now: Rc::new(Cell::new(0)),
    };
    let irq = IrqLog::default();
    Rig {
        clcd: Pl111::new(Dma::new(ctx, "/display@9100000"), Box::new(irq.clone()), HZ),
        irq,
        ledger,
    }
}

/// amba_read_periphid then pl111_amba_probe's register accesses.
fn probe(d: &mut dyn MmioDevice) {
    let (mut pid, mut cid) = (0u32, 0u32);
    for i in 0..4 {
        pid |= (readl(d, 0x1000 - 0x20 + 4 * i) & 255) << (i * 8);
        cid |= (readl(d, 0x1000 - 0x10 + 4 * i) & 255) << (i * 8);
    }
    assert_eq!(cid, AMBA_CID);
    // pl111_id_table: { 0x00041111, 0x000fffff } is the PL111 (variant_pl111).
    assert_eq!(pid & 0x000f_ffff, 0x0004_1111);
    // "turn off interrupts before requesting the irq"
    writel(d, 0, CLCD_PL111_IENB);
}

/// pl111_clk_div_set_rate for a divider `div` (>= 2).
fn clk_div_set_rate(d: &mut dyn MmioDevice, div: u32) {
    let mut tim2 = readl(d, CLCD_TIM2);
    tim2 &= !(TIM2_BCD | TIM2_PCD_LO_MASK | TIM2_PCD_HI_MASK);
    let div = div - 2;
    tim2 |= div & TIM2_PCD_LO_MASK;
    tim2 |= (div >> TIM2_PCD_LO_BITS) << TIM2_PCD_HI_SHIFT;
    writel(d, tim2, CLCD_TIM2);
}

/// pl111_clk_div_recalc_rate: the divider read back from TIM2.
fn clk_div_recalc(d: &mut dyn MmioDevice) -> u32 {
    let tim2 = readl(d, CLCD_TIM2);
    if tim2 & TIM2_BCD != 0 {
        return 1;
    }
    let div = (tim2 & TIM2_PCD_LO_MASK)
        | ((tim2 & TIM2_PCD_HI_MASK) >> (TIM2_PCD_HI_SHIFT - TIM2_PCD_LO_BITS));
    div + 2
}

/// pl111_display_enable for arm_rtsm_mode; `grayscale` is the Y8 bus-format branch.
fn display_enable(d: &mut dyn MmioDevice, grayscale: bool) -> u32 {
    let (hdisplay, hss, hse, htotal) = (1024u32, 1024 + 24, 1024 + 24 + 136, 1024 + 24 + 136 + 160);
    let (vdisplay, vss, vse, vtotal) = (768u32, 768 + 3, 768 + 3 + 6, 768 + 3 + 6 + 29);
    let ppl = hdisplay / 16 - 1;
    let hsw = hse - hss - 1;
    let hfp = hss - hdisplay - 1;
    let hbp = htotal - hse - 1;
    let lpp = vdisplay - 1;
    let vsw = vse - vss - 1;
    let vfp = vss - vdisplay;
    let vbp = vtotal - vse;
    let cpl = hdisplay - 1;
    writel(
        d,
        (ppl << 2) | (hsw << 8) | (hfp << 16) | (hbp << 24),
        CLCD_TIM0,
    );
    writel(d, lpp | (vsw << 10) | (vfp << 16) | (vbp << 24), CLCD_TIM1);
    let mut tim2 = readl(d, CLCD_TIM2);
    tim2 &= TIM2_BCD | TIM2_PCD_LO_MASK | TIM2_PCD_HI_MASK;
    tim2 |= TIM2_IHS | TIM2_IVS; // DRM_MODE_FLAG_NHSYNC | DRM_MODE_FLAG_NVSYNC
    tim2 |= cpl << 16;
    writel(d, tim2, CLCD_TIM2);
    writel(d, 0, CLCD_TIM3);
    let mut cntl = if grayscale {
        CNTL_LCDEN | CNTL_LCDMONO8
    } else {
        CNTL_LCDEN | CNTL_LCDTFT | CNTL_LCDVCOMP_1
    };
    cntl |= CNTL_LCDBPP24 | CNTL_BGR; // DRM_FORMAT_XRGB8888 on Arm's PL111
    writel(d, cntl, CLCD_PL111_CNTL);
    // msleep(20), then power up
    cntl |= CNTL_LCDPWR;
    writel(d, cntl, CLCD_PL111_CNTL);
    cntl
}

/// pl111_irq: MIS, drm_crtc_handle_vblank, ICR with what was read.
fn pl111_irq(d: &mut dyn MmioDevice) -> bool {
    let stat = readl(d, CLCD_PL111_MIS);
    if stat == 0 {
        return false;
    }
    writel(d, stat, CLCD_PL111_ICR);
    stat & CLCD_IRQ_NEXTBASE_UPDATE != 0
}

/// The first modeset of the rtsm panel: probe, clk_set_rate (65 MHz from the divider),
/// pl111_display_enable, pl111_display_update, drm_crtc_vblank_on -> enable_vblank.
fn modeset(r: &mut Rig, grayscale: bool) {
    probe(&mut r.clcd);
    clk_div_set_rate(&mut r.clcd, 2);
    assert_eq!(clk_div_recalc(&mut r.clcd), 2);
    display_enable(&mut r.clcd, grayscale);
    assert_eq!(
        clk_div_recalc(&mut r.clcd),
        2,
        "display_enable keeps the divider"
    );
    writel(&mut r.clcd, FB as u32, CLCD_UBAS);
    writel(&mut r.clcd, CLCD_IRQ_NEXTBASE_UPDATE, CLCD_PL111_IENB);
}

#[test]
fn modeset_scans_out_the_framebuffer_and_vblank_interrupts_each_frame() {
    let mut r = rig();
    modeset(&mut r, false);
    let mode = r.clcd.mode().expect("enabled and powered");
    assert_eq!(
        (mode.width, mode.height, mode.bits_per_pixel()),
        (1024, 768, 32)
    );
    assert!(mode.bgr && mode.tft);
    for frame in 0..3 {
        r.clcd.tick(frame * (HZ / 60));
        assert!(r.irq.level(), "vblank {frame}");
        assert!(pl111_irq(&mut r.clcd));
        assert!(!r.irq.level(), "ICR with the MIS value clears it");
        assert!(!pl111_irq(&mut r.clcd), "IRQ_NONE when nothing is left");
    }
    let ledger = r.ledger.borrow();
    let scan = ledger
        .records()
        .iter()
        .find(|x| x.purpose == Purpose::Scanout)
        .expect("scanout recorded");
    assert_eq!(
        scan.segments,
        [Range {
            base: FB,
            size: 1024 * 768 * 4
        }]
    );
    assert_eq!(scan.count, 3);
}

#[test]
fn page_flip_moves_the_scanout_and_disable_stops_it() {
    let mut r = rig();
    modeset(&mut r, false);
    r.clcd.tick(0);
    pl111_irq(&mut r.clcd);
    // pl111_display_update for the next framebuffer.
    writel(&mut r.clcd, (FB + 0x30_0000) as u32, CLCD_UBAS);
    r.clcd.tick(HZ / 60);
    assert_eq!(r.clcd.mode().expect("on").base, FB + 0x30_0000);
    // pl111_display_disable_vblank, then pl111_display_disable.
    writel(&mut r.clcd, 0, CLCD_PL111_IENB);
    assert!(!r.irq.level(), "masked vblank does not interrupt");
    let cntl = readl(&mut r.clcd, CLCD_PL111_CNTL);
    if cntl & CNTL_LCDPWR != 0 {
        writel(&mut r.clcd, cntl & !CNTL_LCDPWR, CLCD_PL111_CNTL);
    }
    writel(&mut r.clcd, 0, CLCD_PL111_CNTL);
    assert!(r.clcd.mode().is_none());
    assert_eq!(r.clcd.next_deadline(), None, "no frames while off");
}

#[test]
fn grayscale_panels_still_get_frames_and_vblank() {
    // pl111_display_enable's Y8 branch programs CNTL_LCDEN | CNTL_LCDMONO8 (an STN mode,
    // no CNTL_LCDTFT) over the same RGB framebuffer: the controller still fetches it every
    // frame and raises next-base-update, which DRM waits for on every commit.
    let mut r = rig();
    modeset(&mut r, true);
    assert!(r.clcd.next_deadline().is_some(), "the frame clock runs");
    r.clcd.tick(0);
    assert!(r.irq.level(), "vblank");
    assert!(pl111_irq(&mut r.clcd));
    assert_eq!(r.clcd.frames(), 1);
    assert!(
        r.ledger
            .borrow()
            .records()
            .iter()
            .any(|x| x.purpose == Purpose::Scanout && x.segments[0].base == FB),
        "the scanout is in the ledger"
    );
    assert!(r.clcd.capture().is_none(), "STN frames are not drawn");
}
