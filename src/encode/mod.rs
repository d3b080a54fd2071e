//! Encoding: one module per output format, each `encode(&Image, &EncodeOptions)`.

#[cfg(all(feature = "aom", target_arch = "wasm32"))]
mod aom;
#[cfg(feature = "avif")]
mod avif;
#[cfg(feature = "avif-container")]
mod avif_container;
mod jpeg;
#[cfg(target_arch = "wasm32")]
mod libc_shim;
#[cfg(feature = "png-encode")]
mod png;
pub(crate) mod png_plain;
mod webp;

use serde::Deserialize;

#[cfg(feature = "avif")]
pub(crate) use avif::quality_to_quantizer;
#[cfg(feature = "avif")]
pub use avif::{AvifOutput, encode_with_reconstruction as encode_avif_with_reconstruction};
#[cfg(feature = "avif-container")]
pub use avif_container::{
    Nclx, SequenceHeader, WebCodecsColorSpace, av1_video_sample, av1c_record, avif_from_av1, parse_sequence_header,
    strip_temporal_delimiters,
};

use crate::error::Result;
use crate::image::Image;

/// An output format we encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    pub fn supports_alpha(self) -> bool {
        self != OutputFormat::Jpeg
    }

    /// Whether the container can carry an ICC profile (our AVIF writer sets nclx only).
    pub fn supports_icc(self) -> bool {
        self != OutputFormat::Avif
    }
}

/// JPEG and AVIF chroma subsampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum ChromaSubsampling {
    #[serde(rename = "4:2:0")]
    Yuv420,
    #[serde(rename = "4:4:4")]
    Yuv444,
}

/// Metadata to write into the output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub icc_profile: Option<Vec<u8>>,
    /// Raw EXIF (TIFF structure), orientation already reset to 1.
    pub exif: Option<Vec<u8>>,
}

/// Settings shared by all encoders; each ignores what its format has no use for.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeOptions {
    /// 1-100; `None` = the format's default.
    pub quality: Option<u8>,
    /// 0 (fastest) to 10 (smallest).
    pub effort: u8,
    pub chroma_subsampling: ChromaSubsampling,
    /// AVIF chroma as the caller asked; `None`: chosen by quality (src/encode/avif.rs).
    pub avif_chroma: Option<ChromaSubsampling>,
    /// AVIF alpha plane quality, 1-100; `None` = same as `quality`.
    pub alpha_quality: Option<u8>,
    /// Colour that transparent pixels are composited onto for JPEG.
    pub background: [u8; 3],
    /// WebP: lossless instead of lossy.
    pub lossless: bool,
    /// WebP lossy: sharper (slower) RGB->YUV conversion, fewer colour fringes on edges.
    pub sharp_yuv: bool,
    pub metadata: Metadata,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            quality: None,
            effort: DEFAULT_EFFORT,
            chroma_subsampling: ChromaSubsampling::Yuv420,
            avif_chroma: None,
            alpha_quality: None,
            background: [255, 255, 255],
            lossless: false,
            sharp_yuv: false,
            metadata: Metadata::default(),
        }
    }
}

pub const DEFAULT_EFFORT: u8 = 4;
pub const MAX_EFFORT: u8 = 10;

pub fn encode(image: &Image, format: OutputFormat, options: &EncodeOptions) -> Result<Vec<u8>> {
    match format {
        OutputFormat::Jpeg => jpeg::encode(image, options),
        #[cfg(feature = "png-encode")]
        OutputFormat::Png => png::encode(image, options),
        #[cfg(not(feature = "png-encode"))]
        OutputFormat::Png => Err(crate::error::Error::not_built("PNG output (oxipng)", "png-encode")),
        OutputFormat::Webp => webp::encode(image, options),
        #[cfg(feature = "avif")]
        OutputFormat::Avif => avif::encode(image, options),
        #[cfg(not(feature = "avif"))]
        OutputFormat::Avif => Err(crate::error::Error::not_built("the AVIF encoder", "avif")),
    }
}

/// A palette (lossy) PNG of at most `colors` colours; `None` when the image has soft alpha,
/// which a palette here cannot keep.
pub fn encode_png_palette(image: &Image, colors: u16, options: &EncodeOptions) -> Result<Option<Vec<u8>>> {
    #[cfg(feature = "png-encode")]
    return png::encode_palette(image, colors, options);
    #[cfg(not(feature = "png-encode"))]
    {
        let _ = (image, colors, options);
        Err(crate::error::Error::not_built("lossy PNG (quantette)", "png-encode"))
    }
}

/// The quality a lossy encoder uses when none is given.
pub fn default_quality(format: OutputFormat) -> u8 {
    match format {
        // ~ the same visual quality: AVIF's scale runs lower (as sharp's defaults do).
        OutputFormat::Avif => 60,
        _ => 80,
    }
}

/// True for formats whose `quality` setting changes the output.
pub fn is_lossy(format: OutputFormat, lossless: bool) -> bool {
    match format {
        OutputFormat::Jpeg | OutputFormat::Avif => true,
        OutputFormat::Webp => !lossless,
        OutputFormat::Png => false,
    }
}
