//! KVM as the CPU backend, on aarch64 Linux hosts with `/dev/kvm`.
//!
//! The machine is the same one the interpreter runs: RAM from the same vm-memory regions
//! (handed to KVM as memory slots), the same bus and device models, the same DMA ledger.
//! What changes is the CPU side: one KVM vCPU per DT CPU, each on its own host thread, the
//! in-kernel vGIC at the DT's addresses, the in-kernel architected timer, and PSCI/SMCCC
//! answered by KVM. A vCPU's exits come to the machine's thread as [`Exit`]s: MMIO to the
//! bus, system events to power-off or reset (see [`crate::vm`]).
//!
//! - [`plan`]: what KVM must be told, from the board alone (any host);
//! - [`uapi`]: the arm64 KVM constants and register ids (any host);
//! - `host`: the ioctls (aarch64 Linux only; elsewhere [`Host`] cannot be created).

pub mod plan;
pub mod uapi;

pub use plan::{plan, KvmPlan, Unhostable, VgicPlan};

/// Which CPU backend runs the guest (`--accel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accel {
    /// KVM where `/dev/kvm` can run an aarch64 guest, else the interpreter with its
    /// translator where the host has one.
    #[default]
    Auto,
    Kvm,
    /// The interpreter alone (the reference).
    Interp,
    /// The interpreter with its translator (x86-64 hosts): the same runs, faster.
    Translate,
}

impl std::str::FromStr for Accel {
    type Err = String;
    fn from_str(s: &str) -> Result<Accel, String> {
        match s {
            "auto" => Ok(Accel::Auto),
            "kvm" => Ok(Accel::Kvm),
            "interp" | "interpreter" => Ok(Accel::Interp),
            "translate" | "jit" => Ok(Accel::Translate),
            _ => Err(format!("{s:?}: expected auto, kvm, interp or translate")),
        }
    }
}

/// A vCPU's exit that the machine's thread must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// A load from a guest-physical address no memory slot covers: answer with
    /// [`Host::reply`] (`None`: nothing answers there, the access takes an external abort).
    MmioRead { vcpu: usize, addr: u64, len: usize },
    /// A store there; the vCPU waits for [`Host::reply`] before it goes on.
    MmioWrite {
        vcpu: usize,
        addr: u64,
        data: [u8; 8],
        len: usize,
    },
    /// PSCI SYSTEM_OFF / SYSTEM_RESET / a crash, as KVM reports it
    /// (`KVM_EXIT_SYSTEM_EVENT`); the vCPU's thread has ended.
    SystemEvent { vcpu: usize, kind: u32 },
    /// The vCPU stopped for something heapsoc cannot handle; its thread has ended.
    Failed { vcpu: usize, message: String },
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
mod host;
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
pub use host::{usable, Host};

/// Why KVM cannot run here (this host is not aarch64 Linux).
#[cfg(not(all(target_os = "linux", target_arch = "aarch64")))]
pub fn usable() -> Result<(), String> {
    Err(format!(
        "KVM runs an aarch64 guest only on an aarch64 Linux host; this host is {} {}",
        std::env::consts::ARCH,
        std::env::consts::OS
    ))
}

/// No KVM on this host: never created (see [`usable`]).
#[cfg(not(all(target_os = "linux", target_arch = "aarch64")))]
#[derive(Debug)]
pub enum Host {}

#[cfg(not(all(target_os = "linux", target_arch = "aarch64")))]
impl Host {
    pub fn create(
        _plan: &KvmPlan,
        _memory: &crate::GuestMemory,
        _entry: u64,
        _dtb: u64,
    ) -> Result<Host, String> {
        usable().map(|()| unreachable!("usable() is an error on this host"))
    }
    pub fn next_exit(&self, _timeout: std::time::Duration) -> Option<Exit> {
        match *self {}
    }
    pub fn reply(&self, _vcpu: usize, _data: Option<[u8; 8]>) {
        match *self {}
    }
    pub fn irq_sink(&self) -> Box<dyn Fn(u32, bool)> {
        match *self {}
    }
    pub fn irq_error(&self) -> Option<String> {
        match *self {}
    }
    pub fn running(&self) -> Vec<bool> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accel_names() {
        assert_eq!("auto".parse(), Ok(Accel::Auto));
        assert_eq!("kvm".parse(), Ok(Accel::Kvm));
        assert_eq!("interp".parse(), Ok(Accel::Interp));
        assert_eq!("translate".parse(), Ok(Accel::Translate));
        assert!("tcg"
            .parse::<Accel>()
            .unwrap_err()
            .contains("auto, kvm, interp or translate"));
    }

    #[cfg(not(all(target_os = "linux", target_arch = "aarch64")))]
    #[test]
    fn kvm_is_refused_with_the_reason_on_other_hosts() {
        let e = usable().unwrap_err();
        assert!(e.contains("aarch64 Linux host"), "{e}");
        assert!(e.contains(std::env::consts::ARCH), "{e}");
    }
}
