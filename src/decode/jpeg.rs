//! JPEG: baseline, progressive, grayscale, CMYK (via zune-jpeg inside `image`).

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<JpegDecoder<Cursor<&[u8]>>>> {
    let decoder = JpegDecoder::new(reader(bytes)).map_err(|e| Error::from_image("jpeg", e))?;
    Ok(Opened { decoder, frame_count: 1, metadata: None })
}

/// A JPEG cut short decodes "successfully" as a grey smear in lenient decoders; re-encoding
/// would bake that in, so we refuse it. After the first scan (SOS), entropy-coded data
/// stuffs every 0xFF, so an FF D9 there can only be the end-of-image marker.
///
/// The first scan is found by walking the marker segments: searching the bytes for FF DA
/// would find the scan of the EXIF thumbnail (a whole JPEG inside APP1, with its own FF D9),
/// and a file cut inside its main scan would pass as complete.
pub(super) fn ensure_complete(bytes: &[u8]) -> Result<()> {
    let sos = match segments(bytes).find(|&(marker, _)| marker == 0xDA) {
        Some((_, at)) => Some(at),
        // A marker structure we cannot walk: search as lenient decoders do.
        None => bytes.windows(2).position(|w| w == [0xFF, 0xDA]),
    };
    let Some(sos) = sos else {
        return Err(Error::corrupt("jpeg", "truncated: no image data (no start-of-scan marker)"));
    };
    if !bytes.get(sos..).unwrap_or_default().windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(Error::corrupt("jpeg", "truncated: the file ends before its end-of-image marker"));
    }
    Ok(())
}

/// The marker segments before the first scan, as `(marker, offset of its FF)`, ending with
/// the SOS itself; stops at the first byte that is not a marker.
fn segments(bytes: &[u8]) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut pos = Some(2usize);
    std::iter::from_fn(move || {
        loop {
            let at = pos?;
            let (&0xFF, &marker) = (bytes.get(at)?, bytes.get(at + 1)?) else { return None };
            match marker {
                0xFF => pos = Some(at + 1), // fill byte
                // Standalone markers (TEM, RSTn) have no length.
                0x01 | 0xD0..=0xD7 => {
                    pos = Some(at + 2);
                    return Some((marker, at));
                }
                0xDA => {
                    pos = None;
                    return Some((marker, at));
                }
                _ => {
                    let len = usize::from(u16::from_be_bytes(bytes.get(at + 2..at + 4)?.try_into().ok()?));
                    pos = Some(at + 2 + len.max(2)); // a length under 2 would not move on
                    return Some((marker, at));
                }
            }
        }
    })
}

/// The start-of-frame segment's payload (precision, height, width, components...).
/// Walks marker segments up to the first SOF; `None` when the structure is unreadable.
fn frame_header(bytes: &[u8]) -> Option<&[u8]> {
    let (_, at) =
        segments(bytes).find(|&(marker, _)| matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))?;
    let len = usize::from(u16::from_be_bytes(bytes.get(at + 2..at + 4)?.try_into().ok()?));
    bytes.get(at + 4..at + 2 + len.max(8))
}

/// True when the frame declares 4 components (CMYK or YCCK).
pub(super) fn is_cmyk(bytes: &[u8]) -> bool {
    frame_header(bytes).and_then(|f| f.get(5)) == Some(&4)
}

pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let f = frame_header(bytes)?;
    let be = |i: usize| Some(u32::from(u16::from_be_bytes(f.get(i..i + 2)?.try_into().ok()?)));
    Some((be(3)?, be(1)?))
}
