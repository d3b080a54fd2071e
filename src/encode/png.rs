//! PNG through oxipng: it picks the smallest colour type, bit depth, filters and deflate.

use oxipng::{BitDepth, ColorType, Options, RawImage, StripChunks};

use super::EncodeOptions;
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let color_type = match image.layout {
        PixelLayout::Rgb8 => ColorType::RGB { transparent_color: None },
        PixelLayout::Rgba8 => ColorType::RGBA,
    };
    let mut raw = RawImage::new(image.width, image.height, color_type, BitDepth::Eight, image.pixels.clone())
        .map_err(|e| Error::encode("png", e))?;
    if let Some(icc) = &options.metadata.icc_profile {
        raw.add_icc_profile(icc);
    }
    if let Some(exif) = &options.metadata.exif {
        raw.add_png_chunk(*b"eXIf", exif.clone());
    }
    // oxipng presets run 0-6; our effort runs 0-10 (default 4 -> oxipng's default 2).
    let mut opts = Options::from_preset(oxipng_level(options.effort));
    opts.strip = StripChunks::None; // we only added the chunks we want to keep
    opts.optimize_alpha = true; // colours under alpha 0 are invisible: let them compress
    raw.create_optimized_png(&opts).map_err(|e| Error::encode("png", e))
}

fn oxipng_level(effort: u8) -> u8 {
    (u16::from(effort.min(10)) * 6 / 10) as u8
}
