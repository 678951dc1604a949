//! The arm64 KVM interface values heapsoc uses, from Linux's
//! include/uapi/linux/kvm.h and arch/arm64/include/uapi/asm/kvm.h. Written out here rather
//! than taken from kvm-bindings, whose arm64 module exists only when building for arm64, so
//! that the plan and its tests build and run on any host.

/// `KVM_CREATE_DEVICE` types.
pub const KVM_DEV_TYPE_ARM_VGIC_V2: u32 = 5;
pub const KVM_DEV_TYPE_ARM_VGIC_V3: u32 = 7;

/// vGIC device attribute groups.
pub const KVM_DEV_ARM_VGIC_GRP_ADDR: u32 = 0;
pub const KVM_DEV_ARM_VGIC_GRP_NR_IRQS: u32 = 3;
pub const KVM_DEV_ARM_VGIC_GRP_CTRL: u32 = 4;
pub const KVM_DEV_ARM_VGIC_CTRL_INIT: u64 = 0;

/// `KVM_DEV_ARM_VGIC_GRP_ADDR` address types.
pub const KVM_VGIC_V2_ADDR_TYPE_DIST: u64 = 0;
pub const KVM_VGIC_V2_ADDR_TYPE_CPU: u64 = 1;
pub const KVM_VGIC_V3_ADDR_TYPE_DIST: u64 = 2;
pub const KVM_VGIC_V3_ADDR_TYPE_REDIST: u64 = 3;

/// `KVM_IRQ_LINE` interrupt types (bits 24-27 of `irq`).
pub const KVM_ARM_IRQ_TYPE_SPI: u32 = 1;

/// `KVM_ARM_VCPU_INIT` feature bits.
pub const KVM_ARM_VCPU_POWER_OFF: u32 = 0;
pub const KVM_ARM_VCPU_PSCI_0_2: u32 = 2;

/// vCPU timer attributes: the PPIs of the virtual and physical timers.
pub const KVM_ARM_VCPU_TIMER_CTRL: u32 = 1;
pub const KVM_ARM_VCPU_TIMER_IRQ_VTIMER: u64 = 0;
pub const KVM_ARM_VCPU_TIMER_IRQ_PTIMER: u64 = 1;

/// `KVM_EXIT_SYSTEM_EVENT` types.
pub const KVM_SYSTEM_EVENT_SHUTDOWN: u32 = 1;
pub const KVM_SYSTEM_EVENT_RESET: u32 = 2;
pub const KVM_SYSTEM_EVENT_CRASH: u32 = 3;

/// `KVM_CAP_ARM_PSCI_0_2`.
pub const KVM_CAP_ARM_PSCI_0_2: u32 = 102;
/// `KVM_CAP_ARM_INJECT_EXT_DABT`: `KVM_SET_VCPU_EVENTS` can make an MMIO access take a
/// synchronous external abort.
pub const KVM_CAP_ARM_INJECT_EXT_DABT: u32 = 178;

const KVM_REG_ARM64: u64 = 0x6000_0000_0000_0000;
const KVM_REG_SIZE_U64: u64 = 0x0030_0000_0000_0000;
const KVM_REG_ARM_CORE: u64 = 0x0010 << 16;
const KVM_REG_ARM64_SYSREG: u64 = 0x0013 << 16;

/// `KVM_{GET,SET}_ONE_REG` id of a 64-bit core register at byte `offset` in
/// `struct kvm_regs` (ids count 32-bit words).
const fn core_reg(offset: u64) -> u64 {
    KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / 4)
}

/// General-purpose register `n` (`regs.regs[n]`, the first field of `struct kvm_regs`).
pub const fn reg_x(n: u64) -> u64 {
    core_reg(n * 8)
}

/// `regs.pc`: after 31 registers and `sp`.
pub const REG_PC: u64 = core_reg(32 * 8);

/// A system register by its encoding.
const fn sysreg(op0: u64, op1: u64, crn: u64, crm: u64, op2: u64) -> u64 {
    KVM_REG_ARM64
        | KVM_REG_SIZE_U64
        | KVM_REG_ARM64_SYSREG
        | (op0 << 14)
        | (op1 << 11)
        | (crn << 7)
        | (crm << 3)
        | op2
}

/// MPIDR_EL1 (op0 3, op1 0, CRn 0, CRm 0, op2 5).
pub const REG_MPIDR_EL1: u64 = sysreg(3, 0, 0, 0, 5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_ids_match_the_kernel_layout() {
        // The values QEMU and the kernel's selftests use for these registers.
        assert_eq!(reg_x(0), 0x6030_0000_0010_0000);
        assert_eq!(reg_x(1), 0x6030_0000_0010_0002);
        assert_eq!(REG_PC, 0x6030_0000_0010_0040);
        assert_eq!(REG_MPIDR_EL1, 0x6030_0000_0013_c005);
    }
}
