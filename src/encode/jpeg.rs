//! JPEG with mozjpeg-rs: progressive, optimized Huffman tables, trellis quantization.
//! Chosen over `jpeg-encoder` by bytes at equal SSIMULACRA2 (see examples/jpeg_encoders.rs).

use mozjpeg_rs::color::convert_rgb_to_ycbcr_c_compat;
use mozjpeg_rs::sample::downsample_h2v2_rows;
use mozjpeg_rs::{Encoder, Preset, Subsampling, TrellisConfig};

use super::{ChromaSubsampling, EncodeOptions, OutputFormat, default_quality};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout, flatten_rgba_row};

/// mozjpeg-rs's DC trellis keeps every block's raw DCT (an i32 per coefficient: twice the
/// quantized coefficients) for the whole image. Past this size it is turned off: it saves
/// 0.06% of bytes (at most 0.26%) on six corpus photos (examples/jpeg_dc_trellis.rs), and at
/// 24 MP it alone would be 144 MiB of a 4:2:0 encode.
const DC_TRELLIS_MAX_RAW_DCT_BYTES: usize = 64 << 20;

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let preset = match options.effort {
        0..=2 => Preset::BaselineBalanced,
        3..=6 => Preset::ProgressiveBalanced,
        _ => Preset::ProgressiveSmallest,
    };
    let subsampling = match options.chroma_subsampling {
        ChromaSubsampling::Yuv420 => Subsampling::S420,
        ChromaSubsampling::Yuv444 => Subsampling::S444,
    };
    let mut encoder = Encoder::new(preset)
        .quality(options.quality.unwrap_or(default_quality(OutputFormat::Jpeg)))
        .subsampling(subsampling);
    let planes = YCbCrPlanes::new(image, options.chroma_subsampling, options.background)?;
    let coefficients = planes.y.len() + planes.cb.len() + planes.cr.len();
    if coefficients.saturating_mul(4) > DC_TRELLIS_MAX_RAW_DCT_BYTES {
        encoder = encoder.trellis(TrellisConfig::default().dc_trellis(false));
    }
    if let Some(icc) = &options.metadata.icc_profile {
        encoder = encoder.icc_profile(icc.clone());
    }
    if let Some(exif) = &options.metadata.exif {
        encoder = encoder.exif_data(exif.clone());
    }
    encoder
        .encode_ycbcr_planar(&planes.y, &planes.cb, &planes.cr, image.width, image.height)
        .map_err(|e| Error::encode("jpeg", e))
}

/// The image as JPEG's Y'CbCr planes, chroma already subsampled, made two rows at a time with
/// mozjpeg-rs's own conversion and downsampling (the output is byte-identical to its
/// `encode_rgb`). Its `encode_rgb` holds three full-size planes plus a flattened RGB copy of
/// RGBA input; this holds 1.5 bytes per pixel at 4:2:0.
struct YCbCrPlanes {
    y: Vec<u8>,
    cb: Vec<u8>,
    cr: Vec<u8>,
}

