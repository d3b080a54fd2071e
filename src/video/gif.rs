//! Animated GIF -> video frames: composited, flattened onto a background (video has no
//! alpha), resized to fit, one frame at a time so that memory holds a single frame whatever
//! the length. Each frame comes with its display time as browsers play GIFs.

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use image::AnimationDecoder;
use image::codecs::gif::GifDecoder;
use serde::Deserialize;

use crate::decode::gif::{header_size, walk};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};
use crate::limits::{DEFAULT_MAX_FRAMES, Limits};
use crate::resize::{Fit, Kernel, ResizePlan, ResizeRequest, resize};

/// Browsers (Chromium, Firefox, Safari) play GIF delays of 0 and 1 hundredths of a second
/// as 100 ms: many GIFs rely on it, so their videos keep that pace.
pub const SHORT_DELAY_MS: u32 = 10;
pub const BROWSER_DEFAULT_DELAY_MS: u32 = 100;

/// How frames are prepared for a video encoder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GifFramesOptions {
    /// Fit inside this box (never upscaled).
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    /// Round the size down to even numbers (4:2:0 video such as H.264 needs them).
    pub even: bool,
    /// What transparent pixels become (RGB).
    pub background: [u8; 3],
    pub max_frames: u32,
    pub max_pixels: u64,
}

impl Default for GifFramesOptions {
    fn default() -> Self {
        GifFramesOptions {
            max_width: None,
            max_height: None,
            even: true,
            background: [255, 255, 255],
            max_frames: DEFAULT_MAX_FRAMES,
            max_pixels: Limits::default().max_pixels,
        }
    }
}

impl GifFramesOptions {
    pub fn from_json(json: &str) -> Result<Self> {
        Error::options_from_json(json)
    }
}

/// One frame ready for an encoder: opaque RGBA at the output size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GifFrame {
    pub index: u32,
    pub image: Image,
    /// When it appears, from the start (milliseconds).
    pub timestamp_ms: u64,
    pub duration_ms: u32,
}

/// A pull iterator over a GIF's frames.
pub struct GifFrames {
    frames: image::Frames<'static>,
    /// The logical screen every frame is composited onto.
    pub source_width: u32,
    pub source_height: u32,
    pub width: u32,
    pub height: u32,
    /// Frames the block structure declares (what `next_frame` will yield unless it is corrupt).
    pub frame_count: u32,
    resize: Option<(ResizePlan, ResizeRequest)>,
    background: [u8; 3],
    limits: Limits,
    next_index: u32,
    elapsed_ms: u64,
}

impl std::fmt::Debug for GifFrames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GifFrames({}x{} -> {}x{}, {} frames)",
            self.source_width, self.source_height, self.width, self.height, self.frame_count
        )
    }
}

/// The display time of a GIF delay, as browsers use it.
pub fn display_ms(delay: image::Delay) -> u32 {
    let (numer, denom) = delay.numer_denom_ms();
    let ms = if denom == 0 { 0 } else { (u64::from(numer) + u64::from(denom) / 2) / u64::from(denom) };
    let ms = u32::try_from(ms).unwrap_or(u32::MAX);
    if ms <= SHORT_DELAY_MS { BROWSER_DEFAULT_DELAY_MS } else { ms }
}

