//! The verdict on the reference board.

use board::{Board, Range};
use ledger::{report, Direction, Ledger, MemoryMap, Purpose, Rule};

const DISPLAY: &str = "/display@9100000";
const GPU: &str = "/virtio_mmio@a000000";

fn heap_soc() -> Board {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../device-trees/heap-soc.dts");
    board::load(&path, &board::SourceOptions::default())
        .expect("heap-soc")
        .board
}

fn r(base: u64, size: u64) -> Range {
    Range { base, size }
}

fn scanout(l: &mut Ledger, base: u64, t: u64) {
    l.record(
        DISPLAY,
        &[r(base, 0x12_c000)],
        Direction::Read,
        Purpose::Scanout,
        "fb0",
        t,
    );
}

#[test]
fn display_scanout_inside_its_pool_passes_and_repeats_fold() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    for t in 0..100 {
        scanout(&mut l, 0x5800_0000, t);
    }
    assert_eq!(
        l.records().len(),
        1,
        "repeated scanouts fold into one record"
    );
    assert_eq!(l.records()[0].count, 100);
    let p = report::build(&b, &map, &l, &[]);
    assert!(p.passed, "{:?}", p.findings);
    let d = &p.devices[0];
    assert_eq!((d.buffers, d.bytes, d.accesses), (1, 0x12_c000, 100));
    assert_eq!(d.pools, ["display-cma@58000000"]);
    assert_eq!(d.banks.len(), 1);
    assert!(!d.banks[0].ecc);
    assert!(d.contiguous);
    assert!(report::text(&p).contains("verdict: pass"));
}

#[test]
fn scanout_from_the_carveout_names_device_address_and_carveout() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    scanout(&mut l, 0x5f00_0000, 0);
    let p = report::build(&b, &map, &l, &[]);
    assert!(!p.passed);
    let carve = p
        .findings
        .iter()
        .find(|f| f.rule == "carveout")
        .expect("carveout finding");
    let text = carve.to_string();
    assert!(
        text.contains(DISPLAY) && text.contains("0x5f000000") && text.contains("carveout@5f000000"),
        "{text}"
    );
    assert!(p.findings.iter().any(|f| f.rule == "outside-pools"));
}

#[test]
fn scattered_gpu_buffer_reports_bank_shares_without_findings() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    let segs = [
        r(0x4100_0000, 0x1000),
        r(0x5200_0000, 0x3000),
        r(0x4100_2000, 0x1000),
    ];
    l.record(
        GPU,
        &segs,
        Direction::Read,
        Purpose::Buffer,
        "resource 1",
        5,
    );
    let p = report::build(&b, &map, &l, &[]);
    assert!(p.passed, "{:?}", p.findings);
    let d = &p.devices[0];
    assert!(!d.contiguous);
    assert_eq!(d.bytes, 0x5000);
    assert!((d.ecc_share() - 0.4).abs() < 1e-9);
}

#[test]
fn scanout_must_be_contiguous() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    let segs = [r(0x5800_0000, 0x1000), r(0x5800_2000, 0x1000)];
    l.record(DISPLAY, &segs, Direction::Read, Purpose::Scanout, "fb1", 0);
    let p = report::build(&b, &map, &l, &[]);
    assert!(p
        .findings
        .iter()
        .any(|f| f.rule == "scanout-not-contiguous"));
}

#[test]
fn user_expectations_are_checked() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    scanout(&mut l, 0x5800_0000, 0);
    let rules: Vec<Rule> = vec![format!("{DISPLAY}=ecc").parse().expect("rule")];
    let p = report::build(&b, &map, &l, &rules);
    let f = p
        .findings
        .iter()
        .find(|f| f.rule == "expect-ecc")
        .expect("expect-ecc");
    assert!(
        f.message.contains("non-ECC bank memory@50000000"),
        "{}",
        f.message
    );
    let ok: Vec<Rule> = vec![format!("{DISPLAY}=non-ecc").parse().expect("rule")];
    assert!(report::build(&b, &map, &l, &ok).passed);
    assert!("x=purple".parse::<Rule>().is_err());
    assert!("no-equals".parse::<Rule>().is_err());
}

