//! Placeholders: a ThumbHash (about 25 bytes: inline it in HTML), its decoded preview as a
//! tiny PNG, and the average colour, all from one small downscale of the decoded pixels.

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde::Serialize;

use crate::encode;
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};
use crate::pipeline::Source;
use crate::resize::{Fit, Kernel, ResizeRequest, resize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Placeholder {
    /// The ThumbHash bytes (base64 them for HTML).
    #[serde(with = "serde_bytes")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint8Array"))]
    pub thumbhash: Vec<u8>,
    /// The ThumbHash rendered back to pixels, as a PNG of a few hundred bytes.
    #[serde(with = "serde_bytes")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint8Array"))]
    pub png: Vec<u8>,
    pub png_width: u32,
    pub png_height: u32,
    /// Average colour, `#rrggbb`.
    pub color: String,
    /// Average alpha, 0-1.
    pub alpha: f32,
}

/// ThumbHash needs at most 100 x 100 pixels.
const THUMB_SIZE: u32 = 100;

pub fn placeholder(source: &Source) -> Result<Placeholder> {
    let (image, _) = source.srgb_image();
    let request = ResizeRequest {
        width: Some(THUMB_SIZE),
        height: Some(THUMB_SIZE),
        fit: Fit::Inside,
        kernel: Kernel::Mitchell,
        upscale: false,
        background: [0; 4],
    };
    let plan = request.plan(image.width, image.height)?;
    let small = resize(image, &plan, &request, &crate::limits::Limits::default())?.to_rgba();
    let thumbhash = thumbhash::rgba_to_thumb_hash(small.width as usize, small.height as usize, &small.pixels);

    let fail = |what: &str| Error::encode("placeholder", format!("ThumbHash could not be {what}"));
    let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&thumbhash).map_err(|()| fail("decoded"))?;
    let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&thumbhash).map_err(|()| fail("averaged"))?;
    let preview = Image::new(w as u32, h as u32, PixelLayout::Rgba8, rgba);
    let png = encode::png_plain::encode(&preview)?;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    Ok(Placeholder {
        thumbhash,
        png,
        png_width: w as u32,
        png_height: h as u32,
        color: format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b)),
        alpha: a,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{EncodeOptions, OutputFormat};
    use crate::limits::Limits;

    #[test]
    fn a_red_square_has_a_red_placeholder() {
        let red = Image::new(300, 200, PixelLayout::Rgb8, [230u8, 20, 20].repeat(300 * 200));
        let png = encode::encode(&red, OutputFormat::Png, &EncodeOptions::default()).unwrap();
        let source = Source::decode(&png, &Limits::default(), &|| 0.0).unwrap();
        let p = placeholder(&source).unwrap();
        assert!(p.thumbhash.len() <= 30, "{} bytes", p.thumbhash.len());
        assert_eq!(&p.png[1..4], b"PNG");
        assert!(p.png.len() < 2000, "{} bytes", p.png.len());
        assert!(p.png_width > p.png_height, "keeps the aspect ratio");
        let r = u8::from_str_radix(&p.color[1..3], 16).unwrap();
        let g = u8::from_str_radix(&p.color[3..5], 16).unwrap();
        assert!(r > 200 && g < 60, "{}", p.color);
        assert!((p.alpha - 1.0).abs() < 0.01);
    }
}
