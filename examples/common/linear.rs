//! Shared by the examples that score with SSIMULACRA2: our RGB8 pixels as the metric's
//! linear-light input. (Issue #4 moves scoring into the core as `quality.rs`.)

use mediaslim::{Image, PixelLayout};
use ssimulacra2::{ColorPrimaries, LinearRgb, Rgb, TransferCharacteristic};

pub fn linear(img: &Image) -> LinearRgb {
    assert_eq!(img.layout, PixelLayout::Rgb8, "flatten alpha before scoring");
    let data: Vec<[f32; 3]> = img
        .pixels
        .chunks_exact(3)
        .map(|p| [f32::from(p[0]) / 255.0, f32::from(p[1]) / 255.0, f32::from(p[2]) / 255.0])
        .collect();
    let rgb =
        Rgb::new(data, img.width as usize, img.height as usize, TransferCharacteristic::SRGB, ColorPrimaries::BT709)
            .expect("rgb buffer");
    LinearRgb::try_from(rgb).expect("linear rgb")
}
