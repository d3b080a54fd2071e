//! WebP: lossy, lossless, alpha; the first frame of animations. Decoded by libwebp (which
//! also encodes), metadata read from the RIFF chunks here.

use image::error::{DecodingError, ImageFormatHint};
use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageResult};
use libwebp_sys as webp;

use super::{Metadata, Opened};
use crate::error::{Error, Result};
use crate::limits::{Limits, MAX_METADATA_BYTES};

pub(super) fn open<'a>(bytes: &'a [u8], _limits: &Limits) -> Result<Opened<LibwebpDecoder<'a>>> {
    // Headers only: the RIFF container and the first image's header.
    // SAFETY: libwebp reads at most `bytes.len()` bytes and fills in the features struct.
    let features = unsafe {
        let mut f: webp::WebPBitstreamFeatures = std::mem::zeroed();
        let status = webp::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut f);
        if status != webp::VP8StatusCode::VP8_STATUS_OK {
            return Err(Error::corrupt("webp", format!("unreadable header ({status:?})")));
        }
        f
    };
    let (width, height) = (features.width.max(0) as u32, features.height.max(0) as u32);
    let animated = features.has_animation != 0;
    let frame_count = if animated { chunks(bytes).filter(|(tag, _)| *tag == b"ANMF").count().max(1) as u32 } else { 1 };
    // A metadata chunk is a slice of the file (a chunk claiming more than the file ends the
    // walk): nothing is allocated at a size the file only declares (a fuzzer find, once).
    let chunk = |want: &[u8; 4]| {
        chunks(bytes)
            .find(|(tag, _)| *tag == want)
            .map(|(_, data)| data)
            .filter(|d| !d.is_empty() && d.len() as u64 <= MAX_METADATA_BYTES)
            .map(<[u8]>::to_vec)
    };
    let metadata = Metadata { exif: chunk(b"EXIF"), icc_profile: chunk(b"ICCP") };
    let decoder = LibwebpDecoder { bytes, width, height, alpha: features.has_alpha != 0, animated };
    Ok(Opened { decoder, frame_count, metadata: Some(metadata) })
}

/// The top-level RIFF chunks after the `WEBP` tag, as `(tag, data)`, each one whole.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    let mut pos = Some(12usize);
    std::iter::from_fn(move || {
        let at = pos?;
        let tag: &[u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let len = u32::from_le_bytes(bytes.get(at + 4..at.checked_add(8)?)?.try_into().ok()?);
        let start = at + 8;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        let data = bytes.get(start..end)?;
        pos = end.checked_add(len as usize & 1); // chunks are padded to even sizes
        Some((tag, data))
    })
}

/// libwebp behind `image`'s decoder trait: the first frame (composited on its canvas for
/// animations), RGBA when the file declares alpha, else RGB.
pub(super) struct LibwebpDecoder<'a> {
    bytes: &'a [u8],
    width: u32,
    height: u32,
    alpha: bool,
    animated: bool,
}

fn failed(what: &str) -> ImageError {
    ImageError::Decoding(DecodingError::new(ImageFormatHint::Exact(ImageFormat::WebP), what.to_string()))
}

impl LibwebpDecoder<'_> {
    /// The first frame of an animation, composited on its canvas.
    fn first_frame(&self, out: &mut [u8]) -> ImageResult<()> {
        // SAFETY: the animation decoder reads `bytes` (borrowed for its whole life) and returns
        // a canvas of canvas_width x canvas_height x 4 bytes that it owns until deleted; the
        // canvas size is checked against ours before it is read.
        unsafe {
            let mut options: webp::WebPAnimDecoderOptions = std::mem::zeroed();
            if webp::WebPAnimDecoderOptionsInit(&mut options) == 0 {
                return Err(failed("libwebp version mismatch"));
            }
            options.color_mode = webp::WEBP_CSP_MODE::MODE_RGBA;
            let data = webp::WebPData { bytes: self.bytes.as_ptr(), size: self.bytes.len() };
            let dec = webp::WebPAnimDecoderNew(&data, &options);
            if dec.is_null() {
                return Err(failed("the animation could not be read"));
            }
            let mut info: webp::WebPAnimInfo = std::mem::zeroed();
            let mut frame: *mut u8 = std::ptr::null_mut();
            let mut timestamp = 0;
            let ok = webp::WebPAnimDecoderGetInfo(dec, &mut info) != 0
                && (info.canvas_width, info.canvas_height) == (self.width, self.height)
                && webp::WebPAnimDecoderGetNext(dec, &mut frame, &mut timestamp) != 0
                && !frame.is_null();
            let result = if ok {
                let canvas = std::slice::from_raw_parts(frame, self.width as usize * self.height as usize * 4);
                if self.alpha {
                    out.copy_from_slice(canvas);
                } else {
                    for (o, p) in out.chunks_exact_mut(3).zip(canvas.chunks_exact(4)) {
                        o.copy_from_slice(p.get(..3).unwrap_or(&[0; 3]));
                    }
                }
                Ok(())
            } else {
                Err(failed("the first frame could not be decoded"))
            };
            webp::WebPAnimDecoderDelete(dec);
            result
        }
    }
}

