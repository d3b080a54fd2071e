//! WebP: lossy, lossless, alpha; the first frame of animations.

use image::codecs::webp::WebPDecoder;

use super::{Metadata, Opened, reader};
use crate::error::{Error, Result};
use crate::limits::{Limits, MAX_METADATA_BYTES};

pub(super) fn open<'a>(bytes: &'a [u8], _limits: &Limits) -> Result<Opened<'a>> {
    // image-webp parses the RIFF chunk table here (headers only), which also counts frames.
    let mut header = image_webp::WebPDecoder::new(reader(bytes)).map_err(|e| Error::corrupt("webp", e))?;
    let frame_count = if header.is_animated() { header.num_frames().max(1) } else { 1 };
    // image-webp allocates a metadata chunk (EXIF, ICCP) at its declared size before reading
    // it, and `image` never sets its memory limit: a 60-byte file claiming a 4 GiB EXIF chunk
    // made it allocate 4 GiB (a fuzzer find; on wasm32, a trap). No chunk is larger than the
    // file, so metadata is read here, bounded by it; unreadable metadata counts as absent.
    header.set_memory_limit(bytes.len().min(MAX_METADATA_BYTES as usize));
    let metadata = Metadata {
        exif: header.exif_metadata().ok().flatten(),
        icc_profile: header.icc_profile().ok().flatten(),
    };
    let decoder = WebPDecoder::new(reader(bytes)).map_err(|e| Error::from_image("webp", e))?;
    Ok(Opened { decoder: Box::new(decoder), frame_count, metadata: Some(metadata) })
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
    while let Some(tag) = bytes.get(pos..pos.saturating_add(4)) {
        match tag {
            b"VP8L" => return true,
            b"VP8 " => return false,
            _ => {}
        }
        let Some(len) = bytes.get(pos + 4..pos.saturating_add(8)).and_then(|l| <[u8; 4]>::try_from(l).ok()) else {
            return false;
        };
        // Chunks are padded to even sizes. In u64: on wasm32, `8 + len` in usize can wrap to a
        // step of 0 and loop forever on a chunk claiming ~4 GiB.
        let step = 8 + u64::from(u32::from_le_bytes(len)).next_multiple_of(2);
        pos = match usize::try_from(step).ok().and_then(|s| pos.checked_add(s)) {
            Some(p) => p,
            None => return false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_claiming_4_gib_ends_the_walk() {
        // On wasm32 `8 + len` wrapped to 0 for this length and the walk never moved on.
        let mut webp = b"RIFF\0\0\0\0WEBPXXXX\xf8\xff\xff\xffVP8L".to_vec();
        assert!(!is_lossless(&webp));
        webp.truncate(16);
        assert!(!is_lossless(&webp));
        assert!(is_lossless(b"RIFF\0\0\0\0WEBPXXXX\x01\0\0\0..VP8L"));
    }
}
