//! Tests of the loader against real boards.

use board::{Board, Range};

use super::loader::*;

fn image(text_offset: u64, image_size: u64, flags: u64) -> Vec<u8> {
    let mut h = vec![0u8; 4096];
    h[8..16].copy_from_slice(&text_offset.to_le_bytes());
    h[16..24].copy_from_slice(&image_size.to_le_bytes());
    h[24..32].copy_from_slice(&flags.to_le_bytes());
    h[56..60].copy_from_slice(b"ARM\x64");
    h
}

fn heap_soc() -> Board {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../device-trees/heap-soc.dts");
    board::load(&path, &board::SourceOptions::default())
        .expect("heap-soc")
        .board
}

#[test]
fn image_header_fields_are_read() {
    let h = ImageHeader::parse("Image", &image(0, 0x200_0000, 0b1010)).expect("valid");
    assert_eq!(
        h,
        ImageHeader {
            text_offset: 0,
            image_size: 0x200_0000,
            flags: 0b1010
        }
    );
}

#[test]
fn files_that_are_not_arm64_images_are_refused_with_the_reason() {
    let elf = b"\x7fELF\x02\x01\x01\0".repeat(16);
    let e = ImageHeader::parse("vmlinux", &elf).expect_err("ELF");
    assert!(
        e.to_string()
            .starts_with("vmlinux: not an arm64 Image: magic at offset 56"),
        "{e}"
    );
    assert!(ImageHeader::parse("short", b"MZ").is_err());
    let be = ImageHeader::parse("Image", &image(0, 0x100_0000, 1)).expect_err("big-endian");
    assert!(be.to_string().contains("big-endian"));
    let k16 = ImageHeader::parse("Image", &image(0, 0x100_0000, 0b100)).expect_err("16K");
    assert!(k16.to_string().contains("16 KiB pages"));
    let small = ImageHeader::parse("Image", &image(0, 0x100, 0)).expect_err("image_size");
    assert!(small.to_string().contains("larger than its image_size"));
}

#[test]
fn layout_on_heap_soc_is_inside_ram_and_clear_of_reserved_regions() {
    let b = heap_soc();
    let h = ImageHeader::parse("Image", &image(0, 0x180_0000, 0b1010)).expect("valid");
    let l = plan(&b, &h, 0x4000, Some(0x30_0000)).expect("fits");
    assert_eq!(
        l.kernel,
        Range {
            base: 0x4000_0000,
            size: 0x180_0000
        }
    );
    assert_eq!(l.dtb.base % (2 << 20), 0);
    assert!(l.dtb.base >= l.kernel.end());
    let initrd = l.initrd.expect("initrd");
    for r in [l.kernel, l.dtb, initrd] {
        assert!(b.bank_containing(&r).is_some(), "{r} outside RAM");
        for res in b.reserved.iter().filter_map(|x| x.fixed_range()) {
            assert!(!r.overlaps(&res), "{r} overlaps {res}");
        }
    }
}

#[test]
fn layout_steps_over_a_reserved_region_at_the_start_of_ram() {
    let mut b = heap_soc();
    // Make the carveout sit at the very start of the first bank.
    let carve = b
        .reserved
        .iter_mut()
        .find(|r| r.name.starts_with("carveout"))
        .expect("carveout");
    carve.placement = board::Placement::Fixed {
        range: Range {
            base: 0x4000_0000,
            size: 0x30_0000,
        },
    };
    let h = ImageHeader::parse("Image", &image(0x8_0000, 0x100_0000, 0)).expect("valid");
    let l = plan(&b, &h, 0x1000, None).expect("fits");
    assert_eq!(l.kernel.base, 0x4040_0000 + 0x8_0000);
}

#[test]
fn a_kernel_larger_than_every_bank_does_not_fit() {
    let b = heap_soc();
    let h = ImageHeader::parse("Image", &image(0, 0x2000_0000, 0)).expect("valid");
    assert!(matches!(
        plan(&b, &h, 0x1000, None),
        Err(LoadError::NoRoom { what: "kernel", .. })
    ));
    assert_eq!(
        plan(
            &b,
            &ImageHeader::parse("Image", &image(0, 0x100_0000, 0)).expect("ok"),
            3 << 20,
            None
        ),
        Err(LoadError::DtbTooLarge(3 << 20))
    );
}