impl YCbCrPlanes {
    fn new(image: &Image, chroma: ChromaSubsampling, background: [u8; 3]) -> Result<Self> {
        let width = image.width as usize;
        let height = image.height as usize;
        let channels = image.layout.channels();
        let (chroma_width, chroma_height) = match chroma {
            ChromaSubsampling::Yuv420 => (width.div_ceil(2), height.div_ceil(2)),
            ChromaSubsampling::Yuv444 => (width, height),
        };
        let mut planes = YCbCrPlanes {
            y: vec![0; width * height],
            cb: vec![0; chroma_width * chroma_height],
            cr: vec![0; chroma_width * chroma_height],
        };
        if planes.y.is_empty() {
            return Err(Error::encode("jpeg", "the image has no pixels"));
        }
        // Scratch for two rows: RGB (when the input is RGBA) and full-width chroma.
        let mut rgb_rows = if image.layout == PixelLayout::Rgba8 { vec![0; width * 6] } else { Vec::new() };
        let mut cb_rows = vec![0; width * 2];
        let mut cr_rows = vec![0; width * 2];
        let row_bytes = width * channels;
        for (pair, y_out) in planes.y.chunks_mut(width * 2).enumerate() {
            let rows = y_out.len() / width;
            let start = pair * 2 * row_bytes;
            let src = image
                .pixels
                .get(start..start + rows * row_bytes)
                .ok_or_else(|| Error::encode("jpeg", "pixel buffer shorter than the image"))?;
            let rgb: &[u8] = match image.layout {
                PixelLayout::Rgb8 => src,
                PixelLayout::Rgba8 => {
                    flatten_rgba_row(src, background, &mut rgb_rows);
                    &rgb_rows[..rows * width * 3]
                }
            };
            match chroma {
                ChromaSubsampling::Yuv444 => {
                    let range = pair * 2 * width..(pair * 2 + rows) * width;
                    convert_rgb_to_ycbcr_c_compat(
                        rgb,
                        y_out,
                        &mut planes.cb[range.clone()],
                        &mut planes.cr[range],
                        rows * width,
                    );
                }
                ChromaSubsampling::Yuv420 => {
                    convert_rgb_to_ycbcr_c_compat(
                        rgb,
                        y_out,
                        &mut cb_rows[..rows * width],
                        &mut cr_rows[..rows * width],
                        rows * width,
                    );
                    // An odd last row is paired with itself, as mozjpeg-rs's downsample_plane does.
                    let second = if rows == 2 { width } else { 0 };
                    let out = pair * chroma_width..(pair + 1) * chroma_width;
                    downsample_h2v2_rows(
                        &cb_rows[..width],
                        &cb_rows[second..second + width],
                        &mut planes.cb[out.clone()],
                    );
                    downsample_h2v2_rows(&cr_rows[..width], &cr_rows[second..second + width], &mut planes.cr[out]);
                }
            }
        }
        Ok(planes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32, layout: PixelLayout) -> Image {
        let channels = layout.channels();
        let mut pixels = vec![0u8; width as usize * height as usize * channels];
        for (i, p) in pixels.chunks_exact_mut(channels).enumerate() {
            let (x, y) = (i % width as usize, i / width as usize);
            p[0] = (x * 7 + y * 3) as u8;
            p[1] = (x * 2 + y * 11) as u8;
            p[2] = (x ^ y) as u8;
            if channels == 4 {
                p[3] = (x * 5) as u8;
            }
        }
        Image::new(width, height, layout, pixels)
    }

    /// Our plane builder must give exactly what mozjpeg-rs's own RGB path gives, for odd sizes
    /// (a lone last row and column), both chroma modes and RGBA input.
    #[test]
    fn planes_encode_like_mozjpeg_encode_rgb() {
        for (w, h) in [(37, 23), (64, 48), (1, 1), (2, 3)] {
            for layout in [PixelLayout::Rgb8, PixelLayout::Rgba8] {
                for chroma in [ChromaSubsampling::Yuv420, ChromaSubsampling::Yuv444] {
                    let image = gradient(w, h, layout);
                    let options =
                        EncodeOptions { quality: Some(80), chroma_subsampling: chroma, ..EncodeOptions::default() };
                    let ours = encode(&image, &options).unwrap();
                    let flat = image.flatten(options.background);
                    let sub = if chroma == ChromaSubsampling::Yuv420 { Subsampling::S420 } else { Subsampling::S444 };
                    let theirs = Encoder::new(Preset::ProgressiveBalanced)
                        .quality(80)
                        .subsampling(sub)
                        .encode_rgb(&flat.pixels, w, h)
                        .unwrap();
                    assert!(ours == theirs, "{w}x{h} {layout:?} {chroma:?}: {} vs {} bytes", ours.len(), theirs.len());
                }
            }
        }
    }
}
