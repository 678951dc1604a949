//! What KVM must be told to host a board, decided from the board alone, on any host: the
//! vCPUs and their MPIDRs, the in-kernel vGIC's kind and addresses, the timer PPIs, and
//! the reasons a board cannot be hosted faithfully. The ioctls that carry it out are in
//! [`super::host`] (aarch64 Linux only); everything here is unit-tested anywhere.

use board::{Board, GicVersion, Range};

use super::uapi;

/// Why KVM cannot host a board as its DT describes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{node}: KVM cannot host this board: {why} (run it on the interpreter: --accel interp)")]
pub struct Unhostable {
    pub node: String,
    pub why: String,
}

fn unhostable(node: &str, why: impl Into<String>) -> Unhostable {
    Unhostable {
        node: node.to_string(),
        why: why.into(),
    }
}

/// The in-kernel interrupt controller KVM creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VgicPlan {
    /// vGICv3: distributor (64 KiB) and one redistributor region holding every vCPU's
    /// 128 KiB frame pair, in vCPU order.
    V3 { dist: u64, redist: u64 },
    /// vGICv2: distributor (4 KiB) and CPU interface (8 KiB).
    V2 { dist: u64, cpu: u64 },
}

impl VgicPlan {
    /// `KVM_CREATE_DEVICE` type.
    pub fn device_type(&self) -> u32 {
        match self {
            VgicPlan::V3 { .. } => uapi::KVM_DEV_TYPE_ARM_VGIC_V3,
            VgicPlan::V2 { .. } => uapi::KVM_DEV_TYPE_ARM_VGIC_V2,
        }
    }

    /// `KVM_DEV_ARM_VGIC_GRP_ADDR` attributes: (address type, guest-physical base).
    pub fn addresses(&self) -> [(u64, u64); 2] {
        match *self {
            VgicPlan::V3 { dist, redist } => [
                (uapi::KVM_VGIC_V3_ADDR_TYPE_DIST, dist),
                (uapi::KVM_VGIC_V3_ADDR_TYPE_REDIST, redist),
            ],
            VgicPlan::V2 { dist, cpu } => [
                (uapi::KVM_VGIC_V2_ADDR_TYPE_DIST, dist),
                (uapi::KVM_VGIC_V2_ADDR_TYPE_CPU, cpu),
            ],
        }
    }
}

/// One vCPU: its index (the KVM vCPU id, and the GIC's PE number) and its DT identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcpuPlan {
    pub index: usize,
    /// The CPU's DT node.
    pub node: String,
    /// The DT `reg` (affinity), set as MPIDR_EL1 where it differs from KVM's own.
    pub mpidr: u64,
}

/// Everything KVM needs to know about a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvmPlan {
    /// The vCPUs to create, the boot CPU first; the others start powered off, for PSCI
    /// CPU_ON (which KVM answers) to start.
    pub vcpus: Vec<VcpuPlan>,
    pub vgic: VgicPlan,
    /// Interrupt IDs the vGIC implements (`KVM_DEV_ARM_VGIC_GRP_NR_IRQS`): a multiple of
    /// 32, 64 to 1024.
    pub nr_irqs: u32,
    /// The DT's virtual and non-secure physical timer PPIs (INTIDs), where they differ
    /// from KVM's defaults (27 and 30).
    pub vtimer_intid: Option<u32>,
    pub ptimer_intid: Option<u32>,
    /// What the run's report should say about the board under KVM (the guest sees the
    /// host's counter frequency, ...).
    pub notes: Vec<String>,
}

/// KVM's own timer PPIs (arch/arm64/kvm/arch_timer.c default_ppi).
const KVM_DEFAULT_VTIMER: u32 = 27;
const KVM_DEFAULT_PTIMER: u32 = 30;

/// A vGICv3 redistributor: RD_base and SGI_base frames, 64 KiB each.
pub const GICR_FRAME_PAIR: u64 = 0x2_0000;

