//! The virtio-mmio register map and virtio ring constants, as Linux's headers name them
//! (include/uapi/linux/virtio_mmio.h, virtio_config.h, virtio_ring.h), for the replays.
#![allow(dead_code)]

pub const MAGIC_VALUE: u64 = 0x000;
pub const VERSION: u64 = 0x004;
pub const DEVICE_ID: u64 = 0x008;
pub const VENDOR_ID: u64 = 0x00c;
pub const DEVICE_FEATURES: u64 = 0x010;
pub const DEVICE_FEATURES_SEL: u64 = 0x014;
pub const DRIVER_FEATURES: u64 = 0x020;
pub const DRIVER_FEATURES_SEL: u64 = 0x024;
pub const QUEUE_SEL: u64 = 0x030;
pub const QUEUE_NUM_MAX: u64 = 0x034;
pub const QUEUE_NUM: u64 = 0x038;
pub const QUEUE_READY: u64 = 0x044;
pub const QUEUE_NOTIFY: u64 = 0x050;
pub const INTERRUPT_STATUS: u64 = 0x060;
pub const INTERRUPT_ACK: u64 = 0x064;
pub const STATUS: u64 = 0x070;
pub const QUEUE_DESC_LOW: u64 = 0x080;
pub const QUEUE_DESC_HIGH: u64 = 0x084;
pub const QUEUE_AVAIL_LOW: u64 = 0x090;
pub const QUEUE_AVAIL_HIGH: u64 = 0x094;
pub const QUEUE_USED_LOW: u64 = 0x0a0;
pub const QUEUE_USED_HIGH: u64 = 0x0a4;
pub const SHM_SEL: u64 = 0x0ac;
pub const SHM_LEN_LOW: u64 = 0x0b0;
pub const SHM_LEN_HIGH: u64 = 0x0b4;
pub const CONFIG_GENERATION: u64 = 0x0fc;
pub const CONFIG: u64 = 0x100;
pub const INT_VRING: u32 = 1;
pub const INT_CONFIG: u32 = 2;
pub const ACKNOWLEDGE: u32 = 1;
pub const DRIVER: u32 = 2;
pub const DRIVER_OK: u32 = 4;
pub const FEATURES_OK: u32 = 8;
pub const F_VERSION_1: u32 = 32;
pub const F_ACCESS_PLATFORM: u32 = 33;
pub const F_RING_PACKED: u32 = 34;
pub const F_NOTIFICATION_DATA: u32 = 38;
pub const RING_F_INDIRECT_DESC: u32 = 28;
pub const RING_F_EVENT_IDX: u32 = 29;
pub const VRING_DESC_F_NEXT: u16 = 1;
pub const VRING_DESC_F_WRITE: u16 = 2;
pub const VRING_USED_F_NO_NOTIFY: u16 = 1;
pub const PAGE_SIZE: u64 = 4096;

use devices::MmioDevice;

use super::{poll, readl, writel};

/// Sets status bits on top of what STATUS reads.
pub fn add_status(d: &mut dyn MmioDevice, s: u32) {
    let old = readl(d, STATUS);
    writel(d, old | s, STATUS);
}

/// vm_probe + virtio_dev_probe up to virtio_features_ok for a device of `device_id`, whose
/// driver's feature table holds `driver_bits`; returns the negotiated features.
pub fn probe(d: &mut dyn MmioDevice, device_id: u32, driver_bits: &[u32]) -> u64 {
    assert_eq!(readl(d, MAGIC_VALUE), 0x7472_6976, "wrong magic value");
    assert_eq!(
        readl(d, VERSION),
        2,
        "a modern device: no legacy QUEUE_PFN path"
    );
    assert_eq!(readl(d, DEVICE_ID), device_id, "device ID");
    let _vendor = readl(d, VENDOR_ID);
    // register_virtio_device -> virtio_reset_device -> vm_reset: 0, then poll.
    writel(d, 0, STATUS);
    poll(d, STATUS, |v| v == 0);
    add_status(d, ACKNOWLEDGE);
    add_status(d, DRIVER);
    // vm_get_features
    writel(d, 1, DEVICE_FEATURES_SEL);
    let mut device = u64::from(readl(d, DEVICE_FEATURES)) << 32;
    writel(d, 0, DEVICE_FEATURES_SEL);
    device |= u64::from(readl(d, DEVICE_FEATURES));
    // The driver's feature table, and the transport bits virtio_dev_probe keeps, minus
    // what vring_transport_features clears.
    let mut driver = driver_bits.iter().fold(0u64, |acc, &b| acc | (1 << b));
    for b in [
        RING_F_INDIRECT_DESC,
        RING_F_EVENT_IDX,
        F_VERSION_1,
        F_ACCESS_PLATFORM,
        F_RING_PACKED,
        F_NOTIFICATION_DATA,
    ] {
        driver |= 1 << b;
    }
    let features = device & driver;
    // vm_finalize_features: a version 2 device must offer VERSION_1.
    assert!(
        features & (1 << F_VERSION_1) != 0,
        "virtio-mmio v2 without VIRTIO_F_VERSION_1"
    );
    writel(d, 1, DRIVER_FEATURES_SEL);
    writel(d, (features >> 32) as u32, DRIVER_FEATURES);
    writel(d, 0, DRIVER_FEATURES_SEL);
    writel(d, features as u32, DRIVER_FEATURES);
    add_status(d, FEATURES_OK);
    assert_ne!(
        readl(d, STATUS) & FEATURES_OK,
        0,
        "device did not accept our features"
    );
    features
}
