//! Decoding: one module per input format behind `open`, then the shared steps every
//! format needs (limits from the header, EXIF orientation, colour profile).
//!
//! `probe` reads headers only; `decode` produces upright 8-bit pixels.

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bmp;
// Colour management (qcms) is a pixel stage: out of the probe-only build.
#[cfg(feature = "pixels")]
pub mod color;
pub(crate) mod gif;
mod jpeg;
mod pixels;
mod png;
pub mod webp;

use image::{ImageDecoder, metadata::Orientation};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::limits::Limits;
use crate::sniff::{Format, sniff};

/// A format module's answer: a header-parsed decoder plus what only that format knows.
/// Each module returns its concrete decoder: `probe` calls it directly (so a build that only
/// probes links header parsing and no pixel decoding), `decode` boxes it.
pub(crate) struct Opened<D: ImageDecoder> {
    pub decoder: D,
    /// Frames in the file (1 for stills); counted from headers, never decoded.
    pub frame_count: u32,
    /// Metadata the format module read itself (within a budget the decoder would not keep);
    /// `None`: ask the decoder.
    pub metadata: Option<Metadata>,
}

/// Raw EXIF (as stored: may start with `Exif\0\0`) and ICC profile.
pub(crate) struct Metadata {
    pub exif: Option<Vec<u8>>,
    pub icc_profile: Option<Vec<u8>>,
}

/// What `decode` works with: any format's decoder behind one type.
type Boxed<'a> = Opened<Box<dyn ImageDecoder + 'a>>;

impl<D: ImageDecoder> Opened<D> {
    fn boxed<'a>(self) -> Boxed<'a>
    where
        D: 'a,
    {
        Opened { decoder: Box::new(self.decoder), frame_count: self.frame_count, metadata: self.metadata }
    }

    /// The EXIF orientation and the raw EXIF (TIFF) block.
    fn orientation(&mut self) -> (Orientation, Option<Vec<u8>>) {
        match &mut self.metadata {
            Some(m) => read_orientation_from(Orientation::NoTransforms, m.exif.take()),
            None => read_orientation(&mut self.decoder),
        }
    }

    /// The ICC profile; broken metadata must not cost the pixels: unreadable counts as absent.
    fn icc_profile(&mut self) -> Option<Vec<u8>> {
        let icc = match &mut self.metadata {
            Some(m) => m.icc_profile.take(),
            None => self.decoder.icc_profile().ok().flatten(),
        };
        icc.filter(|p| !p.is_empty())
    }
}

/// Stored width and height straight from the header bytes, before any decoder is built
/// (some decoders size buffers as they open, and on wasm32 that can fail or overflow).
fn header_size(format: Format, bytes: &[u8]) -> Option<(u32, u32)> {
    match format {
        Format::Jpeg => jpeg::header_size(bytes),
        Format::Png => png::header_size(bytes),
        Format::Gif => gif::header_size(bytes),
        Format::Webp => webp::header_size(bytes),
        Format::Bmp => bmp::header_size(bytes),
        Format::Avif => None,
    }
}

fn open<'a>(format: Format, bytes: &'a [u8], limits: &Limits) -> Result<Boxed<'a>> {
    match format {
        Format::Jpeg => jpeg::open(bytes).map(Opened::boxed),
        Format::Png => png::open(bytes, limits).map(Opened::boxed),
        Format::Webp => webp::open(bytes, limits).map(Opened::boxed),
        #[cfg(feature = "gif-bmp")]
        Format::Gif => gif::open(bytes).map(Opened::boxed),
        #[cfg(feature = "gif-bmp")]
        Format::Bmp => bmp::open(bytes).map(Opened::boxed),
        #[cfg(not(feature = "gif-bmp"))]
        Format::Gif | Format::Bmp => Err(Error::not_built("GIF and BMP decoding", "gif-bmp")),
        Format::Avif => Err(avif_not_decoded()),
    }
}

fn avif_not_decoded() -> Error {
    Error::UnsupportedFormat {
        what: "AVIF input is not decoded by the core yet (browsers can decode it with createImageBitmap)".into(),
    }
}

/// What `probe` learns from headers alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ProbeInfo {
    /// `jpeg`, `png`, `gif`, `webp` or `bmp`.
    pub format: &'static str,
    /// Width as displayed, after EXIF orientation.
    pub width: u32,
    /// Height as displayed, after EXIF orientation.
    pub height: u32,
    /// EXIF orientation, 1 (upright) to 8.
    pub orientation: u8,
    /// The image has an alpha channel (it may still be fully opaque).
    pub has_alpha: bool,
    pub animated: bool,
    pub frame_count: u32,
    /// An embedded ICC colour profile is present.
    pub has_icc_profile: bool,
    /// Stored width before orientation.
    pub stored_width: u32,
    pub stored_height: u32,
}

/// Reads the header of `bytes`: no pixels are decoded.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<ProbeInfo> {
    limits.check_input_bytes(bytes.len())?;
    let format = sniff(bytes)?;
    // One call per concrete decoder type (no `dyn`): only header methods get linked.
    match format {
        Format::Jpeg => probe_opened(format, jpeg::open(bytes)?),
        Format::Png => probe_opened(format, png::open(bytes, limits)?),
        Format::Gif => probe_opened(format, gif::open(bytes)?),
        Format::Webp => probe_opened(format, webp::open(bytes, limits)?),
        Format::Bmp => probe_opened(format, bmp::open(bytes)?),
        Format::Avif => Err(avif_not_decoded()),
    }
}

