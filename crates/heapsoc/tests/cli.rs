//! The `heapsoc` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn heapsoc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heapsoc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run heapsoc")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn inspect_heap_soc_shows_banks_pools_heaps_and_carveout() {
    let out = heapsoc(&["inspect", "--dtb", "device-trees/heap-soc.dts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for needle in [
        "memory@40000000",
        "ECC (detects 2, corrects 1 bit)",
        "memory@50000000",
        "non-ECC",
        "carveout@5f000000",
        "no-map carveout",
        "used by /display@9100000",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in:\n{s}");
    }
    let heaps: Vec<&str> = s
        .split("(/dev/dma_heap)\n")
        .nth(1)
        .expect("heap section")
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        heaps,
        [
            "system",
            "default_cma_region",
            "linux,cma",
            "display-cma@58000000"
        ]
    );
}

#[test]
fn inspect_json_carries_the_same_model() {
    let out = heapsoc(&["inspect", "--json", "--dtb", "device-trees/heap-soc.dts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["banks"][0]["ecc"]["correction_bits"], 1);
    assert_eq!(
        v["banks"][1]["ecc"]["detection_bits"],
        serde_json::Value::Null
    );
    assert_eq!(v["reserved"][1]["kind"], "cma-pool");
    assert_eq!(v["reserved"][2]["kind"], "carveout");
    assert_eq!(v["heaps"].as_array().expect("heaps").len(), 4);
}

/// What Linux tolerates, heapsoc tolerates with a warning naming the node.
#[test]
fn tolerated_boards_load_with_a_warning_naming_the_node() {
    for (file, node, words) in [
        ("bank-overlap.dts", "/memory@48000000", "merges"),
        (
            "reserved-outside-ram.dts",
            "/reserved-memory/display-cma@60000000",
            "reserves it anyway",
        ),
    ] {
        let path = repo().join("tests/boards/tolerated").join(file);
        let out = heapsoc(&["inspect", "--dtb", path.to_str().expect("utf-8 path")]);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{file}: {err}");
        let report = text(&out.stdout);
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{node}: ")))
            .unwrap_or_else(|| panic!("{file}: no warning naming {node}:\n{report}"));
        assert!(line.contains(words), "{file}: {line}");
    }
}

/// Each invalid board fails with one line naming the node at fault, and no panic.
#[test]
fn invalid_boards_fail_with_one_line_naming_the_node() {
    let cases = [
        ("reserved-overlap.dts", "/reserved-memory/carveout@5a000000"),
        ("reg-cells-mismatch.dts", "/memory@40000000: property `reg`"),
        (
            "dangling-memory-region.dts",
            "/display@9100000: property `memory-region`",
        ),
        ("unaligned-bank.dts", "/memory@40000800: property `reg`"),
        ("syntax-error.dts", "syntax-error.dts:7"),
    ];
    let dir = repo().join("tests/boards/invalid");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("invalid boards") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let (_, expected) = cases
            .iter()
            .find(|(file, _)| *file == name)
            .unwrap_or_else(|| panic!("{name} has no expectation in this test"));
        let out = heapsoc(&["inspect", "--dtb", path.to_str().expect("utf-8 path")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: not one line:\n{err}");
        assert!(err.starts_with("heapsoc: error: "), "{name}: {err}");
        assert!(
            err.contains(expected),
            "{name}: {err:?} does not name {expected:?}"
        );
        seen += 1;
    }
    assert_eq!(seen, cases.len());
}

#[test]
fn missing_dtc_names_the_package_to_install() {
    let empty = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_heapsoc"))
        .args(["inspect", "--dtb", "device-trees/heap-soc.dts"])
        .current_dir(repo())
        .env("PATH", empty.path())
        .output()
        .expect("run heapsoc");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("device-tree-compiler"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_file_that_is_not_a_device_tree_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("Image");
    std::fs::write(&path, [0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 8]).expect("write");
    let out = heapsoc(&["inspect", "--dtb", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("malformed DTB"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn dtb_command_writes_a_guest_tree_with_chosen_patched() {
    let dir = tempfile::tempdir().expect("dir");
    let out_path = dir.path().join("guest.dtb");
    let out = heapsoc(&[
        "dtb",
        "--dtb",
        "device-trees/heap-soc.dts",
        "-o",
        out_path.to_str().expect("utf-8"),
        "--bootargs",
        "console=ttyAMA0",
        "--initrd-start",
        "0x54000000",
        "--initrd-size",
        "0x1000",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inspect = heapsoc(&[
        "inspect",
        "--json",
        "--dtb",
        out_path.to_str().expect("utf-8"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&inspect.stdout).expect("json");
    assert_eq!(v["chosen"]["bootargs"], "console=ttyAMA0");
    assert_eq!(v["chosen"]["initrd"]["base"], 0x5400_0000u64);
    assert_eq!(v["chosen"]["initrd"]["size"], 0x1000);
}

#[test]
fn run_refuses_a_kernel_that_is_not_an_arm64_image() {
    let dir = tempfile::tempdir().expect("dir");
    let k = dir.path().join("vmlinux");
    std::fs::write(&k, b"\x7fELF\x02\x01\x01\0".repeat(16)).expect("write");
    let out = heapsoc(&[
        "run",
        "--dtb",
        "device-trees/heap-soc.dts",
        "--kernel",
        k.to_str().expect("utf-8"),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("vmlinux: not an arm64 Image: magic at offset 56"),
        "{err}"
    );
}