impl ImageDecoder for LibwebpDecoder<'_> {
    fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn color_type(&self) -> ColorType {
        if self.alpha { ColorType::Rgba8 } else { ColorType::Rgb8 }
    }

    fn read_image(self, buf: &mut [u8]) -> ImageResult<()> {
        let channels = if self.alpha { 4 } else { 3 };
        let stride = self.width as usize * channels;
        if buf.len() != stride * self.height as usize {
            return Err(failed("output buffer of the wrong size"));
        }
        if self.animated {
            return self.first_frame(buf);
        }
        // SAFETY: libwebp writes at most `buf.len()` bytes, rows `stride` apart.
        let written = unsafe {
            let (data, size, out, out_size) = (self.bytes.as_ptr(), self.bytes.len(), buf.as_mut_ptr(), buf.len());
            if self.alpha {
                webp::WebPDecodeRGBAInto(data, size, out, out_size, stride as i32)
            } else {
                webp::WebPDecodeRGBInto(data, size, out, out_size, stride as i32)
            }
        };
        if written.is_null() {
            return Err(failed("the image data could not be decoded (truncated or corrupt)"));
        }
        Ok(())
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// Canvas size from the first chunk: VP8X (24-bit sizes), VP8L (14-bit) or VP8 (14-bit).
pub(super) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let b = |i: usize| bytes.get(i).copied().map(u32::from);
    match bytes.get(12..16)? {
        b"VP8X" => Some((1 + (b(24)? | b(25)? << 8 | b(26)? << 16), 1 + (b(27)? | b(28)? << 8 | b(29)? << 16))),
        b"VP8L" => {
            let bits = b(21)? | b(22)? << 8 | b(23)? << 16 | b(24)? << 24;
            Some((1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)))
        }
        b"VP8 " => Some((b(26)? | (b(27)? & 0x3F) << 8, b(28)? | (b(29)? & 0x3F) << 8)),
        _ => None,
    }
}

/// True when the (first) image bitstream is VP8L, i.e. the file is lossless.
pub fn is_lossless(bytes: &[u8]) -> bool {
    let mut pos = 12usize;
    while let Some(tag) = bytes.get(pos..pos.saturating_add(4)) {
        match tag {
            b"VP8L" => return true,
            b"VP8 " => return false,
            _ => {}
        }
        let Some(len) = bytes.get(pos + 4..pos.saturating_add(8)).and_then(|l| <[u8; 4]>::try_from(l).ok()) else {
            return false;
        };
        // Chunks are padded to even sizes. In u64: on wasm32, `8 + len` in usize can wrap to a
        // step of 0 and loop forever on a chunk claiming ~4 GiB.
        let step = 8 + u64::from(u32::from_le_bytes(len)).next_multiple_of(2);
        pos = match usize::try_from(step).ok().and_then(|s| pos.checked_add(s)) {
            Some(p) => p,
            None => return false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_claiming_4_gib_ends_the_walk() {
        // On wasm32 `8 + len` wrapped to 0 for this length and the walk never moved on.
        let mut webp = b"RIFF\0\0\0\0WEBPXXXX\xf8\xff\xff\xffVP8L".to_vec();
        assert!(!is_lossless(&webp));
        webp.truncate(16);
        assert!(!is_lossless(&webp));
        assert!(is_lossless(b"RIFF\0\0\0\0WEBPXXXX\x01\0\0\0..VP8L"));
    }
}
