//! AVIF with ravif (rav1e): quality, speed (from effort), separate alpha quality.

use ravif::{Encoder, Img};
use rgb::FromSlice;

use super::{EncodeOptions, OutputFormat, default_quality};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let quality = f32::from(options.quality.unwrap_or(default_quality(OutputFormat::Avif)));
    let mut encoder = Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(options.alpha_quality.map_or(quality, f32::from))
        .with_speed(rav1e_speed(options.effort))
        .with_num_threads(Some(1));
    if let Some(exif) = &options.metadata.exif {
        encoder = encoder.with_exif(exif.clone());
    }
    let (w, h) = (image.width as usize, image.height as usize);
    let encoded = match image.layout {
        PixelLayout::Rgb8 => encoder.encode_rgb(Img::new(image.pixels.as_rgb(), w, h)),
        PixelLayout::Rgba8 => encoder.encode_rgba(Img::new(image.pixels.as_rgba(), w, h)),
    };
    encoded.map(|e| e.avif_file).map_err(|e| Error::encode("avif", e))
}

/// rav1e speed 1 (slowest) to 10; effort 4 (our default) is speed 6.
fn rav1e_speed(effort: u8) -> u8 {
    10u8.saturating_sub(effort.min(9))
}