impl GifFrames {
    /// Reads the header and block structure (no image data) and checks every budget.
    pub fn open(bytes: Vec<u8>, options: &GifFramesOptions) -> Result<Self> {
        if !matches!(crate::sniff::sniff(&bytes), Ok(crate::sniff::Format::Gif)) {
            return Err(Error::UnsupportedFormat { what: "GIF to video needs a GIF input".into() });
        }
        let limits = Limits { max_pixels: options.max_pixels, ..Limits::default() };
        limits.check_input_bytes(bytes.len())?;
        let (sw, sh) = header_size(&bytes).ok_or_else(|| Error::corrupt("gif", "cut inside its header"))?;
        if sw == 0 || sh == 0 {
            return Err(Error::corrupt("gif", format!("its screen is {sw}x{sh} pixels")));
        }
        let declared = walk(&bytes);
        if declared.count == 0 {
            return Err(Error::corrupt("gif", "no image in it"));
        }
        limits.check_animation(sw, sh, declared.count, options.max_frames)?;
        if let Some((fw, fh)) = declared.largest {
            limits.check_dimensions(fw, fh)?;
        }

        let request = ResizeRequest {
            width: options.max_width,
            height: options.max_height,
            fit: Fit::Inside,
            kernel: Kernel::Lanczos3,
            upscale: false,
            background: [0, 0, 0, 255],
        };
        let fitted = request.plan(sw, sh)?.output_size();
        let (width, height) = if options.even { (even(fitted.0), even(fitted.1)) } else { fitted };
        if options.even && (width < 2 || height < 2) {
            return Err(Error::option(
                "maxWidth/maxHeight",
                format!("{}x{} is too small for a video of even dimensions", fitted.0, fitted.1),
            ));
        }
        limits.check_dimensions(width, height)?;
        // The exact size (fill): even rounding may change the aspect ratio by under a pixel.
        let resize = ((width, height) != (sw, sh)).then(|| {
            let exact = ResizeRequest { width: Some(width), height: Some(height), fit: Fit::Fill, ..request };
            exact.plan(sw, sh).map(|plan| (plan, exact))
        });
        let resize = resize.transpose()?;

        let mut decoder = GifDecoder::new(std::io::Cursor::new(bytes)).map_err(|e| Error::from_image("gif", e))?;
        image::ImageDecoder::set_limits(&mut decoder, limits.decoder_limits())
            .map_err(|e| Error::from_image("gif", e))?;
        Ok(GifFrames {
            frames: decoder.into_frames(),
            source_width: sw,
            source_height: sh,
            width,
            height,
            frame_count: declared.count,
            resize,
            background: options.background,
            limits,
            next_index: 0,
            elapsed_ms: 0,
        })
    }

    /// The next composited frame, or None after the last.
    pub fn next_frame(&mut self) -> Result<Option<GifFrame>> {
        // The block walk counted the frames: a stream that goes on is refused, not followed.
        if self.next_index >= self.frame_count {
            return Ok(None);
        }
        let Some(frame) = self.frames.next() else {
            return Err(Error::corrupt(
                "gif",
                format!("ends after {} of {} frames", self.next_index, self.frame_count),
            ));
        };
        let frame = frame.map_err(|e| match Error::from_image("gif", e) {
            Error::CorruptInput { format, detail } => {
                Error::CorruptInput { format, detail: format!("frame {}: {detail}", self.next_index) }
            }
            other => other,
        })?;
        let duration_ms = display_ms(frame.delay());
        let buffer = frame.into_buffer();
        let (w, h) = buffer.dimensions();
        if (w, h) != (self.source_width, self.source_height) {
            return Err(Error::corrupt(
                "gif",
                format!("frame {} composited at {w}x{h}, not the screen size", self.next_index),
            ));
        }
        let flat = Image::new(w, h, PixelLayout::Rgba8, buffer.into_raw()).flatten(self.background);
        let image = match &self.resize {
            Some((plan, request)) => resize(&flat, plan, request, &self.limits)?.to_rgba(),
            None => flat.to_rgba(),
        };
        let out = GifFrame { index: self.next_index, image, timestamp_ms: self.elapsed_ms, duration_ms };
        self.next_index += 1;
        self.elapsed_ms += u64::from(duration_ms);
        Ok(Some(out))
    }
}

fn even(v: u32) -> u32 {
    v & !1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_delays_play_as_browsers_play_them() {
        let d = |cs: u32| display_ms(image::Delay::from_numer_denom_ms(cs * 10, 1));
        assert_eq!((d(0), d(1), d(2), d(7), d(100)), (100, 100, 20, 70, 1000));
    }
}
