//! JPEG: baseline, progressive, grayscale, CMYK (converted to RGB by zune-jpeg).
//!
//! zune-jpeg is driven directly rather than through `image`'s wrapper, which copies the
//! whole file into a Vec, parses the headers again for the ICC profile, the EXIF and the
//! pixels, and instantiates the decoder for two reader types: here the file is borrowed,
//! headers are parsed once, and one decoder type is linked (core module -43.7 KB raw, -12.0 KB gzip).

use image::error::{DecodingError, ImageFormatHint, LimitError, LimitErrorKind};
use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageResult};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::errors::DecodeErrors;

use super::{Metadata, Opened};
use crate::error::{Error, Result};
use crate::limits::MAX_METADATA_BYTES;

type Zune<'a> = zune_jpeg::JpegDecoder<ZCursor<&'a [u8]>>;

/// A JPEG whose headers are parsed: pixels come out as RGB, or as grey for one-channel files.
pub(super) struct ZuneJpegDecoder<'a> {
    decoder: Zune<'a>,
    width: u32,
    height: u32,
    grey: bool,
}

pub(super) fn open(bytes: &[u8]) -> Result<Opened<ZuneJpegDecoder<'_>>> {
    // Limits are ours (checked on the header before this); zune's own default caps at 16384 px.
    let options = DecoderOptions::default().set_strict_mode(false).set_max_width(usize::MAX).set_max_height(usize::MAX);
    let mut decoder = Zune::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| Error::from_image("jpeg", image_error(e)))?;
    let (Some((width, height)), Some(colorspace)) = (decoder.dimensions(), decoder.input_colorspace()) else {
        return Err(Error::corrupt("jpeg", "no frame header"));
    };
    let grey = colorspace == ColorSpace::Luma;
    // CMYK/YCCK and the rest become RGB inside the decoder; Luma stays one channel.
    let out = if grey { ColorSpace::Luma } else { ColorSpace::RGB };
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(out));
    let keep = |d: Option<Vec<u8>>| d.filter(|d| !d.is_empty() && d.len() as u64 <= MAX_METADATA_BYTES);
    let metadata = Metadata { exif: keep(decoder.exif().cloned()), icc_profile: keep(decoder.icc_profile()) };
    // JPEG sizes are 16-bit, so these conversions cannot truncate.
    let (width, height) = (width as u32, height as u32);
    Ok(Opened { decoder: ZuneJpegDecoder { decoder, width, height, grey }, frame_count: 1, metadata: Some(metadata) })
}

/// zune's error as `image`'s, so that `Error::from_image` gives it the usual code.
fn image_error(err: DecodeErrors) -> ImageError {
    let hint = ImageFormatHint::Exact(ImageFormat::Jpeg);
    match err {
        DecodeErrors::LargeDimensions(_) => ImageError::Limits(LimitError::from_kind(LimitErrorKind::DimensionError)),
        DecodeErrors::Unsupported(what) => {
            ImageError::Unsupported(image::error::UnsupportedError::from_format_and_kind(
                hint,
                image::error::UnsupportedErrorKind::GenericFeature(format!("{what:?}")),
            ))
        }
        other => ImageError::Decoding(DecodingError::new(hint, other)),
    }
}

impl ImageDecoder for ZuneJpegDecoder<'_> {
    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn color_type(&self) -> ColorType {
        if self.grey { ColorType::L8 } else { ColorType::Rgb8 }
    }

    fn read_image(mut self, buf: &mut [u8]) -> ImageResult<()> {
        if Some(buf.len()) != self.decoder.output_buffer_size() {
            let hint = ImageFormatHint::Exact(ImageFormat::Jpeg);
            return Err(ImageError::Decoding(DecodingError::new(hint, "output buffer of the wrong size")));
        }
        self.decoder.decode_into(buf).map_err(image_error)
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// A JPEG cut short decodes "successfully" as a grey smear in lenient decoders; re-encoding
/// would bake that in, so we refuse it. After the first scan (SOS), entropy-coded data
/// stuffs every 0xFF, so an FF D9 there can only be the end-of-image marker.
///
/// The first scan is found by walking the marker segments: searching the bytes for FF DA
/// would find the scan of the EXIF thumbnail (a whole JPEG inside APP1, with its own FF D9),
/// and a file cut inside its main scan would pass as complete.
pub(super) fn ensure_complete(bytes: &[u8]) -> Result<()> {
    let sos = match segments(bytes).find(|&(marker, _)| marker == 0xDA) {
        Some((_, at)) => Some(at),
        // A marker structure we cannot walk: search as lenient decoders do.
        None => bytes.windows(2).position(|w| w == [0xFF, 0xDA]),
    };
    let Some(sos) = sos else {
        return Err(Error::corrupt("jpeg", "truncated: no image data (no start-of-scan marker)"));
    };
    if !bytes.get(sos..).unwrap_or_default().windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(Error::corrupt("jpeg", "truncated: the file ends before its end-of-image marker"));
    }
    Ok(())
}

/// The marker segments before the first scan, as `(marker, offset of its FF)`, ending with
/// the SOS itself; stops at the first byte that is not a marker.
fn segments(bytes: &[u8]) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut pos = Some(2usize);
    std::iter::from_fn(move || {
        loop {
            let at = pos?;
            let (&0xFF, &marker) = (bytes.get(at)?, bytes.get(at + 1)?) else { return None };
            match marker {
                0xFF => pos = Some(at + 1), // fill byte
                // Standalone markers (TEM, RSTn) have no length.
                0x01 | 0xD0..=0xD7 => {
                    pos = Some(at + 2);
                    return Some((marker, at));
                }
                0xDA => {
                    pos = None;
                    return Some((marker, at));
                }
                _ => {
                    let len = usize::from(u16::from_be_bytes(bytes.get(at + 2..at + 4)?.try_into().ok()?));
                    pos = Some(at + 2 + len.max(2)); // a length under 2 would not move on
                    return Some((marker, at));
                }
            }
        }
    })
}

/// The start-of-frame segment's payload (precision, height, width, components...).
/// Walks marker segments up to the first SOF; `None` when the structure is unreadable.
fn frame_header(bytes: &[u8]) -> Option<&[u8]> {
    let (_, at) =
        segments(bytes).find(|&(marker, _)| matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))?;
    let len = usize::from(u16::from_be_bytes(bytes.get(at + 2..at + 4)?.try_into().ok()?));
    bytes.get(at + 4..at + 2 + len.max(8))
}

/// True when the frame declares 4 components (CMYK or YCCK).
pub(super) fn is_cmyk(bytes: &[u8]) -> bool {
    frame_header(bytes).and_then(|f| f.get(5)) == Some(&4)
}

pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let f = frame_header(bytes)?;
    let be = |i: usize| Some(u32::from(u16::from_be_bytes(f.get(i..i + 2)?.try_into().ok()?)));
    Some((be(3)?, be(1)?))
}