#[test]
fn dma_outside_ram_is_a_finding() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    l.record(
        GPU,
        &[r(0x8000_0000, 0x1000)],
        Direction::Write,
        Purpose::Buffer,
        "resource 2",
        0,
    );
    let p = report::build(&b, &map, &l, &[]);
    assert_eq!(p.findings[0].rule, "outside-ram");
    assert_eq!(p.devices[0].outside_ram_bytes, 0x1000);
}

#[test]
fn dynamic_pools_are_placed_from_the_kernel_log() {
    let b = heap_soc();
    let mut map = MemoryMap::new(&b);
    assert_eq!(map.regions[0].range, None);
    assert!(map.learn_from_console(
        "OF: reserved mem: 0x000000004c000000..0x000000004fffffff (65536 KiB) map reusable linux,cma"
    ));
    assert_eq!(map.regions[0].range, Some(r(0x4c00_0000, 0x400_0000)));
    assert!(!map.learn_from_console("Memory: 364828K/524288K available"));
    let places = map.place(r(0x4bff_f000, 0x2000));
    assert_eq!(places.len(), 2, "split at the pool boundary");
    assert_eq!(places[1].region, Some(0));
}

#[test]
fn a_disabled_ledger_records_nothing_but_counts() {
    let mut l = Ledger::disabled();
    scanout(&mut l, 0x5800_0000, 0);
    assert!(l.records().is_empty());
    assert_eq!(l.unrecorded(), 1);
}

#[test]
fn svg_map_shows_banks_pools_and_buffers() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    scanout(&mut l, 0x5800_0000, 0);
    l.record(
        GPU,
        &[r(0x4100_0000, 0x1000)],
        Direction::Read,
        Purpose::Buffer,
        "resource <1>",
        0,
    );
    let svg = ledger::svg::render(&map, &l);
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("memory@40000000 ECC") && svg.contains("memory@50000000 non-ECC"));
    assert!(svg.contains("carveout@5f000000"));
    assert!(svg.contains("resource &lt;1&gt;"), "names are escaped");
    assert_eq!(
        svg.matches("opacity=\"0.8\"").count(),
        2,
        "one mark per buffer segment"
    );
}

#[test]
fn display_pool_in_the_ecc_bank_fails_a_non_ecc_expectation() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../device-trees/heap-soc-display-in-ecc.dts");
    let b = board::load(&path, &board::SourceOptions::default())
        .expect("board")
        .board;
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    scanout(&mut l, 0x4800_0000, 0);
    assert!(
        report::build(&b, &map, &l, &[]).passed,
        "inside its pool: no built-in policy fails"
    );
    let rules: Vec<Rule> = vec![format!("{DISPLAY}=non-ecc").parse().expect("rule")];
    let p = report::build(&b, &map, &l, &rules);
    assert_eq!(p.findings.len(), 1);
    assert_eq!(p.findings[0].rule, "expect-non-ecc");
    assert!(p.findings[0].message.contains("ECC bank memory@40000000"));
}

#[test]
fn imported_buffers_are_attributed_to_heaps_in_import_order_by_size() {
    let b = heap_soc();
    let map = MemoryMap::new(&b);
    let mut l = Ledger::new();
    // A 2D resource (not an import), then two blobs: a contiguous CMA one, a scattered one.
    l.record(
        GPU,
        &[r(0x4100_0000, 0x3000)],
        Direction::Read,
        Purpose::Buffer,
        "resource 1",
        0,
    );
    l.record(
        GPU,
        &[r(0x5800_0000, 0x2000)],
        Direction::Read,
        Purpose::Buffer,
        "blob resource 2",
        1,
    );
    let scattered = [
        r(0x4200_0000, 0x1000),
        r(0x5300_0000, 0x1000),
        r(0x4200_2000, 0x1000),
    ];
    l.record(
        GPU,
        &scattered,
        Direction::Read,
        Purpose::Buffer,
        "blob resource 3",
        2,
    );
    let imports = vec![
        ("display-cma@58000000".to_string(), 0x2000),
        ("system".to_string(), 0x3000),
    ];
    let heaps = ledger::report::attribute_to_heaps(&map, &l, GPU, "blob resource", &imports);
    assert_eq!(heaps.len(), 2);
    assert_eq!(heaps[0].heap, "display-cma@58000000");
    assert!(heaps[0].contiguous && !heaps[0].banks[0].ecc);
    let sys = &heaps[1];
    assert_eq!((sys.buffers, sys.bytes, sys.contiguous), (1, 0x3000, false));
    let ecc: u64 = sys.banks.iter().filter(|b| b.ecc).map(|b| b.bytes).sum();
    assert_eq!(ecc, 0x2000, "two of three pages in the ECC bank");
}

