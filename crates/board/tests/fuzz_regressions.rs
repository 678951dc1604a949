//! Inputs the fuzzer (crates/board/fuzz) once crashed on: each must now read without a
//! panic, and a tree that reads must survive the writer round trip.

use board::{guest_dtb, parse, ChosenPatch, Tree};

#[test]
fn fuzzer_findings_no_longer_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regression dir") {
        let data = std::fs::read(entry.expect("entry").path()).expect("read");
        if let Ok(tree) = Tree::from_dtb(&data) {
            let board = parse::board(&tree);
            if let Ok(out) = guest_dtb(&tree, &ChosenPatch::default()) {
                let again = Tree::from_dtb(&out).expect("writer output reads back");
                assert_eq!(again.nodes, tree.nodes);
                if let Ok(b) = board {
                    assert_eq!(parse::board(&again).expect("same board"), b);
                }
            }
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs found in {}", dir.display());
}
