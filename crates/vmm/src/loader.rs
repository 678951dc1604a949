//! The Linux arm64 boot protocol (Documentation/arch/arm64/booting.rst): the Image header,
//! and where the Image, the DTB and the initramfs go in the board's RAM.

use board::{Board, Range};

/// The Image header's magic, "ARM\x64", at offset 56.
const MAGIC: u32 = 0x644d_5241;
const HEADER_LEN: usize = 64;
const SZ_2M: u64 = 2 << 20;
const PAGE: u64 = 4096;
/// booting.rst: "The device tree blob (dtb) ... must not exceed 2 megabytes in size."
pub const DTB_MAX: u64 = SZ_2M;

/// Loading failed; messages name the file or the region at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    #[error("{path}: not an arm64 Image: {why}")]
    NotAnImage { path: String, why: String },
    #[error("{path}: {why}")]
    Unsupported { path: String, why: String },
    #[error("no room in RAM for the {what} (0x{size:x} bytes, {align:#x}-aligned) outside the reserved regions")]
    NoRoom {
        what: &'static str,
        size: u64,
        align: u64,
    },
    #[error("the DTB is 0x{0:x} bytes; booting.rst allows at most 2 MiB")]
    DtbTooLarge(u64),
}

/// The fields of the 64-byte Image header heapsoc needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// Offset of the Image from a 2 MiB aligned base.
    pub text_offset: u64,
    /// Bytes the kernel occupies once running (including BSS), from the image start.
    pub image_size: u64,
    /// Bit 3: may be placed anywhere in RAM rather than near its start.
    pub flags: u64,
}

impl ImageHeader {
    /// Parses and checks the header of the file `path` whose contents are `image`.
    pub fn parse(path: &str, image: &[u8]) -> Result<ImageHeader, LoadError> {
        let not = |why: &str| LoadError::NotAnImage {
            path: path.into(),
            why: why.into(),
        };
        if image.len() < HEADER_LEN {
            return Err(not(&format!(
                "{} bytes is shorter than the 64-byte header",
                image.len()
            )));
        }
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&image[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let magic = u32::from_le_bytes([image[56], image[57], image[58], image[59]]);
        if magic != MAGIC {
            return Err(not(&format!(
                "magic at offset 56 is 0x{magic:08x}, not 0x{MAGIC:08x} (\"ARM\\x64\")"
            )));
        }
        let header = ImageHeader {
            text_offset: u64_at(8),
            image_size: u64_at(16),
            flags: u64_at(24),
        };
        let unsupported = |why: String| LoadError::Unsupported {
            path: path.into(),
            why,
        };
        if header.image_size == 0 {
            return Err(unsupported(
                "image_size is 0: kernels before 3.17 are not supported".into(),
            ));
        }
        if header.flags & 1 != 0 {
            return Err(unsupported(
                "big-endian kernel; heapsoc runs little-endian guests".into(),
            ));
        }
        match (header.flags >> 1) & 3 {
            0 | 1 => {}
            n => {
                return Err(unsupported(format!(
                    "kernel built for {} KiB pages; heapsoc's MMU supports 4 KiB pages",
                    if n == 2 { 16 } else { 64 }
                )))
            }
        }
        if header.text_offset % PAGE != 0 || header.text_offset >= SZ_2M {
            return Err(not(&format!(
                "text_offset 0x{:x} is not a page offset below 2 MiB",
                header.text_offset
            )));
        }
        if (image.len() as u64) > header.image_size {
            return Err(not(&format!(
                "the file (0x{:x} bytes) is larger than its image_size 0x{:x}",
                image.len(),
                header.image_size
            )));
        }
        Ok(header)
    }
}

/// Where everything goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The kernel's whole footprint (image_size), starting at the entry point.
    pub kernel: Range,
    /// A 2 MiB window of its own for the DTB.
    pub dtb: Range,
    pub initrd: Option<Range>,
}

fn align_up(v: u64, a: u64) -> Option<u64> {
    v.checked_add(a - 1).map(|x| x & !(a - 1))
}

/// The lowest `align`-aligned range of `size` bytes at or above `from`, at `offset` past
/// the aligned point, that lies in one bank and avoids the fixed reserved regions and
/// `taken`.
fn find(
    board: &Board,
    taken: &[Range],
    from: u64,
    size: u64,
    align: u64,
    offset: u64,
    what: &'static str,
) -> Result<Range, LoadError> {
    let blocked: Vec<Range> = board
        .reserved
        .iter()
        .filter_map(|r| r.fixed_range())
        .chain(taken.iter().copied())
        .collect();
    for bank in &board.banks {
        let mut base = align_up(from.max(bank.range.base), align);
        while let Some(b) = base {
            let Some(start) = b.checked_add(offset) else {
                break;
            };
            let candidate = Range { base: start, size };
            if !bank.range.contains(&candidate) {
                break;
            }
            match blocked.iter().find(|r| r.overlaps(&candidate)) {
                None => return Ok(candidate),
                Some(r) => base = align_up(r.end(), align),
            }
        }
    }
    Err(LoadError::NoRoom { what, size, align })
}

/// Plans the boot layout: the kernel as low in RAM as it may go (2 MiB aligned base plus
/// text_offset), then the DTB in a 2 MiB window of its own, then the initramfs.
pub fn plan(
    board: &Board,
    header: &ImageHeader,
    dtb_size: u64,
    initrd_size: Option<u64>,
) -> Result<Layout, LoadError> {
    if dtb_size > DTB_MAX {
        return Err(LoadError::DtbTooLarge(dtb_size));
    }
    let kernel = find(
        board,
        &[],
        0,
        header.image_size,
        SZ_2M,
        header.text_offset,
        "kernel",
    )?;
    let dtb = find(
        board,
        &[kernel],
        kernel.end(),
        SZ_2M,
        SZ_2M,
        0,
        "device tree",
    )?;
    let initrd = match initrd_size {
        None => None,
        Some(size) => Some(find(
            board,
            &[kernel, dtb],
            dtb.end(),
            size.max(1),
            PAGE,
            0,
            "initramfs",
        )?),
    };
    Ok(Layout {
        kernel,
        dtb,
        initrd,
    })
}
