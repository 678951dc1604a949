//! drivers/tty/serial/amba-pl011.c binds every "arm,pl011" PrimeCell (pl011_probe), not
//! only the console's; earlycon and console= follow /chosen/stdout-path. The machine must
//! give each PL011 a model (a placeholder reads a zero PrimeCell ID and amba_match defers
//! the device forever) and send the stdout-path UART's output to the host.

fn board(dir: &std::path::Path, stdout_path: &str) -> board::Board {
    let dts = format!(
        r#"/dts-v1/;
/ {{
	#address-cells = <2>;
	#size-cells = <2>;
	interrupt-parent = <&gic>;
	chosen {{ stdout-path = "{stdout_path}"; }};
	cpus {{ #address-cells = <1>; #size-cells = <0>;
		cpu@0 {{ device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <0>; }}; }};
	memory@40000000 {{ device_type = "memory"; reg = <0 0x40000000 0 0x10000000>; }};
	gic: interrupt-controller@8000000 {{ compatible = "arm,gic-v3"; interrupt-controller;
		#interrupt-cells = <3>; reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0xf60000>; }};
	clk: apb-pclk {{ compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; }};
	serial@9000000 {{ compatible = "arm,pl011", "arm,primecell"; reg = <0 0x09000000 0 0x1000>;
		interrupts = <0 1 4>; clocks = <&clk>, <&clk>; clock-names = "uartclk", "apb_pclk"; }};
	serial@9040000 {{ compatible = "arm,pl011", "arm,primecell"; reg = <0 0x09040000 0 0x1000>;
		interrupts = <0 8 4>; clocks = <&clk>, <&clk>; clock-names = "uartclk", "apb_pclk"; }};
}};
"#
    );
    let path = dir.join("board.dts");
    std::fs::write(&path, dts).expect("write dts");
    board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board
}

fn cid(m: &mut vmm::machine::Machine, base: u64) -> u32 {
    (0..4).fold(0, |acc, i| {
        let mut b = [0u8; 4];
        m.bus.read(base + 0xff0 + 4 * i, &mut b).expect("mapped");
        acc | (u32::from(b[0]) << (8 * i))
    })
}

/// pl011_putc as earlycon does it: writeb to UARTDR.
fn putc(m: &mut vmm::machine::Machine, base: u64, c: u8) {
    m.bus.write(base, &[c]).expect("DR");
}

#[test]
fn every_pl011_probes_and_the_first_is_the_console_by_default() {
    let dir = tempfile::tempdir().expect("dir");
    let out = devices::console::Capture::default();
    let mut m = vmm::machine::build(
        &board(dir.path(), "serial0:115200n8"),
        Box::new(out.clone()),
        62_500_000,
    )
    .expect("machine");
    assert_eq!(cid(&mut m, 0x0900_0000), 0xb105_f00d);
    assert_eq!(
        cid(&mut m, 0x0904_0000),
        0xb105_f00d,
        "the second UART is a PL011 too"
    );
    assert!(m.unmodelled.is_empty(), "{:?}", m.unmodelled);
    putc(&mut m, 0x0900_0000, b'a');
    putc(&mut m, 0x0904_0000, b'b');
    assert_eq!(out.text(), "a");
}

#[test]
fn stdout_path_by_node_picks_the_console_uart() {
    let dir = tempfile::tempdir().expect("dir");
    let out = devices::console::Capture::default();
    let mut m = vmm::machine::build(
        &board(dir.path(), "/serial@9040000:115200n8"),
        Box::new(out.clone()),
        62_500_000,
    )
    .expect("machine");
    putc(&mut m, 0x0900_0000, b'a');
    putc(&mut m, 0x0904_0000, b'b');
    assert_eq!(out.text(), "b");
    assert!(m.console.is_some());
}