/// What KVM must be told to host `board` with the PEs the machine wires to the GIC
/// (`mpidrs`, GIC order), starting at most `smp` of them.
pub fn plan(board: &Board, mpidrs: &[u64], smp: Option<usize>) -> Result<KvmPlan, Unhostable> {
    let ic = board
        .interrupt_controller
        .as_ref()
        .ok_or_else(|| unhostable("/", "no interrupt controller"))?;
    let started = smp.unwrap_or(usize::MAX).max(1).min(mpidrs.len());
    if started == 0 {
        return Err(unhostable("/cpus", "no CPU to boot"));
    }
    let mut vcpus = Vec::with_capacity(started);
    for (index, &mpidr) in mpidrs.iter().take(started).enumerate() {
        let cpu = board
            .cpus
            .iter()
            .find(|c| c.mpidr == mpidr)
            .ok_or_else(|| unhostable("/cpus", format!("no CPU node with reg 0x{mpidr:x}")))?;
        // KVM starts secondaries with PSCI only: a spin-table CPU would wait for a release
        // write that no vCPU watches.
        if index > 0 && cpu.enable_method.as_deref() != Some("psci") {
            return Err(unhostable(
                &cpu.node,
                format!(
                    "enable-method {:?}: KVM starts secondary CPUs through PSCI only (or boot one CPU: --smp 1)",
                    cpu.enable_method.as_deref().unwrap_or("(none)")
                ),
            ));
        }
        if mpidr & !0xff_00ff_ffff != 0 {
            return Err(unhostable(
                &cpu.node,
                format!("reg 0x{mpidr:x} is not an MPIDR affinity"),
            ));
        }
        vcpus.push(VcpuPlan {
            index,
            node: cpu.node.clone(),
            mpidr,
        });
    }
    if started > 1 && board.psci.is_none() {
        return Err(unhostable(
            "/psci",
            "more than one CPU and no PSCI node: KVM starts secondary CPUs through PSCI only (or boot one CPU: --smp 1)",
        ));
    }
    let (Some(r0), Some(r1)) = (ic.reg.first(), ic.reg.get(1)) else {
        return Err(unhostable(
            &ic.node,
            "reg: a GIC needs two entries (GICv3: GICD, GICR; GICv2: GICD, GICC)",
        ));
    };
    let aligned = |r: &Range, align: u64, what: &str| {
        if r.base % align == 0 {
            Ok(())
        } else {
            Err(unhostable(
                &ic.node,
                format!(
                    "the {what} at 0x{:x} is not {} KiB aligned, as KVM's vGIC requires",
                    r.base,
                    align / 1024
                ),
            ))
        }
    };
    let vgic = match ic.version {
        GicVersion::V3 => {
            aligned(r0, 0x1_0000, "distributor")?;
            aligned(r1, 0x1_0000, "redistributor region")?;
            let need = GICR_FRAME_PAIR * vcpus.len() as u64;
            if r1.size < need {
                return Err(unhostable(
                    &ic.node,
                    format!(
                        "the redistributor region {} holds {} of the {} redistributors KVM places there contiguously (128 KiB each)",
                        r1,
                        r1.size / GICR_FRAME_PAIR,
                        vcpus.len()
                    ),
                ));
            }
            VgicPlan::V3 {
                dist: r0.base,
                redist: r1.base,
            }
        }
        GicVersion::V2 => {
            aligned(r0, 0x1000, "distributor")?;
            aligned(r1, 0x1000, "CPU interface")?;
            if vcpus.len() > 8 {
                return Err(unhostable(&ic.node, "a GICv2 serves at most 8 CPUs"));
            }
            VgicPlan::V2 {
                dist: r0.base,
                cpu: r1.base,
            }
        }
        GicVersion::Other => {
            return Err(unhostable(
                &ic.node,
                format!(
                "the root interrupt controller {} is not a GIC KVM emulates (arm,gic-v3, GICv2)",
                ic.compatible
                    .first()
                    .map(String::as_str)
                    .unwrap_or("(no compatible)")
            ),
            ))
        }
    };
    // Every INTID a device names, rounded up to whole groups of 32.
    let nr_irqs = (board.max_device_intid() + 1).div_ceil(32).clamp(2, 32) * 32;
    let (ptimer, vtimer) = (
        board.timer_intid(board::TIMER_PHYS),
        board.timer_intid(board::TIMER_VIRT),
    );
    let mut notes = Vec::new();
    if let Some(f) = board.timer.as_ref().and_then(|t| t.frequency) {
        notes.push(format!(
            "{}: clock-frequency {f} Hz: under KVM the guest's counter runs at the host's frequency, and Linux trusts the DT's value over CNTFRQ_EL0, so guest time runs at the wrong rate unless the two agree",
            board.timer.as_ref().map(|t| t.node.as_str()).unwrap_or("timer")
        ));
    }
    for (what, intid) in [("virtual", vtimer), ("physical", ptimer)] {
        if let Some(i) = intid {
            if !(16..32).contains(&i) {
                return Err(unhostable(
                    board
                        .timer
                        .as_ref()
                        .map(|t| t.node.as_str())
                        .unwrap_or("timer"),
                    format!("the {what} timer interrupt (INTID {i}) is not a PPI"),
                ));
            }
        }
    }
    Ok(KvmPlan {
        vcpus,
        vgic,
        nr_irqs,
        vtimer_intid: vtimer.filter(|&i| i != KVM_DEFAULT_VTIMER),
        ptimer_intid: ptimer.filter(|&i| i != KVM_DEFAULT_PTIMER),
        notes,
    })
}

