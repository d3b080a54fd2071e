//! PNG: every bit depth and colour type, palette, tRNS, 16-bit; the default image of APNGs.

use std::borrow::Cow;
use std::io::Cursor;

use image::codecs::png::PngDecoder;

use super::Opened;
use crate::error::{Error, Result};
use crate::limits::Limits;

/// The file as given, or a patched copy (see `masked_grey_trns`).
type Decoder<'a> = PngDecoder<Cursor<Cow<'a, [u8]>>>;

pub(super) fn open<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Opened<Decoder<'a>>> {
    let frame_count = apng_frame_count(bytes).unwrap_or(1);
    // `PngDecoder::new` has no limits, and the `png` crate inflates iCCP while it opens:
    // its budget must be set here (set_limits later does not reach the `png` crate).
    let budget = limits.header_limits();
    let source = match masked_grey_trns(bytes) {
        Some(patched) => Cow::Owned(patched),
        None => Cow::Borrowed(bytes),
    };
    let decoder = PngDecoder::with_limits(Cursor::new(source), budget).map_err(|e| Error::from_image("png", e))?;
    Ok(Opened { decoder, frame_count, metadata: None })
}

/// The PNG spec says decoders compare only the low `bit depth` bits of a greyscale tRNS
/// value (libpng and browsers do); the `png` crate compares all 16. For the rare file whose
/// tRNS has high bits set, returns a copy with the value masked (and its CRC redone).
fn masked_grey_trns(bytes: &[u8]) -> Option<Vec<u8>> {
    let (depth, colour_type) = (*bytes.get(24)?, *bytes.get(25)?);
    if colour_type != 0 || depth >= 8 {
        return None;
    }
    for (pos, kind, data) in chunks(bytes) {
        match kind {
            b"IDAT" | b"IEND" => return None,
            b"tRNS" if data.len() == 2 => {
                let value = u16::from_be_bytes(data.try_into().ok()?);
                let masked = value & ((1u16 << depth) - 1); // depth < 8: no overflow
                if masked == value {
                    return None;
                }
                let mut patched = bytes.to_vec();
                // `chunks` yielded this chunk whole: type at pos+4..pos+8, data pos+8..pos+10,
                // CRC pos+10..pos+14, all inside `bytes` (and so inside its copy).
                patched.get_mut(pos + 8..pos + 10)?.copy_from_slice(&masked.to_be_bytes());
                let crc = crc32fast::hash(patched.get(pos + 4..pos + 10)?);
                patched.get_mut(pos + 10..pos + 14)?.copy_from_slice(&crc.to_be_bytes());
                return Some(patched);
            }
            _ => {}
        }
    }
    None
}

/// The chunks after the signature, as `(offset, type, data)`, each one whole (its length,
/// type, data and CRC inside `bytes`); stops at the first that is not.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8; 4], &[u8])> {
    let mut pos = Some(8usize);
    std::iter::from_fn(move || {
        let at = pos?;
        let len = u32::from_be_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?);
        let kind: &[u8; 4] = bytes.get(at.checked_add(4)?..at.checked_add(8)?)?.try_into().ok()?;
        let data_start = at.checked_add(8)?;
        let data_end = data_start.checked_add(usize::try_from(len).ok()?)?;
        let data = bytes.get(data_start..data_end)?;
        let end = data_end.checked_add(4)?;
        bytes.get(data_end..end)?; // the CRC is there too
        pos = Some(end);
        Some((at, kind, data))
    })
}

/// Frames declared by an APNG `acTL` chunk (which must precede the first IDAT).
/// Walks chunk headers only; `None` for plain PNGs or malformed chunk tables.
fn apng_frame_count(bytes: &[u8]) -> Option<u32> {
    for (_, kind, data) in chunks(bytes) {
        match kind {
            b"IDAT" | b"IEND" => return None,
            b"acTL" => {
                let frames = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
                // The APNG spec bounds num_frames to 1..=2^31-1; anything else is not a count.
                return (1..=i32::MAX as u32).contains(&frames).then_some(frames);
            }
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn grey1_with_trns(trns: &[u8]) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x01\0\0\0\0".to_vec();
        png.extend_from_slice(&crc32fast::hash(&png[12..29]).to_be_bytes());
        png.extend_from_slice(b"\0\0\0\x02tRNS");
        png.extend_from_slice(trns);
        png
    }

    #[test]
    fn a_grey_trns_cut_before_its_crc_is_left_alone() {
        // Cut after the tRNS value: masking it used to write the CRC past the end (a panic).
        assert_eq!(masked_grey_trns(&grey1_with_trns(&[0xFF, 0x01])), None);
        assert_eq!(masked_grey_trns(&grey1_with_trns(&[0xFF, 0x01, 0, 0])), None);
        let patched = masked_grey_trns(&grey1_with_trns(&[0xFF, 0x01, 0, 0, 0, 0])).unwrap();
        assert_eq!(&patched[41..43], &[0, 1]);
    }
}
