//! PNG: every bit depth and colour type, palette, tRNS, 16-bit; the default image of APNGs.

use image::codecs::png::PngDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<'_>> {
    let frame_count = apng_frame_count(bytes).unwrap_or(1);
    let decoder: Box<dyn image::ImageDecoder> = match masked_grey_trns(bytes) {
        Some(patched) => {
            Box::new(PngDecoder::new(std::io::Cursor::new(patched)).map_err(|e| Error::from_image("png", e))?)
        }
        None => Box::new(PngDecoder::new(reader(bytes)).map_err(|e| Error::from_image("png", e))?),
    };
    Ok(Opened { decoder, frame_count })
}

/// The PNG spec says decoders compare only the low `bit depth` bits of a greyscale tRNS
/// value (libpng and browsers do); the `png` crate compares all 16. For the rare file whose
/// tRNS has high bits set, returns a copy with the value masked (and its CRC redone).
fn masked_grey_trns(bytes: &[u8]) -> Option<Vec<u8>> {
    let (depth, colour_type) = (*bytes.get(24)?, *bytes.get(25)?);
    if colour_type != 0 || depth >= 8 {
        return None;
    }
    let mut pos = 8usize;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = u32::from_be_bytes(header[0..4].try_into().ok()?) as usize;
        match &header[4..8] {
            b"IDAT" | b"IEND" => return None,
            b"tRNS" if len == 2 => {
                let value = u16::from_be_bytes(bytes.get(pos + 8..pos + 10)?.try_into().ok()?);
                let masked = value & ((1u16 << depth) - 1);
                if masked == value {
                    return None;
                }
                let mut patched = bytes.to_vec();
                patched[pos + 8..pos + 10].copy_from_slice(&masked.to_be_bytes());
                let crc = crc32fast::hash(&patched[pos + 4..pos + 10]);
                patched[pos + 10..pos + 14].copy_from_slice(&crc.to_be_bytes());
                return Some(patched);
            }
            _ => pos = pos.checked_add(12)?.checked_add(len)?,
        }
    }
    None
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
            // The APNG spec bounds num_frames to 1..=2^31-1; anything else is not a count.
            return (1..=i32::MAX as u32).contains(&frames).then_some(frames);
        }
        pos = pos.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// Width and height from the IHDR chunk, which must come first.
pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |i: usize| Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}
