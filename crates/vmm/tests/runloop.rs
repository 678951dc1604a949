//! The run loop in seconds: a hand-written Image (tests/guest/runloop.S) on the reference
//! board, through `Vm::boot` and `Vm::run` as heapsoc runs the real kernel: console output,
//! an interrupt taken as soon as it is pending, a timer interrupt reached by skipping idle
//! time, no spurious acknowledge, PSCI SYSTEM_OFF. Also: a kernel whose vectors fault stops
//! as an exception loop, not after its instruction budget.

mod common;
use common::image;

use vmm::vm::{Stop, Vm, VmConfig};

fn heap_soc() -> board::Loaded {
    common::board("heap-soc.dts")
}

fn boot(kernel: &[u8]) -> (Vm, devices::console::Capture) {
    let b = heap_soc();
    let console = devices::console::Capture::new(false);
    let vm = Vm::boot(
        &b.board,
        &b.tree,
        ("runloop Image", kernel),
        None,
        Box::new(console.clone()),
        VmConfig::default(),
    )
    .expect("boot");
    (vm, console)
}

#[test]
fn interrupts_arrive_at_once_idle_is_skipped_and_the_guest_powers_off() {
    let (mut vm, console) = boot(&image("runloop"));
    let s = vm.run(10_000_000);
    assert_eq!(s.stop, Stop::PowerOff, "console: {:?}", console.text());
    // "S", not "L": the pended SPI was taken within a few instructions of the GICD write,
    // not at the end of a run-loop slice.
    assert_eq!(console.text(), "AST\n");
    assert!(s.insns < 1_000, "{} instructions", s.insns);
    assert!(
        s.counter >= s.insns + 900,
        "the WFI skipped ahead to the timer: counter {} after {} instructions",
        s.counter,
        s.insns
    );
    assert_eq!(s.spurious_acks, 0);
}

#[test]
fn on_the_host_clock_an_idle_guest_with_a_timer_armed_hands_control_back() {
    // `heapsoc run`: the guest waits at a prompt with a timer armed far ahead (or near); the
    // runner must get control back while it waits, to deliver console input and flush
    // output, instead of the run sleeping until the timer fires.
    let (mut vm, console) = boot(&image("runloop"));
    vm.set_realtime(true);
    let first = vm.run(10_000_000);
    assert_eq!(first.stop, Stop::Yield, "console: {:?}", console.text());
    assert_eq!(
        console.text(),
        "AS",
        "it yielded in the WFI waiting for the timer"
    );
    let mut turns = 1;
    let last = loop {
        let s = vm.run(10_000_000);
        if s.stop != Stop::Yield || turns > 100_000 {
            break s;
        }
        turns += 1;
    };
    assert_eq!(last.stop, Stop::PowerOff, "console: {:?}", console.text());
    assert_eq!(console.text(), "AST\n");
    assert!(
        last.counter >= last.insns + 900,
        "the guest's clock moved by the 1000 ticks it waited on the host clock: counter {} after {} instructions",
        last.counter,
        last.insns
    );
}

#[test]
fn a_kernel_whose_vectors_fault_stops_as_an_exception_loop() {
    // The Image's first instruction branches into its own zero-filled tail: UDF, and
    // VBAR_EL1 is 0 at reset, which is not RAM on this board.
    let kernel = header_image(0x1_0000, 0x1400_2000 /* b .+0x8000 */, 0x2_0000);
    let (mut vm, _) = boot(&kernel);
    let s = vm.run(20_000_000_000);
    let Stop::ExceptionLoop(why) = s.stop else {
        panic!("stopped with {:?}", s.stop)
    };
    assert!(s.insns < 10, "{} instructions", s.insns);
    assert!(why.contains("instruction abort"), "{why}");
    assert!(why.contains("to vector 0x200"), "{why}");
    assert!(why.contains("VBAR_EL1 0x0 is not RAM"), "{why}");
    assert!(why.contains("UNDEFINED instruction at pc"), "{why}");
}

/// `len` zero bytes with an arm64 Image header (Documentation/arch/arm64/booting.rst):
/// `code0` as the first instruction, `image_size`, flags little-endian / 4 KiB pages /
/// anywhere in RAM, the magic.
fn header_image(len: usize, code0: u32, image_size: u64) -> Vec<u8> {
    let mut kernel = vec![0u8; len];
    kernel[..4].copy_from_slice(&code0.to_le_bytes());
    kernel[16..24].copy_from_slice(&image_size.to_le_bytes());
    kernel[24..32].copy_from_slice(&0xau64.to_le_bytes()); // flags
    kernel[56..60].copy_from_slice(&0x644d_5241u32.to_le_bytes()); // "ARM\x64"
    kernel
}

/// A raw Image whose words from offset 64 are `code` (the header's first word branches
/// there).
fn raw_image(code: &[u32]) -> Vec<u8> {
    let mut kernel = header_image(0x1000, 0x1400_0010 /* b .+64 */, 0x1_0000);
    for (i, w) in code.iter().enumerate() {
        kernel[64 + 4 * i..68 + 4 * i].copy_from_slice(&w.to_le_bytes());
    }
    kernel
}

const WFI: u32 = 0xd503_207f;
const B_BACK: u32 = 0x17ff_ffff; // b .-4
const IRQS_ON: u32 = 0xd503_42ff; // msr daifclr, #2

#[test]
fn waiting_with_interrupts_masked_and_nothing_to_wake_is_a_halt() {
    // What machine_halt and cpu_park_loop do on a board without PSCI.
    let (mut vm, _) = boot(&raw_image(&[WFI, B_BACK]));
    let s = vm.run(1_000_000);
    let Stop::Halted { pc } = s.stop else {
        panic!("stopped with {:?}", s.stop)
    };
    assert_eq!(pc & 0xfff, 68, "past the WFI at 64");
    assert!(s.insns < 10, "{} instructions", s.insns);
}

#[test]
fn waiting_for_an_interrupt_that_cannot_come_is_a_hang() {
    let (mut vm, _) = boot(&raw_image(&[IRQS_ON, WFI, B_BACK]));
    let s = vm.run(1_000_000);
    let Stop::Hung { pc } = s.stop else {
        panic!("stopped with {:?}", s.stop)
    };
    assert_eq!(pc & 0xfff, 72, "past the WFI at 68");
    assert!(s.insns < 10, "{} instructions", s.insns);
}
