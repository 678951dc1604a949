//! Device trees written to break machine assembly: each must give an error naming the node
//! and property, never a host panic. Also the inputs the machine fuzz target
//! (crates/vmm/fuzz) once crashed on.

use std::path::Path;

fn heap_soc_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../device-trees/heap-soc.dts"),
    )
    .expect("heap-soc.dts")
}

/// heap-soc.dts with `from` replaced by `to` (once), built into a machine.
fn build_variant(from: &str, to: &str) -> Result<vmm::machine::Machine, String> {
    let text = heap_soc_text();
    assert!(text.contains(from), "heap-soc.dts has no {from:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("board.dts");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    let loaded = board::load(&path, &board::SourceOptions::default()).map_err(|e| e.to_string())?;
    vmm::machine::build(&loaded.board, Box::new(std::io::sink()), 62_500_000)
        .map_err(|e| e.to_string())
}

#[test]
fn an_spi_beyond_the_gic_on_any_modelled_device_is_an_error_naming_it() {
    // 0xffffffdf + 32 is 0xffffffff: the GIC's size computation once wrapped to 0.
    for (node, from) in [
        ("/serial@9000000", "interrupts = <0 1 4>;"),
        ("/display@9100000", "interrupts = <0 60 4>;"),
        ("/virtio_mmio@a000000", "interrupts = <0 16 1>;"),
        (
            "/memory-controller@9200000",
            "interrupts = <0 70 4>, <0 71 4>;",
        ),
    ] {
        let to = from.replacen(from.split(' ').nth(3).expect("SPI number"), "0xffffffdf", 1);
        let err = build_variant(from, &to)
            .err()
            .unwrap_or_else(|| panic!("{node}: an SPI of 0xffffffdf was accepted"));
        assert!(err.starts_with(node), "{err}");
        assert!(err.contains("interrupts"), "{err}");
        assert!(
            err.contains("not an interrupt the GIC can deliver"),
            "{err}"
        );
    }
}

#[test]
fn the_largest_spi_a_gic_has_is_accepted() {
    // SPI 987 is INTID 1019, the last one.
    let m = build_variant("interrupts = <0 16 1>;", "interrupts = <0 987 1>;").expect("machine");
    assert_eq!(m.gic.borrow().nr_irqs(), 1020);
}

#[test]
fn a_ppi_number_beyond_15_is_an_error() {
    let err = build_variant("interrupts = <0 1 4>;", "interrupts = <1 16 4>;").expect_err("PPI 16");
    assert!(err.starts_with("/serial@9000000"), "{err}");
}

#[test]
fn a_modelled_device_without_interrupts_is_built_unconnected_with_a_note() {
    // Linux's driver decides what to do without its interrupt; the machine says so.
    let m = build_variant("interrupts = <0 60 4>;", "").expect("machine");
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with("/display@9100000: interrupts has no entry 0")),
        "{:?}",
        m.notes
    );
}

#[test]
fn fuzzer_findings_build_or_fail_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regression dir") {
        let data = std::fs::read(entry.expect("entry").path()).expect("read");
        n += 1;
        let Ok(tree) = board::Tree::from_dtb(&data) else {
            continue;
        };
        let Ok(b) = board::parse::board(&tree) else {
            continue;
        };
        let _ = vmm::machine::build(&b, Box::new(std::io::sink()), 62_500_000);
    }
    assert!(n > 0, "no inputs in {}", dir.display());
}
