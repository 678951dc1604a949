//! Any byte string as a board's DTB, past parsing: the board model, machine assembly
//! (guest RAM per bank, the GIC sized from the interrupts, every device model at its
//! `reg` and interrupt) and the guest DTB writer never panic. Start it from real DTBs
//! (crates/board/fuzz/seeds) so that mutations land in `interrupts`, `reg` and the cell
//! counts rather than in the header.
#![no_main]

use board::{guest_dtb, parse, ChosenPatch, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tree) = Tree::from_dtb(data) else {
        return;
    };
    let Ok(board) = parse::board(&tree) else {
        return;
    };
    if let Ok(machine) = vmm::machine::build(&board, Box::new(std::io::sink()), 62_500_000) {
        // A device-model window answers reads at its base without panicking.
        let mut bus = machine.bus;
        for d in board.devices.iter().filter(|d| d.status == board::Status::Okay) {
            if let Some(r) = d.reg.first() {
                let mut b = [0u8; 4];
                let _ = bus.read(r.base, &mut b);
            }
        }
    }
    let Ok(out) = guest_dtb(&tree, &ChosenPatch::default()) else {
        return;
    };
    let again = Tree::from_dtb(&out).expect("the writer's output reads back");
    assert_eq!(again.nodes, tree.nodes, "the writer changed the tree");
});
