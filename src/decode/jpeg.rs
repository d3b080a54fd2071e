//! JPEG: baseline, progressive, grayscale, CMYK (via zune-jpeg inside `image`).

use image::codecs::jpeg::JpegDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<'_>> {
    let decoder = JpegDecoder::new(reader(bytes)).map_err(|e| Error::from_image("jpeg", e))?;
    Ok(Opened { decoder: Box::new(decoder), frame_count: 1 })
}

/// A JPEG cut short decodes "successfully" as a grey smear in lenient decoders; re-encoding
/// would bake that in, so we refuse it. After the first scan (SOS), entropy-coded data
/// stuffs every 0xFF, so an FF D9 there can only be the end-of-image marker.
pub(super) fn ensure_complete(bytes: &[u8]) -> Result<()> {
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]);
    let Some(sos) = sos else {
        return Err(Error::corrupt("jpeg", "truncated: no image data (no start-of-scan marker)"));
    };
    if !bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(Error::corrupt("jpeg", "truncated: the file ends before its end-of-image marker"));
    }
    Ok(())
}

/// The start-of-frame segment's payload (precision, height, width, components...).
/// Walks marker segments up to the first SOF; `None` when the structure is unreadable.
fn frame_header(bytes: &[u8]) -> Option<&[u8]> {
    let mut pos = 2usize;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) {
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes(bytes.get(pos + 2..pos + 4)?.try_into().ok()?));
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            return bytes.get(pos + 4..pos + 2 + len.max(8));
        }
        pos += 2 + len;
    }
    None
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
