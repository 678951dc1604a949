//! drivers/edac/dmc520_edac.c against the machine's wiring: the driver requests every
//! named line with IRQF_SHARED, so a DT may give dram_ecc_errc and dram_ecc_errd one
//! interrupt; on a board that is one wire driven by both outputs (a wired-OR).

use devices::dmc520::EccError;
use devices::gic::IccReg;

const DMC: u64 = 0x0920_0000;
const INTERRUPT_CONTROL: u64 = 0x500;
const INTERRUPT_CLR: u64 = 0x508;
const INTERRUPT_STATUS: u64 = 0x510;
const ERRC_COUNT_LO: u64 = 0x158;
const ERRC_COUNT_HI: u64 = 0x15c;
const CE: u32 = 1 << 2;
const UE: u32 = 1 << 3;
const SPI: u32 = 32 + 70;

fn w(m: &mut vmm::machine::Machine, addr: u64, v: u32) {
    m.bus.write(addr, &v.to_le_bytes()).expect("mapped");
}

fn r(m: &mut vmm::machine::Machine, addr: u64) -> u32 {
    let mut b = [0u8; 4];
    m.bus.read(addr, &mut b).expect("mapped");
    u32::from_le_bytes(b)
}

#[test]
fn a_shared_ecc_interrupt_stays_asserted_while_either_error_is_pending() {
    let dir = tempfile::tempdir().expect("dir");
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/boards/ecc-controller.dts"),
    )
    .expect("board")
    .replace(
        "interrupts = <0 70 4>, <0 71 4>;",
        "interrupts = <0 70 4>, <0 70 4>;",
    );
    assert!(src.contains("<0 70 4>, <0 70 4>"));
    let path = dir.path().join("shared.dts");
    std::fs::write(&path, src).expect("write");
    let board = board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board;
    let mut m =
        vmm::machine::build(&board, Box::new(std::io::sink()), 62_500_000).expect("machine");
    // irq-gic-v3: distributor on, SPI 70 group 1 and enabled; CPU interface open.
    w(&mut m, 0x0800_0000, 0x13);
    w(&mut m, 0x0800_0080 + 4 * u64::from(SPI / 32), !0);
    w(
        &mut m,
        0x0800_0100 + 4 * u64::from(SPI / 32),
        1 << (SPI % 32),
    );
    {
        let mut g = m.gic.borrow_mut();
        g.icc_write(IccReg::Pmr, 0xf0);
        g.icc_write(IccReg::Igrpen1, 1);
    }
    // dmc520_edac_probe: clear, then enable both DRAM ECC interrupts.
    let reg_val = r(&mut m, DMC + INTERRUPT_CONTROL);
    w(&mut m, DMC + INTERRUPT_CONTROL, reg_val & !(CE | UE));
    w(&mut m, DMC + INTERRUPT_CLR, CE | UE);
    w(&mut m, DMC + INTERRUPT_CONTROL, reg_val | CE | UE);

    m.inject_ecc(&board, EccError::Correctable, 0x4000_1000);
    m.inject_ecc(&board, EccError::Uncorrectable, 0x4000_2000);
    assert!(m.gic.borrow().irq_pending());
    assert_eq!(m.gic.borrow_mut().icc_read(IccReg::Iar1), u64::from(SPI));
    // dmc520_isr finds the first name with this irq (dram_ecc_errc) and services the
    // CE only: info, counters, INTERRUPT_CLR.
    let status = r(&mut m, DMC + INTERRUPT_STATUS);
    assert_eq!(status & (CE | UE), CE | UE);
    r(&mut m, DMC + ERRC_COUNT_LO);
    w(&mut m, DMC + ERRC_COUNT_LO, 0);
    w(&mut m, DMC + ERRC_COUNT_HI, 0);
    w(&mut m, DMC + INTERRUPT_CLR, CE);
    m.gic.borrow_mut().icc_write(IccReg::Eoir1, u64::from(SPI));
    // The UE output still drives the wire: the interrupt is pending again (on real
    // hardware too, which is why a shared line needs a driver that services both).
    assert!(
        m.gic.borrow().irq_pending(),
        "clearing the CE must not drop the UE's level"
    );
    w(&mut m, DMC + INTERRUPT_CLR, UE);
    assert!(!m.gic.borrow().irq_pending());
}
