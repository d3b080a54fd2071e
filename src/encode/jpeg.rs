//! JPEG with mozjpeg-rs: progressive, optimized Huffman tables, trellis quantization.
//! Chosen over `jpeg-encoder` by bytes at equal SSIMULACRA2 (see examples/jpeg_encoders.rs).

use mozjpeg_rs::{Encoder, Preset, Subsampling};

use super::{ChromaSubsampling, EncodeOptions, OutputFormat, default_quality};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    let flat;
    let rgb = match image.layout {
        PixelLayout::Rgb8 => image,
        PixelLayout::Rgba8 => {
            flat = image.flatten(options.background);
            &flat
        }
    };
    // effort 0-2: baseline (still optimized Huffman + trellis); 3-6: progressive;
    // 7-10: progressive with per-scan optimization (mozjpeg's "max compression").
    let preset = match options.effort {
        0..=2 => Preset::BaselineBalanced,
        3..=6 => Preset::ProgressiveBalanced,
        _ => Preset::ProgressiveSmallest,
    };
    let mut encoder = Encoder::new(preset)
        .quality(options.quality.unwrap_or(default_quality(OutputFormat::Jpeg)))
        .subsampling(match options.chroma_subsampling {
            ChromaSubsampling::Yuv420 => Subsampling::S420,
            ChromaSubsampling::Yuv444 => Subsampling::S444,
        });
    if let Some(icc) = &options.metadata.icc_profile {
        encoder = encoder.icc_profile(icc.clone());
    }
    if let Some(exif) = &options.metadata.exif {
        encoder = encoder.exif_data(exif.clone());
    }
    encoder.encode_rgb(&rgb.pixels, rgb.width, rgb.height).map_err(|e| Error::encode("jpeg", e))
}
