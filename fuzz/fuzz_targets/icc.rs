//! Embedded ICC profiles are untrusted bytes parsed by qcms: the raw profile is applied to a
//! small RGB and RGBA image, as the pipeline's sRGB conversion does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::decode::color::convert_to_srgb;
use mediaslim::{Image, PixelLayout};

fuzz_target!(|icc: &[u8]| {
    for layout in [PixelLayout::Rgb8, PixelLayout::Rgba8] {
        let pixels: Vec<u8> = (0..16 * 9 * layout.channels()).map(|i| (i * 37) as u8).collect();
        let mut image = Image::new(16, 9, layout, pixels);
        let _ = convert_to_srgb(&mut image, icc);
        assert_eq!(image.pixels.len(), 16 * 9 * layout.channels());
    }
});
