//! The board model read from real device trees.

mod common;

use board::{GicVersion, Placement, Range, ReservedKind, Status};
use common::*;

const RAM: &str =
    r#"memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x20000000>; };"#;

#[test]
fn heap_soc_has_an_ecc_and_a_non_ecc_bank() {
    let b = load_file("device-trees/heap-soc.dts")
        .expect("heap-soc loads")
        .board;
    assert_eq!(b.banks.len(), 2);
    assert_eq!(b.banks[0].name, "memory@40000000");
    assert_eq!(
        b.banks[0].range,
        Range {
            base: 0x4000_0000,
            size: 0x1000_0000
        }
    );
    assert!(b.banks[0].ecc.protected());
    assert_eq!(b.banks[0].ecc.detection_bits, Some(2));
    assert_eq!(b.banks[0].ecc.correction_bits, Some(1));
    assert_eq!(b.banks[1].range.base, 0x5000_0000);
    assert!(!b.banks[1].ecc.protected());
    assert!(
        b.warnings.is_empty(),
        "unexpected warnings: {:?}",
        b.warnings
    );
}

#[test]
fn heap_soc_heaps_are_the_ones_linux_creates() {
    let b = load_file("device-trees/heap-soc.dts")
        .expect("heap-soc loads")
        .board;
    let names: Vec<&str> = b.heaps.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "system",
            "default_cma_region",
            "linux,cma",
            "display-cma@58000000"
        ]
    );
}

#[test]
fn heap_soc_pools_carveout_and_display_user() {
    let b = load_file("device-trees/heap-soc.dts")
        .expect("heap-soc loads")
        .board;
    let default = &b.reserved[0];
    assert_eq!(default.kind, ReservedKind::CmaPool);
    assert!(default.cma_default);
    assert!(matches!(
        &default.placement,
        Placement::Dynamic { size: 0x400_0000, alignment: Some(0x40_0000), alloc_ranges }
            if alloc_ranges == &[Range { base: 0x4000_0000, size: 0x1000_0000 }]
    ));
    let display = &b.reserved[1];
    assert_eq!(display.kind, ReservedKind::CmaPool);
    assert_eq!(display.users, ["/display@9100000"]);
    let carveout = &b.reserved[2];
    assert_eq!(carveout.kind, ReservedKind::Carveout);
    assert!(carveout.no_map && carveout.heaps.is_empty());
    let pl111 = b.device("/display@9100000").expect("display device");
    assert_eq!(
        pl111.memory_regions,
        ["/reserved-memory/display-cma@58000000"]
    );
    assert_eq!(
        pl111.reg,
        [Range {
            base: 0x910_0000,
            size: 0x1000
        }]
    );
    assert_eq!(pl111.interrupts[0].intid, Some(92));
    assert_eq!(pl111.status, Status::Okay);
}

#[test]
fn heap_soc_cpu_gic_timer_psci() {
    let b = load_file("device-trees/heap-soc.dts")
        .expect("heap-soc loads")
        .board;
    assert_eq!(b.cpus.len(), 1);
    assert_eq!(b.cpus[0].mpidr, 0);
    let gic = b.interrupt_controller.clone().expect("gic");
    assert_eq!(gic.version, GicVersion::V3);
    assert_eq!(
        gic.reg[0],
        Range {
            base: 0x800_0000,
            size: 0x1_0000
        }
    );
    let timer = b.timer.clone().expect("timer");
    let ppis: Vec<Option<u32>> = timer.interrupts.iter().map(|i| i.intid).collect();
    assert_eq!(ppis, [Some(29), Some(30), Some(27), Some(26)]);
    assert_eq!(b.psci.clone().expect("psci").method, "hvc");
    let uart = b.device("/serial@9000000").expect("uart");
    assert_eq!(uart.interrupts[0].kind.as_deref(), Some("SPI 1"));
    assert_eq!(uart.interrupts[0].trigger.as_deref(), Some("level-high"));
}

