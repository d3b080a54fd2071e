//! Budgets checked BEFORE allocating: a header that claims 100000x100000 pixels is refused
//! from its header, never by running out of memory.

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde::Deserialize;

use crate::error::{Budget, Error, Result};

/// Default pixel budget: 100 megapixels (a 12 MP phone photo is 12).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
/// Default input size budget: 256 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;
/// No axis may exceed this, whatever the pixel budget (AVIF's own limit is 65536).
pub const MAX_DIMENSION: u32 = 65_535;
/// What a decoder may allocate for metadata (ICC profile, EXIF, XMP and text chunks) while
/// it reads the header. Real ICC profiles are at most a few MB (bloated Photoshop XMP can
/// reach tens); a compressed iCCP chunk can inflate ~1000x, so without a bound a 256 KB PNG
/// made the `png` crate allocate over 1 GB.
pub const MAX_METADATA_BYTES: u64 = 32 << 20;
/// Default frame budget for animations turned into video: 10 000 frames (over 16 minutes at
/// 10 fps, where real GIFs have tens to hundreds).
pub const DEFAULT_MAX_FRAMES: u32 = 10_000;
/// Pixels an animation may composite in total (screen size x frames): decoding time grows
/// with it even when memory holds one frame, so a GIF of 10 000 tiny frames on a large
/// screen is refused from its block structure instead of being composited for minutes.
pub const MAX_ANIMATION_PIXELS: u64 = 2_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Limits {
    pub max_pixels: u64,
    pub max_input_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_pixels: DEFAULT_MAX_PIXELS, max_input_bytes: DEFAULT_MAX_INPUT_BYTES }
    }
}

impl Limits {
    pub fn check_input_bytes(&self, len: usize) -> Result<()> {
        if len as u64 > self.max_input_bytes {
            return Err(Error::too_large(Budget::Bytes, len as u64, self.max_input_bytes, "maxInputBytes"));
        }
        Ok(())
    }

    /// Checks dimensions from a header (or a requested output size).
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<()> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(Error::TooLarge {
                budget: Budget::Pixels,
                detail: format!(
                    "{width} x {height} = {pixels} pixels exceeds the limit of {} pixels (option `maxPixels`)",
                    self.max_pixels
                ),
            });
        }
        for (budget, side, value) in [(Budget::Width, "wide", width), (Budget::Height, "high", height)] {
            if value > MAX_DIMENSION {
                return Err(Error::TooLarge {
                    budget,
                    detail: format!(
                        "{value} pixels {side} exceeds the largest supported side of {MAX_DIMENSION} pixels"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks an animation's frame count (as read from its block structure) and the pixels
    /// compositing `frames` frames of `width` x `height` would touch.
    pub fn check_animation(&self, width: u32, height: u32, frames: u32, max_frames: u32) -> Result<()> {
        self.check_dimensions(width, height)?;
        if frames > max_frames {
            return Err(Error::too_large(Budget::Frames, u64::from(frames), u64::from(max_frames), "maxFrames"));
        }
        let total = u64::from(width) * u64::from(height) * u64::from(frames);
        if total > MAX_ANIMATION_PIXELS {
            return Err(Error::TooLarge {
                budget: Budget::Pixels,
                detail: format!(
                    "{frames} frames of {width} x {height} = {total} pixels to composite exceeds the limit of {MAX_ANIMATION_PIXELS}"
                ),
            });
        }
        Ok(())
    }

    /// The allocation budget handed to decoders: the pixel budget as 16-bit RGBA plus slack,
    /// so a decoder's own buffers are bounded too.
    pub fn decoder_limits(&self) -> image::Limits {
        let mut l = image::Limits::default();
        l.max_image_width = Some(MAX_DIMENSION);
        l.max_image_height = Some(MAX_DIMENSION);
        l.max_alloc = Some(self.max_pixels.saturating_mul(8).saturating_add(64 << 20));
        l
    }

    /// The budget handed to a decoder as it opens (parses headers and metadata). For PNG it
    /// bounds the `png` crate's own allocations for the whole decode (metadata and one row:
    /// the pixel buffer is allocated by `image`, against `decoder_limits`).
    /// No size limits here: `probe` reports a header honestly (sizes are checked by
    /// `check_dimensions` where pixels will be allocated).
    pub fn header_limits(&self) -> image::Limits {
        let mut l = image::Limits::no_limits();
        l.max_alloc = Some(MAX_METADATA_BYTES);
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pixel_bombs_by_arithmetic() {
        let l = Limits::default();
        assert!(l.check_dimensions(10_000, 10_000).is_ok());
        let e = l.check_dimensions(20_000, 20_000).unwrap_err();
        assert_eq!(e.code(), "TOO_LARGE");
        assert!(e.to_string().contains("400000000 pixels exceeds the limit of 100000000"), "{e}");
        assert!(l.check_dimensions(65_536, 1).is_err());
    }
}
