//! AV1 still frames through libaom, in wasm builds with the `aom` feature: the encoder that
//! sharp, avifenc and jSquash use, here built for wasm32 (scripts/build.sh) and called through
//! a small C layer (aom/still.c). Same contract as the rav1e path in avif.rs: 10-bit planes
//! in, the temporal unit and the decoder's view of each plane out.

use std::ffi::c_void;

// Links libaom (libaom-sys carries the static library; nothing from Rust names its items).
use libaom_sys as _;

use crate::error::{Error, Result};

unsafe extern "C" {
    fn mediaslim_aom_encode_still(
        planes: *const *const u16,
        plane_count: i32,
        depth: i32,
        subsampled: i32,
        width: u32,
        height: u32,
        cq_level: i32,
        cpu_used: i32,
        out: *mut *mut u8,
        out_len: *mut usize,
        recon: *const *mut u16,
    ) -> i32;
}

/// A coded still frame and its reconstruction (one `Vec` per input plane).
pub(super) struct Still {
    pub bitstream: Vec<u8>,
    pub planes: Vec<Vec<u16>>,
}

/// Encodes 3 (colour) or 1 (monochrome alpha) planes of `depth`-bit (8 or 10) samples at
/// libaom's `cq_level` (0-63) and speed `cpu_used` (0-9). Luma is
/// `width * height`; chroma the same, or half each way (rounded up) when `subsampled` (4:2:0).
pub(super) fn encode_still(
    planes: &[Vec<u16>],
    depth: u8,
    subsampled: bool,
    width: u32,
    height: u32,
    cq_level: u8,
    cpu_used: u8,
) -> Result<Still> {
    let samples = width as usize * height as usize;
    let chroma_samples = if subsampled { width.div_ceil(2) as usize * height.div_ceil(2) as usize } else { samples };
    let sizes: Vec<usize> = (0..planes.len()).map(|p| if p == 0 { samples } else { chroma_samples }).collect();
    if !(planes.len() == 1 || planes.len() == 3) || planes.iter().zip(&sizes).any(|(p, &n)| p.len() != n) {
        return Err(Error::encode("avif", "libaom: planes do not match the frame size"));
    }
    let inputs: Vec<*const u16> = planes.iter().map(|p| p.as_ptr()).collect();
    let mut recon: Vec<Vec<u16>> = sizes.iter().map(|&n| vec![0u16; n]).collect();
    let recon_ptrs: Vec<*mut u16> = recon.iter_mut().map(|p| p.as_mut_ptr()).collect();
    let mut out: *mut u8 = std::ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: every plane pointer covers its plane's samples (checked above), as do the
    // reconstruction buffers; the C side writes `out` (a malloc'd block) and `out_len` only.
    let status = unsafe {
        mediaslim_aom_encode_still(
            inputs.as_ptr(),
            planes.len() as i32,
            i32::from(depth),
            i32::from(subsampled),
            width,
            height,
            i32::from(cq_level.min(63)),
            i32::from(cpu_used.min(9)),
            &mut out,
            &mut out_len,
            recon_ptrs.as_ptr(),
        )
    };
    if status != 0 {
        let why = match status {
            1 => "the encoder refused its configuration",
            2 => "the encoder did not start",
            3 => "encoding failed",
            4 => "the encoder returned no frame",
            _ => "out of memory",
        };
        return Err(Error::encode("avif", format!("libaom: {why}")));
    }
    // SAFETY: on success `out` points to `out_len` bytes from our malloc (libc_shim), ours to free.
    let bitstream = unsafe {
        let bytes = std::slice::from_raw_parts(out, out_len).to_vec();
        super::libc_shim::free(out.cast::<c_void>());
        bytes
    };
    Ok(Still { bitstream, planes: recon })
}

/// libaom's speed (cpu-used 0-9) for an `effort` (0-10): effort 4, the default, is cpu-used
/// 7, one step faster than avifenc's default 6. In all-intra mode that step saves 40-45% of
/// the time for 0-2.5% more bytes at equal SSIMULACRA2 (bench/avif-settings.mjs on two corpus
/// photos at quality 65/80/88), and brings a 12 MP photo from 13.5 s to 7.3 s
/// (bench/avif-12mp.mjs). Effort 5 is avifenc's 6; each effort step is one cpu-used step.
pub(super) fn cpu_used(effort: u8) -> u8 {
    11u8.saturating_sub(effort).min(9)
}

/// libaom's constant-quality level (0-63) for a 1-100 `quality`, fitted so that a quality
/// gives about the SSIMULACRA2 it gave with rav1e (our encoder before libaom), which the
/// WebCodecs path is calibrated to as well. First fitted for libaom 3.11 with tune=ssim (cq
/// 46 / 36.5 / 30 / 22.5 / 13.5 / 6 at quality 25 / 50 / 65 / 80 / 88 / 95), then refitted
/// for 3.12's tune=iq, which gives more quality per cq: the cq at which tune=iq reaches the
/// median scores 3.11 reached there (26.7 / 50.3 / 63.8 / 72.7 / 80.4 / 88.6; 4 corpus photos
/// at 1600 px, effort 4, 4:2:0 below quality 90, scored from the encoder's reconstruction).
/// Linear in between.
pub(super) fn cq_level(quality: f32) -> u8 {
    const POINTS: [(f32, f32); 8] =
        [(0.0, 63.0), (25.0, 50.0), (50.0, 42.0), (65.0, 35.0), (80.0, 30.0), (88.0, 19.5), (95.0, 8.0), (100.0, 0.0)];
    let q = quality.clamp(0.0, 100.0);
    let mut level = 0.0;
    for pair in POINTS.windows(2) {
        let &[(q0, c0), (q1, c1)] = pair else { continue };
        if q <= q1 {
            level = c0 + (c1 - c0) * (q - q0) / (q1 - q0);
            break;
        }
    }
    level.round() as u8
}
