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

/// True when the frame header declares 4 components (CMYK or YCCK). Walks marker
/// segments up to the first SOF; false when the structure is unreadable.
pub(super) fn is_cmyk(bytes: &[u8]) -> bool {
    let mut pos = 2usize;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) {
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let is_sof = matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if is_sof {
            return bytes.get(pos + 9) == Some(&4);
        }
        let Some(len) = bytes.get(pos + 2..pos + 4) else { return false };
        pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    false
}