#[test]
fn non_reusable_shared_dma_pool_is_a_coherent_pool_without_heap() {
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            vpu@50000000 {{ compatible = "shared-dma-pool"; reg = <0 0x50000000 0 0x400000>; }};
            swiotlb@54000000 {{ compatible = "restricted-dma-pool"; reg = <0 0x54000000 0 0x400000>; }};
            fw@56000000 {{ reg = <0 0x56000000 0 0x1000>; }}; }};"#
    ));
    let kinds: Vec<ReservedKind> = b.reserved.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ReservedKind::CoherentPool,
            ReservedKind::RestrictedDmaPool,
            ReservedKind::Reserved
        ]
    );
    assert!(b.reserved.iter().all(|r| r.heaps.is_empty()));
}

#[test]
fn board_without_default_pool_lists_the_kernel_default_cma_heaps() {
    let b = board(RAM);
    let names: Vec<&str> = b.heaps.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["system", "default_cma_region", "reserved"]);
    assert!(b.heaps[1].region.is_none());
    // The kselftest holds 32 x 1 MiB at once from each CMA heap: the guest's default
    // area (CONFIG_CMA_SIZE_MBYTES) must hold that.
    assert_eq!(b.heaps[1].size, Some(board::parse::GUEST_CMA_SIZE));
    let fragment = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/kernel.fragment"),
    )
    .expect("the guest's kernel fragment");
    let mbytes: u64 = fragment
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_CMA_SIZE_MBYTES="))
        .and_then(|v| v.parse().ok())
        .expect("CONFIG_CMA_SIZE_MBYTES in the fragment");
    assert_eq!(mbytes << 20, board::parse::GUEST_CMA_SIZE);
    assert!(mbytes >= 32, "the kselftest needs 32 MiB at once");
    assert!(
        b.heaps[2].source.contains("64 MiB"),
        "{}",
        b.heaps[2].source
    );
}

#[test]
fn cma_on_the_command_line_sizes_the_default_area() {
    let b = board(&format!(
        r#"{RAM} chosen {{ bootargs = "console=ttyAMA0 cma=96M"; }};"#
    ));
    assert_eq!(b.heaps[2].name, "reserved");
    assert_eq!(b.heaps[2].size, Some(96 << 20));
    assert!(b.heaps[2].source.contains("cma="), "{}", b.heaps[2].source);
}

#[test]
fn reusable_no_map_pool_warns_and_makes_no_heap() {
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            odd@50000000 {{ compatible = "shared-dma-pool"; reusable; no-map; reg = <0 0x50000000 0 0x400000>; }}; }};"#
    ));
    assert_eq!(b.reserved[0].kind, ReservedKind::Carveout);
    assert!(b.reserved[0].heaps.is_empty());
    assert!(b
        .warnings
        .iter()
        .any(|w| w.node == "/reserved-memory/odd@50000000"
            && w.message.contains("reusable and no-map")));
}

#[test]
fn misaligned_cma_pool_warns_and_makes_no_heap() {
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            small@50100000 {{ compatible = "shared-dma-pool"; reusable; reg = <0 0x50100000 0 0x100000>; }}; }};"#
    ));
    assert!(b.reserved[0].heaps.is_empty());
    assert!(b
        .warnings
        .iter()
        .any(|w| w.message.contains("not aligned to 4 MiB")));
    assert!(!b.heaps.iter().any(|h| h.name == "small@50100000"));
}

#[test]
fn memory_node_without_device_type_is_ignored_with_a_warning() {
    let b = board(&format!(
        r#"{RAM} memory@80000000 {{ reg = <0 0x80000000 0 0x1000000>; }};"#
    ));
    assert_eq!(b.banks.len(), 1);
    assert!(b.warnings.iter().any(|w| w.node == "/memory@80000000"));
}

#[test]
fn ecc_correction_above_detection_warns() {
    let b = board(
        r#"memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>;
            ecc-detection-bits = <1>; ecc-correction-bits = <2>; };"#,
    );
    assert!(b.banks[0].ecc.protected());
    assert!(b
        .warnings
        .iter()
        .any(|w| w.message.contains("exceeds ecc-detection-bits")));
}

#[test]
fn banks_above_4gib_and_multi_entry_reg_are_separate_banks() {
    let b = board(
        r#"memory@40000000 { device_type = "memory";
            reg = <0 0x40000000 0 0x1000000>, <0x8 0x80000000 0 0x2000000>; };"#,
    );
    assert_eq!(b.banks.len(), 2);
    assert_eq!(
        b.banks[1].range,
        Range {
            base: 0x8_8000_0000,
            size: 0x200_0000
        }
    );
    assert_eq!(b.banks[0].node, b.banks[1].node);
}

