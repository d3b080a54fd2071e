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