/// `KVM_IRQ_LINE`'s `irq` field for a shared peripheral interrupt (its GIC INTID), as
/// Documentation/virt/kvm/api.rst lays it out for arm64: type in bits 24-27, INTID in
/// bits 0-15.
pub fn spi_line(intid: u32) -> Option<u32> {
    (32..1020)
        .contains(&intid)
        .then_some((uapi::KVM_ARM_IRQ_TYPE_SPI << 24) | intid)
}

/// KVM's MPIDR_EL1 for vCPU `index` (arch/arm64/kvm/sys_regs.c reset_mpidr): Aff0 the
/// low 4 bits, Aff1 the next 8, Aff2 the next 8; bit 31 RES1.
pub fn kvm_default_mpidr(index: usize) -> u64 {
    let i = index as u64;
    (1 << 31) | (i & 0xf) | (((i >> 4) & 0xff) << 8) | (((i >> 12) & 0xff) << 16)
}

/// MPIDR_EL1 for a DT CPU `reg`: its affinity fields, bit 31 RES1.
pub fn mpidr_of(reg: u64) -> u64 {
    (1 << 31) | (reg & 0xff_00ff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(dts_body: &str) -> Board {
        let src = format!("/dts-v1/;\n/ {{\n#address-cells = <2>; #size-cells = <2>; interrupt-parent = <&gic>;\n{dts_body}\n}};\n");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("board.dts");
        std::fs::write(&path, src).expect("write the test DTS");
        board::load(&path, &board::SourceOptions::default())
            .expect("test board loads")
            .board
    }

    const CPUS2: &str = r#"
        cpus { #address-cells = <1>; #size-cells = <0>;
            cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <0>; enable-method = "psci"; };
            cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <1>; enable-method = "psci"; };
        };
        psci { compatible = "arm,psci-0.2"; method = "hvc"; };
        memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x10000000>; };
        timer { compatible = "arm,armv8-timer";
            interrupts = <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>; };
        serial@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0 0x9000000 0 0x1000>;
            interrupts = <0 1 4>; };
    "#;

    fn gic3(redist_size: u64) -> String {
        format!(
            r#"gic: intc@8000000 {{ compatible = "arm,gic-v3"; #interrupt-cells = <3>; interrupt-controller;
                reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0x{redist_size:x}>; }};"#
        )
    }

    #[test]
    fn gicv3_board_gives_vcpus_vgic_and_irqs() {
        let b = board(&format!("{CPUS2}{}", gic3(0x40000)));
        let p = plan(&b, &[0, 1], None).unwrap();
        assert_eq!(p.vcpus.len(), 2);
        assert_eq!(p.vcpus[1].mpidr, 1);
        assert_eq!(
            p.vgic,
            VgicPlan::V3 {
                dist: 0x800_0000,
                redist: 0x80a_0000
            }
        );
        assert_eq!(p.vgic.device_type(), uapi::KVM_DEV_TYPE_ARM_VGIC_V3);
        // SPI 1 is INTID 33: two groups of 32 (the minimum KVM takes).
        assert_eq!(p.nr_irqs, 64);
        // PPIs 11 and 14 are INTIDs 27 and 30: KVM's own, nothing to set.
        assert_eq!((p.vtimer_intid, p.ptimer_intid), (None, None));
        assert!(p.notes.is_empty());
    }

    #[test]
    fn smp_limits_the_vcpus() {
        let b = board(&format!("{CPUS2}{}", gic3(0x40000)));
        assert_eq!(plan(&b, &[0, 1], Some(1)).unwrap().vcpus.len(), 1);
    }

    #[test]
    fn a_redistributor_region_too_small_for_every_vcpu_is_refused() {
        let b = board(&format!("{CPUS2}{}", gic3(0x20000)));
        let e = plan(&b, &[0, 1], None).unwrap_err();
        assert_eq!(e.node, "/intc@8000000");
        assert!(e.why.contains("holds 1 of the 2 redistributors"), "{e}");
        assert!(e.to_string().contains("--accel interp"), "{e}");
        // One vCPU fits.
        assert!(plan(&b, &[0, 1], Some(1)).is_ok());
    }

    #[test]
    fn spin_table_secondaries_are_refused_but_one_cpu_boots() {
        let cpus = CPUS2.replace(
            r#"reg = <1>; enable-method = "psci";"#,
            r#"reg = <1>; enable-method = "spin-table"; cpu-release-addr = <0 0x40000ff8>;"#,
        );
        let b = board(&format!("{cpus}{}", gic3(0x40000)));
        let e = plan(&b, &[0, 1], None).unwrap_err();
        assert_eq!(e.node, "/cpus/cpu@1");
        assert!(e.why.contains("spin-table"), "{e}");
        assert!(plan(&b, &[0, 1], Some(1)).is_ok());
    }

    #[test]
    fn gicv2_addresses_and_unaligned_distributor() {
        let v2 = r#"gic: intc@8000000 { compatible = "arm,gic-400"; #interrupt-cells = <3>; interrupt-controller;
                reg = <0 0x8000000 0 0x1000>, <0 0x8010000 0 0x2000>; };"#;
        let b = board(&format!("{CPUS2}{v2}"));
        let p = plan(&b, &[0, 1], None).unwrap();
        assert_eq!(
            p.vgic.addresses(),
            [
                (uapi::KVM_VGIC_V2_ADDR_TYPE_DIST, 0x800_0000),
                (uapi::KVM_VGIC_V2_ADDR_TYPE_CPU, 0x801_0000)
            ]
        );
        let bad = v2.replace("<0 0x8000000 0 0x1000>", "<0 0x8000800 0 0x800>");
        let e = plan(&board(&format!("{CPUS2}{bad}")), &[0, 1], None).unwrap_err();
        assert!(e.why.contains("0x8000800 is not 4 KiB aligned"), "{e}");
    }

    #[test]
    fn timer_ppis_other_than_kvms_and_a_fixed_frequency() {
        let cpus = CPUS2
            .replace(
                "<1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>",
                "<1 13 4>, <1 12 4>, <1 9 4>, <1 10 4>",
            )
            .replace(
                "arm,armv8-timer\";",
                "arm,armv8-timer\"; clock-frequency = <19200000>;",
            );
        let b = board(&format!("{cpus}{}", gic3(0x40000)));
        let p = plan(&b, &[0, 1], None).unwrap();
        assert_eq!((p.vtimer_intid, p.ptimer_intid), (Some(25), Some(28)));
        assert_eq!(p.notes.len(), 1);
        assert!(p.notes[0].contains("19200000"), "{:?}", p.notes);
    }

    #[test]
    fn irq_line_and_mpidr_encodings() {
        assert_eq!(spi_line(33), Some(0x0100_0021));
        assert_eq!(spi_line(27), None, "a PPI is not a KVM_IRQ_LINE SPI");
        assert_eq!(spi_line(1020), None);
        assert_eq!(kvm_default_mpidr(0), 0x8000_0000);
        assert_eq!(kvm_default_mpidr(17), 0x8000_0101);
        assert_eq!(mpidr_of(0x100), 0x8000_0100);
        assert_eq!(mpidr_of(0x1_0000_0003), 0x8000_0003 | (1 << 32));
    }
}
