//! The guest DTB writer and the blob reader's robustness.

mod common;

use board::{guest_dtb, Board, ChosenPatch, Range, Tree};
use common::*;

fn heap_soc() -> board::Loaded {
    load_file("device-trees/heap-soc.dts").expect("heap-soc loads")
}

fn patch() -> ChosenPatch {
    ChosenPatch {
        bootargs: Some("console=ttyAMA0 heapsoc.test=all".into()),
        stdout_path: None,
        initrd: Some(Range {
            base: 0x5400_0000,
            size: 0x12_3400,
        }),
    }
}

#[test]
fn guest_dtb_round_trips_to_the_same_board_plus_chosen() {
    let loaded = heap_soc();
    let dtb = guest_dtb(&loaded.tree, &patch()).expect("write");
    let again = Board::from_dtb(&dtb).expect("reparse");
    let mut expected = loaded.board.clone();
    expected.chosen.bootargs = Some("console=ttyAMA0 heapsoc.test=all".into());
    expected.chosen.initrd = Some(Range {
        base: 0x5400_0000,
        size: 0x12_3400,
    });
    assert_eq!(again, expected);
    assert_eq!(
        again.chosen.stdout_path.as_deref(),
        Some("serial0:115200n8")
    );
}

#[test]
fn guest_dtb_keeps_every_user_node_and_property() {
    let loaded = heap_soc();
    let tree = Tree::from_dtb(&guest_dtb(&loaded.tree, &patch()).expect("write")).expect("reparse");
    assert_eq!(tree.nodes.len(), loaded.tree.nodes.len());
    for (old, new) in loaded.tree.nodes.iter().zip(&tree.nodes) {
        assert_eq!(old.path, new.path);
        for p in &old.properties {
            assert_eq!(
                new.prop(&p.name),
                Some(p.value.as_slice()),
                "{} {}",
                old.path,
                p.name
            );
        }
    }
    let chosen = tree.find("/chosen").expect("chosen");
    assert_eq!(
        chosen.prop("linux,initrd-end"),
        Some(&0x5412_3400u64.to_be_bytes()[..])
    );
}

#[test]
fn guest_dtb_creates_chosen_when_the_board_has_none() {
    let loaded = load_dts(&board_dts(
        r#"memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };"#,
    ))
    .expect("load");
    assert!(loaded.tree.find("/chosen").is_none());
    let b = Board::from_dtb(&guest_dtb(&loaded.tree, &patch()).expect("write")).expect("reparse");
    assert_eq!(
        b.chosen.bootargs.as_deref(),
        Some("console=ttyAMA0 heapsoc.test=all")
    );
}

#[test]
fn memreserve_entries_survive_the_writer() {
    let src = board_dts(
        r#"memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };"#,
    )
    .replacen("/dts-v1/;", "/dts-v1/;\n/memreserve/ 0x40000000 0x1000;", 1);
    let loaded = load_dts(&src).expect("load");
    let tree = Tree::from_dtb(&guest_dtb(&loaded.tree, &ChosenPatch::default()).expect("write"))
        .expect("reparse");
    assert_eq!(tree.mem_reserve, loaded.tree.mem_reserve);
    assert_eq!(tree.mem_reserve.len(), 1);
}

fn dtb_bytes() -> Vec<u8> {
    let loaded = heap_soc();
    guest_dtb(&loaded.tree, &ChosenPatch::default()).expect("write")
}

#[test]
fn every_truncation_of_a_dtb_is_an_error_not_a_panic() {
    let dtb = dtb_bytes();
    for len in 0..dtb.len() {
        assert!(
            Board::from_dtb(&dtb[..len]).is_err(),
            "truncated to {len} bytes was accepted"
        );
    }
}

#[test]
fn single_byte_corruptions_never_panic() {
    let dtb = dtb_bytes();
    for i in 0..dtb.len() {
        for v in [0x00, 0x01, 0x03, 0x04, 0x09, 0x7f, 0xff] {
            let mut bad = dtb.clone();
            bad[i] = v;
            // Some corruptions leave a valid tree; none may panic.
            let _ = Board::from_dtb(&bad);
        }
    }
}

#[test]
fn text_is_not_a_dtb() {
    let e =
        Board::from_dtb(b"/dts-v1/;\n/ { model = \"a board written as text, not compiled\"; };\n")
            .expect_err("text");
    assert!(e.to_string().contains("bad magic"), "{e}");
}
