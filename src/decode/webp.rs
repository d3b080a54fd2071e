//! WebP: lossy, lossless, alpha; the first frame of animations.

use image::codecs::webp::WebPDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<'_>> {
    // image-webp parses the RIFF chunk table here (headers only), which also counts frames.
    let frame_count = image_webp::WebPDecoder::new(reader(bytes))
        .map(|d| if d.is_animated() { d.num_frames().max(1) } else { 1 })
        .map_err(|e| Error::corrupt("webp", e))?;
    let decoder = WebPDecoder::new(reader(bytes)).map_err(|e| Error::from_image("webp", e))?;
    Ok(Opened { decoder: Box::new(decoder), frame_count })
}

/// Canvas size from the first chunk: VP8X (24-bit sizes), VP8L (14-bit) or VP8 (14-bit).
pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let b = |i: usize| bytes.get(i).copied().map(u32::from);
    match bytes.get(12..16)? {
        b"VP8X" => Some((1 + (b(24)? | b(25)? << 8 | b(26)? << 16), 1 + (b(27)? | b(28)? << 8 | b(29)? << 16))),
        b"VP8L" => {
            let bits = b(21)? | b(22)? << 8 | b(23)? << 16 | b(24)? << 24;
            Some((1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)))
        }
        b"VP8 " => Some((b(26)? | (b(27)? & 0x3F) << 8, b(28)? | (b(29)? & 0x3F) << 8)),
        _ => None,
    }
}

/// True when the (first) image bitstream is VP8L, i.e. the file is lossless.
pub fn is_lossless(bytes: &[u8]) -> bool {
    let mut pos = 12usize;
    while let Some(tag) = bytes.get(pos..pos + 4) {
        match tag {
            b"VP8L" => return true,
            b"VP8 " => return false,
            _ => {}
        }
        let Some(len) = bytes.get(pos + 4..pos + 8) else { return false };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        pos = match pos.checked_add(8 + len + (len & 1)) {
            Some(p) => p,
            None => return false,
        };
    }
    false
}
