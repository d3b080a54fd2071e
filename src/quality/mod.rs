//! Perceptual scoring: SSIMULACRA2 (higher is better: ~90 visually lossless, ~70 medium,
//! ~50 low). Images with alpha are scored over white and over black and the lower score
//! counts, so errors hidden by one background still show.

pub mod search;

#[cfg(feature = "score")]
use ssimulacra2::{ColorPrimaries, LinearRgb, Rgb, TransferCharacteristic, compute_frame_ssimulacra2};

use crate::error::{Error, Result};
use crate::image::Image;
#[cfg(feature = "score")]
use crate::image::PixelLayout;

/// Whether this build can score (SSIMULACRA2 is left out of the small wasm module).
pub const CAN_SCORE: bool = cfg!(feature = "score");

/// Without the `score` feature: every scoring request fails with NOT_BUILT.
#[cfg(not(feature = "score"))]
pub fn ssimulacra2(_reference: &Image, _distorted: &Image) -> Result<f64> {
    Err(Error::not_built("SSIMULACRA2 scoring", "score"))
}

/// SSIMULACRA2 of `distorted` against `reference`; both must have the same size (>= 8x8).
#[cfg(feature = "score")]
pub fn ssimulacra2(reference: &Image, distorted: &Image) -> Result<f64> {
    if (reference.width, reference.height) != (distorted.width, distorted.height) {
        return Err(Error::option(
            "images",
            format!(
                "cannot compare {}x{} with {}x{}: sizes differ",
                reference.width, reference.height, distorted.width, distorted.height
            ),
        ));
    }
    if reference.width < 8 || reference.height < 8 {
        return Err(Error::option("images", "SSIMULACRA2 needs at least 8x8 pixels"));
    }
    let alpha = reference.layout == PixelLayout::Rgba8 || distorted.layout == PixelLayout::Rgba8;
    let backgrounds: &[[u8; 3]] = if alpha { &[[255, 255, 255], [0, 0, 0]] } else { &[[0, 0, 0]] };
    let mut worst = f64::INFINITY;
    for &bg in backgrounds {
        let score = compute_frame_ssimulacra2(linear_rgb(&reference.flatten(bg)), linear_rgb(&distorted.flatten(bg)))
            .map_err(|e| Error::option("images", format!("cannot be scored: {e:?}")))?;
        worst = worst.min(score);
    }
    Ok(worst)
}

/// 8-bit sRGB RGB pixels as the metric's linear-light input (alpha must be flattened first).
#[cfg(feature = "score")]
pub fn linear_rgb(img: &Image) -> LinearRgb {
    assert_eq!(img.layout, PixelLayout::Rgb8, "flatten alpha before scoring");
    let data: Vec<[f32; 3]> = img
        .pixels
        .chunks_exact(3)
        .map(|p| [f32::from(p[0]) / 255.0, f32::from(p[1]) / 255.0, f32::from(p[2]) / 255.0])
        .collect();
    let rgb =
        Rgb::new(data, img.width as usize, img.height as usize, TransferCharacteristic::SRGB, ColorPrimaries::BT709);
    // Rgb::new only fails on a length mismatch, which `Image` rules out.
    LinearRgb::try_from(rgb.expect("pixel count matches the image size")).expect("sRGB converts to linear")
}

#[cfg(all(test, feature = "score"))]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Image {
        let mut px = Vec::new();
        for y in 0..h {
            for x in 0..w {
                px.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) % 256) as u8]);
            }
        }
        Image::new(w, h, PixelLayout::Rgb8, px)
    }

    #[test]
    fn identical_is_100_and_noise_scores_lower() {
        let a = gradient(64, 48);
        assert!((ssimulacra2(&a, &a).unwrap() - 100.0).abs() < 0.01);
        let mut b = a.clone();
        for (i, v) in b.pixels.iter_mut().enumerate() {
            *v = v.saturating_add(((i * 7919) % 23) as u8);
        }
        let s = ssimulacra2(&a, &b).unwrap();
        assert!(s < 90.0, "{s}");
        assert_eq!(ssimulacra2(&a, &gradient(32, 48)).unwrap_err().code(), "INVALID_OPTION");
        assert_eq!(ssimulacra2(&gradient(4, 4), &gradient(4, 4)).unwrap_err().code(), "INVALID_OPTION");
    }
}