fn probe_opened<D: ImageDecoder>(format: Format, mut opened: Opened<D>) -> Result<ProbeInfo> {
    let (w, h) = opened.decoder.dimensions();
    ensure_not_empty(format, w, h)?;
    let has_alpha = opened.decoder.color_type().has_alpha();
    let (orientation, _) = opened.orientation();
    let has_icc_profile = opened.icc_profile().is_some();
    let (width, height) = if swaps_axes(orientation) { (h, w) } else { (w, h) };
    Ok(ProbeInfo {
        format: format.name(),
        width,
        height,
        orientation: orientation.to_exif(),
        has_alpha,
        animated: opened.frame_count > 1,
        frame_count: opened.frame_count,
        has_icc_profile,
        stored_width: w,
        stored_height: h,
    })
}

/// Decoded, upright pixels plus the metadata later stages may keep.
#[derive(Debug)]
pub struct Decoded {
    pub format: Format,
    pub image: Image,
    /// The EXIF orientation that was applied (1 = none).
    pub orientation: u8,
    pub icc_profile: Option<Vec<u8>>,
    /// Raw EXIF (TIFF) with its orientation tag reset to 1, since the pixels are upright.
    pub exif: Option<Vec<u8>>,
    pub frame_count: u32,
    /// The source was CMYK (its profile, if any, does not describe the RGB pixels).
    pub was_cmyk: bool,
}

/// Decodes the first frame of `bytes` into upright 8-bit pixels, within `limits`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded> {
    limits.check_input_bytes(bytes.len())?;
    let format = sniff(bytes)?;
    if let Some((w, h)) = header_size(format, bytes) {
        limits.check_dimensions(w, h)?;
    }
    if format == Format::Jpeg {
        jpeg::ensure_complete(bytes)?; // probe skips this: it may see only a header slice
    }
    // A GIF frame may be larger than its logical screen (a 65535x65535 frame on a 32x32
    // screen): the decoder sizes its frame buffer from the frame, so check every frame.
    if format == Format::Gif
        && let Some((fw, fh)) = gif::walk(bytes).largest
    {
        limits.check_dimensions(fw, fh)?;
    }
    let mut opened = open(format, bytes, limits)?;
    let (w, h) = opened.decoder.dimensions();
    limits.check_dimensions(w, h)?;
    ensure_not_empty(format, w, h)?;

    // Metadata is read under the header budget `open` set (a chunk claiming 4 GiB is not
    // allocated); only then may the decoder allocate for pixels.
    let (orientation, mut exif) = opened.orientation();
    let icc_profile = opened.icc_profile();
    opened.decoder.set_limits(limits.decoder_limits()).map_err(|e| Error::from_image(format.name(), e))?;
    if let Some(exif) = exif.as_mut() {
        let _ = Orientation::remove_from_exif_chunk(exif);
    }
    let was_cmyk = format == Format::Jpeg && jpeg::is_cmyk(bytes);
    let frame_count = opened.frame_count;

    let image = pixels::read_image(opened.decoder, format.name())?;
    let image = pixels::apply_orientation(image, orientation);

    Ok(Decoded { format, image, orientation: orientation.to_exif(), icc_profile, exif, frame_count, was_cmyk })
}

/// The EXIF orientation and the raw EXIF (TIFF) block. Some writers (libwebp, ImageMagick)
/// keep JPEG's `Exif\0\0` prefix inside WebP/PNG EXIF chunks; the TIFF data starts after it.
fn read_orientation(decoder: &mut impl ImageDecoder) -> (Orientation, Option<Vec<u8>>) {
    let from_decoder = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    read_orientation_from(from_decoder, decoder.exif_metadata().ok().flatten())
}

/// The orientation a decoder reported, else the one in `exif`; and the EXIF's TIFF block.
fn read_orientation_from(from_decoder: Orientation, exif: Option<Vec<u8>>) -> (Orientation, Option<Vec<u8>>) {
    let exif = exif.map(|mut e| {
        if e.starts_with(b"Exif\0\0") {
            e.drain(..6);
        }
        e
    });
    let exif = exif.filter(|e| !e.is_empty());
    let orientation = match from_decoder {
        Orientation::NoTransforms => exif.as_deref().and_then(Orientation::from_exif_chunk).unwrap_or(from_decoder),
        o => o,
    };
    (orientation, exif)
}

/// A header declaring a 4x0 image (a GIF screen can) decodes "successfully" to no pixels,
/// which no later stage can resize or encode: a fuzzer find. It is a corrupt file.
fn ensure_not_empty(format: Format, w: u32, h: u32) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(Error::corrupt(format.name(), format!("the header declares an empty {w} x {h} image")));
    }
    Ok(())
}

fn swaps_axes(o: Orientation) -> bool {
    use Orientation::*;
    matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// A cursor over borrowed bytes, as every `image` decoder wants `BufRead + Seek`.
pub(crate) fn reader(bytes: &[u8]) -> std::io::Cursor<&[u8]> {
    std::io::Cursor::new(bytes)
}
