//! BMP (Windows bitmaps, all bit depths `image` reads).

use std::io::Cursor;

use image::codecs::bmp::BmpDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<BmpDecoder<Cursor<&[u8]>>>> {
    let decoder = BmpDecoder::new(reader(bytes)).map_err(|e| Error::from_image("bmp", e))?;
    Ok(Opened { decoder, frame_count: 1, metadata: None })
}

/// Width and height from a BITMAPINFOHEADER (or larger); a negative height means top-down.
pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let header_len = u32::from_le_bytes(bytes.get(14..18)?.try_into().ok()?);
    if header_len < 40 {
        return None; // OS/2 core headers: 16-bit sizes, checked by the decoder's own limits
    }
    let le = |i: usize| Some(i32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    Some((le(18)?.unsigned_abs(), le(22)?.unsigned_abs()))
}
