//! Any byte string given as a DTB: reading it never panics, and a tree that reads
//! back is written out by the guest DTB writer and reads back to the same board.
#![no_main]

use board::{guest_dtb, parse, ChosenPatch, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Tree::from_dtb(data) else {
        return;
    };
    let board = parse::board(&tree);
    // The writer may refuse a tree it cannot encode; it must not panic.
    let Ok(out) = guest_dtb(&tree, &ChosenPatch::default()) else {
        return;
    };
    let again = Tree::from_dtb(&out).expect("the writer's output reads back");
    assert_eq!(again.nodes, tree.nodes, "the writer changed the tree");
    if let Ok(board) = board {
        assert_eq!(parse::board(&again).expect("same board"), board);
    }
});