// ---- a hostile guest --------------------------------------------------------------------

#[test]
fn records_are_bounded_in_host_bytes_however_a_guest_splits_its_buffers() {
    // A guest handing a device buffers of 64 Ki one-page segments: each record holds a MiB
    // of segments on the host, so a count of records would not bound the memory.
    let segs: Vec<Range> = (0..0x1_0000u64)
        .map(|i| r(0x4000_0000 + 0x2000 * i, 0x1000))
        .collect();
    let mut l = Ledger::new();
    let mut kept = 0;
    for i in 0..400u64 {
        let before = l.records().len();
        l.record(
            GPU,
            &segs,
            Direction::Read,
            Purpose::Buffer,
            &format!("blob {i}"),
            i,
        );
        kept += l.records().len() - before;
    }
    assert!(l.held_bytes() <= ledger::MAX_BYTES);
    assert!(
        kept < 400 && l.overflowed() == 400 - kept as u64,
        "{kept} kept"
    );
    let b = heap_soc();
    let p = report::build(&b, &MemoryMap::new(&b), &l, &[]);
    assert!(!p.passed, "an incomplete ledger cannot pass");
}

#[test]
fn folding_finds_a_devices_last_record_among_many_others() {
    let mut l = Ledger::new();
    scanout(&mut l, 0x5800_0000, 0);
    for i in 0..10_000u64 {
        l.record(
            GPU,
            &[r(0x4000_0000 + 0x1000 * i, 0x1000)],
            Direction::Read,
            Purpose::Buffer,
            "b",
            i,
        );
    }
    scanout(&mut l, 0x5800_0000, 1);
    assert_eq!(
        l.records().len(),
        10_001,
        "the scanout folded into its first record"
    );
    assert_eq!(l.records()[0].count, 2);
}

#[test]
fn a_console_line_spanning_all_of_memory_is_ignored() {
    let b = heap_soc();
    let mut map = MemoryMap::new(&b);
    assert!(!map.learn_from_console(
        "OF: reserved mem: 0x0000000000000000..0xffffffffffffffff (0 KiB) map reusable linux,cma"
    ));
    assert!(map.learn_from_console(
        "OF: reserved mem: 0x000000004c000000..0x000000004fffffff (65536 KiB) map reusable linux,cma"
    ));
}

#[test]
fn a_carveout_the_guest_kernel_exports_as_a_heap_is_no_carveout_violation() {
    // A patched kernel exports carveout@5f000000 as a heap of that name: a device without
    // a memory-region that scans out one of its buffers breaks no carveout rule. Learnt
    // only from the guest's heap list, only for no-map carveouts.
    let b = heap_soc();
    let mut map = MemoryMap::new(&b);
    assert!(!map.learn_from_console("# heapsoc-heaps: default_cma_region linux,cma system"));
    assert!(map.learn_from_console(
        "# heapsoc-heaps: carveout@5f000000 default_cma_region display-cma@58000000 system"
    ));
    let carve = map
        .regions
        .iter()
        .find(|r| r.name == "carveout@5f000000")
        .unwrap();
    assert!(carve.heap);
    let cma = map
        .regions
        .iter()
        .find(|r| r.name == "display-cma@58000000")
        .unwrap();
    assert!(!cma.heap, "a CMA pool is a pool, not an exported carveout");
    let mut l = Ledger::new();
    l.record(
        GPU,
        &[r(0x5f00_0000, 0x1000)],
        Direction::Read,
        Purpose::Buffer,
        "blob resource 1",
        0,
    );
    let p = report::build(&b, &map, &l, &[]);
    assert!(
        !p.findings.iter().any(|f| f.rule == "carveout"),
        "{:?}",
        p.findings
    );
    // without the heap list the same DMA is a carveout violation
    let p = report::build(&b, &MemoryMap::new(&b), &l, &[]);
    assert!(p.findings.iter().any(|f| f.rule == "carveout"));
}