#[test]
fn reserved_region_may_span_adjacent_banks() {
    let b = board(
        r#"memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };
           memory@41000000 { device_type = "memory"; reg = <0 0x41000000 0 0x1000000>; };
           reserved-memory { #address-cells = <2>; #size-cells = <2>; ranges;
             span@40c00000 { no-map; reg = <0 0x40c00000 0 0x800000>; }; };"#,
    );
    assert_eq!(b.reserved[0].kind, ReservedKind::Carveout);
}

#[test]
fn device_reg_is_translated_through_bus_ranges() {
    let b = board(&format!(
        r#"{RAM} soc {{ compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>;
             ranges = <0x0 0x0 0x10000000 0x1000000>;
             serial@20000 {{ compatible = "ns16550a"; reg = <0x20000 0x100>; interrupts = <0 5 4>; }}; }};"#
    ));
    let uart = b.device("/soc/serial@20000").expect("uart under soc");
    assert_eq!(
        uart.reg,
        [Range {
            base: 0x1002_0000,
            size: 0x100
        }]
    );
    assert_eq!(uart.interrupts[0].intid, Some(37));
}

#[test]
fn disabled_devices_are_listed_with_their_status() {
    let b = board(&format!(
        r#"{RAM} display@9100000 {{ compatible = "arm,pl111"; reg = <0 0x9100000 0 0x1000>; status = "disabled"; }};"#
    ));
    assert_eq!(
        b.device("/display@9100000").expect("listed").status,
        Status::Disabled
    );
}

#[test]
fn memory_region_pointing_at_a_non_reserved_node_is_an_error() {
    let e = error(&format!(
        r#"{RAM} other: other {{ }};
           display@9100000 {{ compatible = "arm,pl111"; reg = <0 0x9100000 0 0x1000>; memory-region = <&other>; }};"#
    ));
    assert!(
        e.contains("/display@9100000") && e.contains("memory-region") && e.contains("/other"),
        "{e}"
    );
}

#[test]
fn reserved_memory_with_other_cell_sizes_than_root_is_an_error() {
    let e = error(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <1>; #size-cells = <1>; ranges;
             pool@50000000 {{ compatible = "shared-dma-pool"; reusable; reg = <0x50000000 0x400000>; }}; }};"#
    ));
    assert!(e.starts_with("/reserved-memory:"), "{e}");
}

#[test]
fn board_without_memory_is_an_error() {
    let e = error("");
    assert!(e.contains("no RAM"), "{e}");
}

#[test]
fn interrupts_without_matching_cells_warn_naming_the_node() {
    // Linux fails this device's interrupt only; the machine refuses a modelled device
    // without its interrupt later (vmm's hostile_boards tests).
    let b = board(&format!(
        r#"{RAM} serial@9000000 {{ compatible = "arm,pl011"; reg = <0 0x9000000 0 0x1000>; interrupts = <0 1>; }};"#
    ));
    let w = b
        .warnings
        .iter()
        .find(|w| w.node == "/serial@9000000")
        .expect("a warning on the serial node");
    assert!(w.message.contains("property `interrupts`"), "{w}");
    assert!(b
        .device("/serial@9000000")
        .expect("device")
        .interrupts
        .is_empty());
}

#[test]
fn interrupt_map_translates_through_a_bus_to_the_gic() {
    // As on Juno and FVP: a motherboard bus with #interrupt-cells = 1 maps its children's
    // interrupts (with the child unit address, masked) onto GIC SPIs.
    let b = board(&format!(
        r#"{RAM} bus@8000000 {{ compatible = "simple-bus"; #address-cells = <2>; #size-cells = <1>;
            ranges = <0 0 0 0x08000000 0x04000000>, <1 0 0 0x14000000 0x04000000>;
            #interrupt-cells = <1>; interrupt-map-mask = <3 0 63>;
            interrupt-map = <0 0 5 &gic 0 5 4>, <0 0 6 &gic 0 6 4>, <1 0 5 &gic 0 77 4>;
            uart@90000 {{ compatible = "arm,pl011"; reg = <0 0x90000 0x1000>; interrupts = <5>; }};
            other@1,0 {{ compatible = "x"; reg = <1 0 0x1000>; interrupts = <5>; }};
            nomap@2 {{ compatible = "y"; reg = <0 0x2000 0x1000>; interrupts = <9>; }};
        }};"#
    ));
    let uart = b.device("/bus@8000000/uart@90000").expect("uart");
    assert_eq!(uart.reg[0].base, 0x0809_0000);
    assert_eq!(uart.interrupts[0].intid, Some(32 + 5));
    let other = b.device("/bus@8000000/other@1,0").expect("other");
    assert_eq!(
        other.interrupts[0].intid,
        Some(32 + 77),
        "the unit address selects the entry"
    );
    let nomap = b.device("/bus@8000000/nomap@2").expect("nomap");
    assert_eq!(nomap.interrupts[0].controller, None, "no entry routes it");
}

