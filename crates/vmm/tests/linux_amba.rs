//! drivers/amba/bus.c as it meets the machine: amba_read_periphid maps the node's whole
//! `reg` and reads the PrimeCell ID with readl at `size - 0x20 + 4i` (PeriphID0-3) and
//! `size - 0x10 + 4i` (PCellID0-3), keeping the low byte of each; a CID other than
//! 0xb105f00d leaves periphid 0 and the device is never bound (amba_match defers it).

fn board(dir: &std::path::Path, uart_size: u32, clcd_size: u32) -> board::Board {
    let dts = format!(
        r#"/dts-v1/;
/ {{
	#address-cells = <2>;
	#size-cells = <2>;
	interrupt-parent = <&gic>;
	cpus {{ #address-cells = <1>; #size-cells = <0>;
		cpu@0 {{ device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <0>; }}; }};
	memory@40000000 {{ device_type = "memory"; reg = <0 0x40000000 0 0x10000000>; }};
	gic: interrupt-controller@8000000 {{ compatible = "arm,gic-v3"; interrupt-controller;
		#interrupt-cells = <3>; reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0xf60000>; }};
	clk: apb-pclk {{ compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; }};
	serial@9000000 {{ compatible = "arm,pl011", "arm,primecell"; reg = <0 0x09000000 0 0x{uart_size:x}>;
		interrupts = <0 1 4>; clocks = <&clk>, <&clk>; clock-names = "uartclk", "apb_pclk"; }};
	display@9100000 {{ compatible = "arm,pl111", "arm,primecell"; reg = <0 0x09100000 0 0x{clcd_size:x}>;
		interrupts = <0 60 4>; clocks = <&clk>, <&clk>; clock-names = "clcdclk", "apb_pclk"; }};
}};
"#
    );
    let path = dir.join("board.dts");
    std::fs::write(&path, dts).expect("write dts");
    board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board
}

/// amba_read_periphid at `base` for a `size`-byte resource: (periphid, cid).
fn amba_read_periphid(m: &mut vmm::machine::Machine, base: u64, size: u64) -> (u32, u32) {
    let mut readl = |addr: u64| {
        let mut b = [0u8; 4];
        m.bus.read(addr, &mut b).expect("mapped");
        u32::from_le_bytes(b)
    };
    let (mut pid, mut cid) = (0, 0);
    for i in 0..4 {
        pid |= (readl(base + size - 0x20 + 4 * i) & 255) << (i * 8);
        cid |= (readl(base + size - 0x10 + 4 * i) & 255) << (i * 8);
    }
    (pid, cid)
}

#[test]
fn primecells_in_4k_slots_identify_themselves() {
    let dir = tempfile::tempdir().expect("dir");
    let mut m = vmm::machine::build(
        &board(dir.path(), 0x1000, 0x1000),
        Box::new(std::io::sink()),
        62_500_000,
    )
    .expect("machine");
    assert_eq!(
        amba_read_periphid(&mut m, 0x0900_0000, 0x1000),
        (0x0034_1011, 0xb105_f00d),
        "PL011 r1p5"
    );
    assert_eq!(
        amba_read_periphid(&mut m, 0x0910_0000, 0x1000),
        (0x0024_1111, 0xb105_f00d),
        "PL111"
    );
}

#[test]
fn primecells_in_larger_slots_repeat_so_linux_still_finds_the_id() {
    // Boards give a PrimeCell a 64 KiB slot (e.g. HiSilicon's PL011s): Linux reads the ID
    // at 0xffe0..0xfffc, where the 4 KiB register window repeats.
    let dir = tempfile::tempdir().expect("dir");
    let sink = devices::console::Capture::default();
    let mut m = vmm::machine::build(
        &board(dir.path(), 0x10000, 0x2000),
        Box::new(sink.clone()),
        62_500_000,
    )
    .expect("machine");
    assert_eq!(
        amba_read_periphid(&mut m, 0x0900_0000, 0x10000),
        (0x0034_1011, 0xb105_f00d)
    );
    assert_eq!(
        amba_read_periphid(&mut m, 0x0910_0000, 0x2000),
        (0x0024_1111, 0xb105_f00d)
    );
    // The registers themselves are where the driver looks: UARTDR at the slot base.
    m.bus
        .write(0x0900_0000, &u16::from(b'k').to_le_bytes())
        .expect("DR");
    assert_eq!(sink.text(), "k");
}

#[test]
fn a_primecell_slot_smaller_than_its_register_window_is_refused_naming_the_node() {
    let dir = tempfile::tempdir().expect("dir");
    let err = vmm::machine::build(
        &board(dir.path(), 0x200, 0x1000),
        Box::new(std::io::sink()),
        62_500_000,
    )
    .expect_err("0x200 cannot hold a PL011");
    let msg = err.to_string();
    assert!(msg.contains("/serial@9000000"), "{msg}");
    assert!(msg.contains("PrimeCell"), "{msg}");
}

#[test]
fn a_pl011_without_the_primecell_compatible_is_refused_naming_the_node() {
    // drivers/of/platform.c creates an AMBA device only for "arm,primecell" nodes; a bare
    // "arm,pl011" becomes a platform device no driver binds (amba-pl011's platform
    // driver matches "arm,sbsa-uart" only), so the guest would lose its console.
    let dir = tempfile::tempdir().expect("dir");
    let b = board(dir.path(), 0x1000, 0x1000);
    let mut b2 = b.clone();
    for d in &mut b2.devices {
        d.compatible
            .retain(|c| c != "arm,primecell" || !d.node.starts_with("/serial"));
    }
    let err = vmm::machine::build(&b2, Box::new(std::io::sink()), 62_500_000)
        .expect_err("not an AMBA device for Linux");
    let msg = err.to_string();
    assert!(msg.starts_with("/serial@9000000:"), "{msg}");
    assert!(msg.contains("arm,primecell"), "{msg}");
}
