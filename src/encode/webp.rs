//! WebP lossless (image-webp). Lossy WebP (libwebp in wasm) is a separate issue.

use image_webp::{ColorType, WebPEncoder};

use super::EncodeOptions;
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = WebPEncoder::new(&mut out);
    if let Some(icc) = &options.metadata.icc_profile {
        encoder.set_icc_profile(icc.clone());
    }
    if let Some(exif) = &options.metadata.exif {
        encoder.set_exif_metadata(exif.clone());
    }
    let color = match image.layout {
        PixelLayout::Rgb8 => ColorType::Rgb8,
        PixelLayout::Rgba8 => ColorType::Rgba8,
    };
    encoder.encode(&image.pixels, image.width, image.height, color).map_err(|e| Error::encode("webp", e))?;
    Ok(out)
}