#[test]
fn the_interrupt_parent_is_the_nearest_ancestor_with_interrupt_cells() {
    // A PMIC-like controller below the GIC: its children's interrupts belong to it.
    let b = board(&format!(
        r#"{RAM} pmic@9100000 {{ compatible = "vendor,pmic"; reg = <0 0x9100000 0 0x1000>;
            interrupts = <0 20 4>; interrupt-controller; #interrupt-cells = <4>;
            #address-cells = <1>; #size-cells = <0>;
            gpio@8800 {{ compatible = "vendor,pmic-gpio"; reg = <0x8800>; interrupts = <0 0x88 0 3>; }};
        }};"#
    ));
    let gpio = b.device("/pmic@9100000/gpio@8800").expect("gpio");
    assert_eq!(
        gpio.interrupts[0].controller.as_deref(),
        Some("/pmic@9100000")
    );
    assert_eq!(gpio.interrupts[0].intid, None, "not a GIC interrupt");
    assert!(
        gpio.reg.is_empty(),
        "reg on a bus without ranges is not MMIO"
    );
    let ic = b.interrupt_controller.as_ref().expect("root GIC");
    assert_eq!(ic.node, "/interrupt-controller@8000000");
}

#[test]
fn an_empty_interrupts_extended_entry_is_skipped() {
    let b = board(&format!(
        r#"{RAM} dev@9200000 {{ compatible = "x"; reg = <0 0x9200000 0 0x1000>;
            interrupts-extended = <0>, <&gic 0 7 4>; }};"#
    ));
    let d = b.device("/dev@9200000").expect("dev");
    assert_eq!(d.interrupts.len(), 2);
    assert_eq!(d.interrupts[0].intid, None);
    assert_eq!(d.interrupts[1].intid, Some(39));
}

#[test]
fn a_memory_region_pointing_at_a_disabled_region_is_a_warning() {
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            pool: pool@50000000 {{ compatible = "shared-dma-pool"; reusable; reg = <0 0x50000000 0 0x400000>; status = "disabled"; }}; }};
            dev@9300000 {{ compatible = "x"; reg = <0 0x9300000 0 0x1000>; memory-region = <&pool>; }};"#
    ));
    assert!(b
        .device("/dev@9300000")
        .expect("dev")
        .memory_regions
        .is_empty());
    assert!(b
        .warnings
        .iter()
        .any(|w| w.node == "/dev@9300000" && w.message.contains("disabled")));
}

#[test]
fn overlapping_banks_merge_with_a_warning() {
    let b = board(&format!(
        r#"{RAM} memory@48000000 {{ device_type = "memory"; reg = <0 0x48000000 0 0x10000000>; }};"#
    ));
    assert_eq!(b.banks.len(), 1);
    assert_eq!(
        b.banks[0].range.end(),
        0x6000_0000,
        "the second lies inside the first"
    );
    assert!(b
        .warnings
        .iter()
        .any(|w| w.node == "/memory@48000000" && w.message.contains("merges")));
}

#[test]
fn dts_with_include_and_define_goes_through_cpp() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ram.dtsi"), "#define RAM_BASE 0x40000000\n")
        .expect("write dtsi");
    let dts = board_dts(
        r#"memory@40000000 { device_type = "memory"; reg = <0 RAM_BASE 0 0x1000000>; };"#,
    );
    let path = dir.path().join("board.dts");
    std::fs::write(&path, format!("#include \"ram.dtsi\"\n{dts}")).expect("write dts");
    let b = board::load(&path, &board::SourceOptions::default())
        .expect("cpp + dtc")
        .board;
    assert_eq!(b.banks[0].range.base, 0x4000_0000);
}

