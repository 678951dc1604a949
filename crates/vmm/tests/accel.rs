//! `--accel`: which CPU backend runs the guest. On this host (any host), through `Vm::boot`
//! and `Vm::run`: `auto` runs the interpreter where KVM cannot run, `kvm` is an error that
//! says why (or, on an aarch64 host with /dev/kvm, runs the hand-written Image to power-off
//! on KVM); and what KVM would be told about each reference board.

mod common;
use common::image;

use vmm::kvm::{self, Accel, VgicPlan};
use vmm::vm::{Backend, Stop, Vm, VmConfig, VmError};

fn boot(accel: Accel) -> (Result<Vm, VmError>, devices::console::Capture) {
    boot_image(accel, "runloop")
}

fn boot_image(accel: Accel, name: &str) -> (Result<Vm, VmError>, devices::console::Capture) {
    let b = common::board("heap-soc.dts");
    let console = devices::console::Capture::new(false);
    let vm = Vm::boot(
        &b.board,
        &b.tree,
        (name, &image(name)),
        None,
        Box::new(console.clone()),
        VmConfig {
            accel,
            ..VmConfig::default()
        },
    );
    (vm, console)
}

#[test]
fn kvm_runs_the_guest_where_it_can_and_is_a_clear_error_elsewhere() {
    let (vm, console) = boot(Accel::Kvm);
    match kvm::usable() {
        Err(why) => {
            let e = vm
                .expect_err("--accel kvm on a host without KVM")
                .to_string();
            assert!(e.starts_with("--accel kvm: "), "{e}");
            assert!(e.contains(&why), "{e}");
            assert!(e.contains("--accel interp"), "{e}");
        }
        Ok(()) => {
            let mut vm = vm.expect("boot on KVM");
            assert_eq!(vm.backend(), Backend::Kvm { vcpus: 1 });
            let s = vm.run_watched(u64::MAX, 1, |_| None);
            assert_eq!(s.stop, Stop::PowerOff, "console: {:?}", console.text());
            assert!(console.text().starts_with('A'), "{:?}", console.text());
        }
    }
}

#[test]
fn auto_runs_the_interpreter_where_kvm_cannot() {
    if kvm::usable().is_ok() {
        eprintln!("skipped: this host runs KVM, so auto does not fall back here");
        return;
    }
    let (vm, console) = boot(Accel::Auto);
    let mut vm = vm.expect("boot");
    // The translator where this host has one: auto's choice after KVM.
    assert_eq!(
        vm.backend(),
        Backend::Interpreter {
            translated: a64::jit::supported()
        }
    );
    assert!(vm.accel_notes().is_empty(), "{:?}", vm.accel_notes());
    let s = vm.run(10_000_000);
    assert_eq!(s.stop, Stop::PowerOff);
    assert_eq!(console.text(), "AST\n");
}

#[test]
fn a_load_from_where_nothing_is_mapped_is_a_synchronous_external_abort_on_every_backend() {
    // The interpreter always; KVM too where this host runs it (tests/kvm-nested.sh boots the
    // same Image under KVM).
    let mut backends = vec![Accel::Interp];
    if a64::jit::supported() {
        backends.push(Accel::Translate);
    }
    if kvm::usable().is_ok() {
        backends.push(Accel::Kvm);
    }
    for accel in backends {
        let (vm, console) = boot_image(accel, "unmapped");
        let mut vm = vm.expect("boot");
        let s = vm.run_watched(100_000_000, 1_000_000, |_| None);
        assert_eq!(
            s.stop,
            Stop::PowerOff,
            "{accel:?}: console {:?}",
            console.text()
        );
        // "D": the guest saw EC 0x25, DFSC 0x10 and FAR = the address.
        assert_eq!(console.text(), "AD\n", "{accel:?}");
        assert_eq!(
            s.unmapped,
            vec![vmm::vm::UnmappedAccess {
                addr: 0x0c00_0000,
                size: 4,
                write: false
            }],
            "{accel:?}"
        );
    }
}

#[test]
fn the_reference_boards_are_hostable_as_the_dt_says() {
    for (name, cpus) in [
        ("heap-soc.dts", 1),
        ("heap-soc-smp4.dts", 4),
        ("heap-soc-display-in-ecc.dts", 1),
    ] {
        let b = common::board(name);
        let m = vmm::machine::build(&b.board, Box::new(std::io::sink()), 62_500_000)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let p = kvm::plan(&b.board, &m.mpidrs, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.vcpus.len(), cpus, "{name}");
        let ic = b.board.interrupt_controller.as_ref().expect("a GIC");
        assert_eq!(
            p.vgic,
            VgicPlan::V3 {
                dist: ic.reg[0].base,
                redist: ic.reg[1].base
            },
            "{name}: the vGIC sits where the DT puts the GIC"
        );
        for (i, v) in p.vcpus.iter().enumerate() {
            assert_eq!(v.index, i);
            assert_eq!(v.mpidr, m.mpidrs[i], "{name}: MPIDRs in the GIC's order");
        }
        // Every device interrupt fits the vGIC.
        let max = b.board.max_device_intid();
        assert!(
            max < p.nr_irqs && p.nr_irqs % 32 == 0,
            "{name}: {}",
            p.nr_irqs
        );
    }
}
