//! The machine built from the reference board.

fn load(rel: &str) -> board::Board {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board
}

fn read32(m: &mut vmm::machine::Machine, addr: u64) -> u32 {
    let mut b = [0u8; 4];
    m.bus.read(addr, &mut b).expect("mapped");
    u32::from_le_bytes(b)
}

#[test]
fn heap_soc_devices_sit_where_the_dt_puts_them() {
    let sink = devices::console::Capture::default();
    let mut m = vmm::machine::build(
        &load("device-trees/heap-soc.dts"),
        Box::new(sink.clone()),
        62_500_000,
    )
    .expect("machine");
    assert_eq!(
        (read32(&mut m, 0x0800_ffe8) >> 4) & 0xf,
        3,
        "GICD PIDR2 at the DT's GICD base"
    );
    assert_eq!(
        (read32(&mut m, 0x080a_ffe8) >> 4) & 0xf,
        3,
        "GICR PIDR2 at the DT's GICR base"
    );
    m.bus
        .write(0x0900_0000, &u32::from(b'A').to_le_bytes())
        .expect("uart DR");
    assert_eq!(sink.bytes().as_slice(), b"A");
    assert_eq!(read32(&mut m, 0x0a00_0000), 0x7472_6976, "virtio magic");
    assert_eq!(
        read32(&mut m, 0x0a00_0008),
        16,
        "virtio-gpu in the GPU slot"
    );
    assert!(m.gpu.is_some());
    assert!(m.unmodelled.is_empty(), "{:?}", m.unmodelled);
    assert_eq!(
        read32(&mut m, 0x0910_0fe0),
        0x11,
        "PL111 PeriphID0 at the DT's display reg"
    );
    assert_eq!(m.displays.len(), 1);
    assert!(m.without_registers.iter().any(|n| n == "/timer"));
    assert!(
        m.bus.read(0x0c00_0000, &mut [0u8; 4]).is_err(),
        "nothing there"
    );
}

#[test]
fn uart_interrupt_reaches_the_gic_spi_from_the_dt() {
    let mut m = vmm::machine::build(
        &load("device-trees/heap-soc.dts"),
        Box::new(std::io::sink()),
        62_500_000,
    )
    .expect("machine");
    // Enable group 1 and SPI 1 (INTID 33) as Linux would, then unmask the UART's TX interrupt.
    m.bus
        .write(0x0800_0000, &2u32.to_le_bytes())
        .expect("GICD_CTLR");
    m.bus
        .write(0x0800_0084, &2u32.to_le_bytes())
        .expect("IGROUPR1");
    m.bus
        .write(0x0800_0104, &2u32.to_le_bytes())
        .expect("ISENABLER1");
    {
        let mut g = m.gic.borrow_mut();
        g.icc_write(devices::gic::IccReg::Pmr, 0xf0);
        g.icc_write(devices::gic::IccReg::Igrpen1, 1);
    }
    m.bus
        .write(0x0900_0038, &(1u32 << 5).to_le_bytes())
        .expect("UARTIMSC TX");
    m.bus
        .write(0x0900_0000, &u32::from(b'x').to_le_bytes())
        .expect("DR");
    assert!(m.gic.borrow().irq_pending());
    assert_eq!(m.gic.borrow_mut().icc_read(devices::gic::IccReg::Iar1), 33);
}

#[test]
fn a_gicv2_board_gets_a_gicv2_distributor_and_cpu_interface() {
    let mut m = vmm::machine::build(
        &load("tests/boards/gicv2.dts"),
        Box::new(std::io::sink()),
        62_500_000,
    )
    .expect("GICv2 board");
    assert_eq!(
        (read32(&mut m, 0x0800_0fe8) >> 4) & 0xf,
        2,
        "GICD PIDR2.ArchRev"
    );
    assert_eq!(
        read32(&mut m, 0x0801_00fc),
        0x0202_043b,
        "GICC_IIDR at the second reg"
    );
}

#[test]
fn an_interrupt_controller_that_is_not_a_gic_is_refused_naming_the_node() {
    let dir = tempfile::tempdir().expect("dir");
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/boards/gicv2.dts"),
    )
    .expect("board")
    .replace("arm,cortex-a15-gic", "riscv,plic0");
    let path = dir.path().join("plic.dts");
    std::fs::write(&path, src).expect("write");
    let board = board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board;
    let err =
        vmm::machine::build(&board, Box::new(std::io::sink()), 62_500_000).expect_err("not a GIC");
    assert!(
        err.to_string().starts_with(
            "/intc@8000000: the root interrupt controller riscv,plic0 is not modelled"
        ),
        "{err}"
    );
}

#[test]
fn memory_errors_are_reported_in_ecc_banks_and_corrupt_non_ecc_banks() {
    use devices::dmc520::EccError;
    use vm_memory::{Bytes, GuestAddress};
    use vmm::machine::Injected;

    let board = load("tests/boards/ecc-controller.dts");
    let mut m =
        vmm::machine::build(&board, Box::new(std::io::sink()), 62_500_000).expect("machine");
    assert_eq!(m.memory_controllers.len(), 1);
    assert_eq!(m.memory_controllers[0].bank, "memory@40000000");
    // As dmc520_edac probes: ECC enabled; enable the DRAM ECC interrupts.
    assert_eq!(read32(&mut m, 0x0920_0130) & 3, 1);
    m.bus
        .write(0x0920_0500, &0xcu32.to_le_bytes())
        .expect("INTERRUPT_CONTROL");
    // GIC: enable SPI 70 (INTID 102) in group 1.
    m.bus
        .write(0x0800_0000, &2u32.to_le_bytes())
        .expect("GICD_CTLR");
    m.bus
        .write(0x0800_008c, &(1u32 << 6).to_le_bytes())
        .expect("IGROUPR3");
    m.bus
        .write(0x0800_010c, &(1u32 << 6).to_le_bytes())
        .expect("ISENABLER3");
    m.gic
        .borrow_mut()
        .icc_write(devices::gic::IccReg::Pmr, 0xf0);
    m.gic
        .borrow_mut()
        .icc_write(devices::gic::IccReg::Igrpen1, 1);

    let r = m.inject_ecc(&board, EccError::Correctable, 0x4000_1000);
    assert_eq!(
        r,
        Injected::Reported {
            controller: "/memory-controller@9200000".into(),
            bank: "memory@40000000".into()
        }
    );
    assert_eq!(read32(&mut m, 0x0920_0158), 1, "ECC_ERRC_COUNT");
    assert_eq!(m.gic.borrow_mut().icc_read(devices::gic::IccReg::Iar1), 102);

    m.memory
        .write_obj(0x80u8, GuestAddress(0x5000_2000))
        .expect("write");
    let r = m.inject_ecc(&board, EccError::Uncorrectable, 0x5000_2000);
    assert_eq!(
        r,
        Injected::Corrupted {
            bank: "memory@50000000".into()
        }
    );
    assert_eq!(
        m.memory
            .read_obj::<u8>(GuestAddress(0x5000_2000))
            .expect("read"),
        0x83
    );
    assert_eq!(
        m.inject_ecc(&board, EccError::Correctable, 0x1000),
        Injected::NotRam
    );
}
