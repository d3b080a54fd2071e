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
