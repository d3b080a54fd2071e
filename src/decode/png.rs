//! PNG: every bit depth and colour type, palette, tRNS, 16-bit; the default image of APNGs.

use image::codecs::png::PngDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<'_>> {
    let decoder = PngDecoder::new(reader(bytes)).map_err(|e| Error::from_image("png", e))?;
    Ok(Opened { decoder: Box::new(decoder), frame_count: apng_frame_count(bytes).unwrap_or(1) })
}

/// Frames declared by an APNG `acTL` chunk (which must precede the first IDAT).
/// Walks chunk headers only; `None` for plain PNGs or malformed chunk tables.
fn apng_frame_count(bytes: &[u8]) -> Option<u32> {
    let mut pos = 8usize;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = u32::from_be_bytes(header[0..4].try_into().ok()?) as usize;
        let kind = &header[4..8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"acTL" {
            let data = bytes.get(pos + 8..pos + 12)?;
            let frames = u32::from_be_bytes(data.try_into().ok()?);
            return (frames > 0).then_some(frames);
        }
        pos = pos.checked_add(12)?.checked_add(len)?;
    }
    None
}
