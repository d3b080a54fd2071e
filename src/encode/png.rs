//! PNG through oxipng: it picks the smallest colour type, bit depth, filters and deflate.
//! Lossy PNG (`encode_palette`) first quantizes to a palette with quantette (Wu in Oklab,
//! Floyd-Steinberg dithering), then hands the indexed image to oxipng the same way.

use oxipng::{BitDepth, ColorType, Options, RawImage, StripChunks};

use super::EncodeOptions;
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let color_type = match image.layout {
        PixelLayout::Rgb8 => ColorType::RGB { transparent_color: None },
        PixelLayout::Rgba8 => ColorType::RGBA,
    };
    optimize(image.width, image.height, color_type, image.pixels.clone(), options)
}

/// A palette PNG of at most `colors` colours (2-256). `None` when the image has partial
/// transparency (alpha other than 0 and 255): quantette works on RGB only, so such images
/// stay lossless rather than lose their soft edges.
pub(super) fn encode_palette(image: &Image, colors: u16, options: &EncodeOptions) -> Result<Option<Vec<u8>>> {
    use quantette::deps::palette::Srgb;
    use quantette::{ImageRef, PaletteSize, Pipeline};

    let channels = image.layout.channels();
    if image.has_alpha_channel() && image.pixels.chunks_exact(4).any(|p| p[3] != 0 && p[3] != 255) {
        return Ok(None);
    }
    let transparent = |p: &[u8]| channels == 4 && p[3] == 0;
    let has_transparent = image.pixels.chunks_exact(channels).any(transparent);
    // Fully transparent pixels get their own palette entry; the rest are quantized.
    let opaque: Vec<Srgb<u8>> = image
        .pixels
        .chunks_exact(channels)
        .map(|p| if transparent(p) { Srgb::new(0, 0, 0) } else { Srgb::new(p[0], p[1], p[2]) })
        .collect();
    let budget = colors.clamp(2, 256) - u16::from(has_transparent);
    let size = PaletteSize::try_from(budget).map_err(|_| Error::encode("png", "palette size out of range"))?;
    let input = ImageRef::new(image.width, image.height, opaque.as_slice())
        .map_err(|_| Error::encode("png", "pixel count does not match the image size"))?;
    let indexed = Pipeline::new().palette_size(size).input_image(input).output_srgb8_indexed_image();
    let (palette, mut indices) = indexed.into_parts();
    let mut entries: Vec<rgb::RGBA8> = palette.iter().map(|c| rgb::RGBA8::new(c.red, c.green, c.blue, 255)).collect();
    if has_transparent {
        let clear = u8::try_from(entries.len()).map_err(|_| Error::encode("png", "palette overflow"))?;
        entries.push(rgb::RGBA8::new(0, 0, 0, 0));
        for (index, p) in indices.iter_mut().zip(image.pixels.chunks_exact(channels)) {
            if transparent(p) {
                *index = clear;
            }
        }
    }
    let color_type = ColorType::Indexed { palette: entries };
    optimize(image.width, image.height, color_type, indices, options).map(Some)
}

fn optimize(width: u32, height: u32, color_type: ColorType, data: Vec<u8>, options: &EncodeOptions) -> Result<Vec<u8>> {
    let mut raw =
        RawImage::new(width, height, color_type, BitDepth::Eight, data).map_err(|e| Error::encode("png", e))?;
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