fn heap_names(b: &board::Board) -> Vec<&str> {
    b.heaps.iter().map(|h| h.name.as_str()).collect()
}

#[test]
fn with_two_default_pools_the_last_is_the_default() {
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            a@44000000 {{ compatible = "shared-dma-pool"; reusable; reg = <0 0x44000000 0 0x4000000>; linux,cma-default; }};
            b@48000000 {{ compatible = "shared-dma-pool"; reusable; reg = <0 0x48000000 0 0x4000000>; linux,cma-default; }}; }};"#
    ));
    assert_eq!(
        heap_names(&b),
        ["system", "a@44000000", "default_cma_region", "b@48000000"]
    );
    assert!(b
        .warnings
        .iter()
        .any(|w| w.message.contains("the last is Linux's default")));
}

#[test]
fn cma_on_the_command_line_bypasses_the_dt_default_pool() {
    let b = board(&format!(
        r#"{RAM} chosen {{ bootargs = "cma=32M"; }};
        reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            a@44000000 {{ compatible = "shared-dma-pool"; reusable; reg = <0 0x44000000 0 0x4000000>; linux,cma-default; }}; }};"#
    ));
    assert_eq!(heap_names(&b), ["system", "default_cma_region", "reserved"]);
    assert_eq!(b.heaps[2].size, Some(32 << 20));
}

#[test]
fn a_pool_that_cannot_be_placed_gets_no_heap_and_the_kconfig_area_takes_over() {
    // 960 MiB of a 512 MiB bank: "failed to allocate memory for node"; the default then
    // comes from CONFIG_CMA_SIZE_MBYTES, as `reserved`.
    let b = board(&format!(
        r#"{RAM} reserved-memory {{ #address-cells = <2>; #size-cells = <2>; ranges;
            linux,cma {{ compatible = "shared-dma-pool"; reusable; size = <0 0x3c000000>; linux,cma-default; }}; }};"#
    ));
    assert_eq!(heap_names(&b), ["system", "default_cma_region", "reserved"]);
    // The same pool fits when the bank can hold it.
    let fits = board::heaps::predict(
        &[board::MemoryBank {
            name: "memory@40000000".into(),
            node: "/memory@40000000".into(),
            range: board::Range {
                base: 0x4000_0000,
                size: 0x4000_0000,
            },
            ecc: board::Ecc::default(),
        }],
        &b.reserved,
        None,
        &[board::Range {
            base: 0x4000_0000,
            size: 0x100_0000,
        }],
    );
    let names: Vec<&str> = fits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["system", "default_cma_region", "linux,cma"]);
}

fn load_with_memory(dts: &str, memory: &[&str]) -> board::Loaded {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("board.dts");
    std::fs::write(&path, board_dts(dts)).expect("write dts");
    let opts = board::SourceOptions {
        memory: memory
            .iter()
            .map(|m| m.parse().expect("memory arg"))
            .collect(),
        ..board::SourceOptions::default()
    };
    board::load(&path, &opts).expect("board")
}

#[test]
fn memory_fills_a_size_zero_placeholder_and_the_guest_dtb_carries_it() {
    let l = load_with_memory(
        r#"memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0>; };"#,
        &["2G"],
    );
    assert_eq!(l.board.banks.len(), 1);
    assert_eq!(
        l.board.banks[0].range,
        board::Range {
            base: 0x8000_0000,
            size: 2 << 30
        }
    );
    let dtb = board::guest_dtb(&l.tree, &board::ChosenPatch::default()).expect("dtb");
    let again = board::Board::from_dtb(&dtb).expect("the guest's DTB reads");
    assert_eq!(again.banks, l.board.banks);
}

#[test]
fn memory_adds_banks_with_ecc_to_a_tree_without_ram() {
    let l = load_with_memory("", &["0x40000000:512M:ecc", "0x100000000:1G"]);
    let banks = &l.board.banks;
    assert_eq!(banks.len(), 2);
    assert!(banks[0].ecc.protected() && !banks[1].ecc.protected());
    assert_eq!(banks[1].range.base, 0x1_0000_0000);
}

#[test]
fn a_tree_without_ram_names_the_memory_option() {
    let e = error("");
    assert!(e.contains("--memory"), "{e}");
}
