//! Resizing with `fast_image_resize`: fit modes, premultiplied alpha (no dark fringes on
//! transparent edges), and no upscaling unless asked.

use std::borrow::Cow;

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::{U8x3, U8x4};
use fast_image_resize::{FilterType, MulDiv, ResizeAlg, ResizeOptions, Resizer};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};
use crate::limits::Limits;

/// How the image fits a `width` x `height` box (CSS `object-fit` words, as in sharp).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Fit {
    /// Keep the aspect ratio; as large as possible inside the box.
    #[default]
    Inside,
    /// Keep the aspect ratio; fill the box, cropping the overflow (centred).
    Cover,
    /// Keep the aspect ratio; fit inside the box and pad the rest with the background.
    Contain,
    /// Ignore the aspect ratio; stretch to the box.
    Fill,
}

/// The resampling filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum Kernel {
    Nearest,
    Linear,
    Mitchell,
    #[default]
    Lanczos3,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResizeRequest {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub kernel: Kernel,
    /// Allow outputs larger than the source.
    pub upscale: bool,
    /// Padding colour for `Fit::Contain` (RGBA, straight alpha).
    pub background: [u8; 4],
}

/// What a request means for one source size, computed before any pixel is touched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResizePlan {
    /// Size the (cropped) source is resampled to.
    pub scaled: (u32, u32),
    /// Source region used, `(left, top, width, height)`, for `cover`.
    pub crop: Option<(f64, f64, f64, f64)>,
    /// Final canvas and where the scaled image sits on it, for `contain`.
    pub canvas: Option<(u32, u32, u32, u32)>,
}

impl ResizePlan {
    pub fn output_size(&self) -> (u32, u32) {
        self.canvas.map_or(self.scaled, |(w, h, _, _)| (w, h))
    }

    pub fn is_identity(&self, src: (u32, u32)) -> bool {
        self.crop.is_none() && self.canvas.is_none() && self.scaled == src
    }
}

fn round_dim(v: f64) -> u32 {
    (v.round() as u32).max(1)
}

impl ResizeRequest {
    pub fn plan(&self, src_w: u32, src_h: u32) -> Result<ResizePlan> {
        let (sw, sh) = (f64::from(src_w), f64::from(src_h));
        let none = ResizePlan { scaled: (src_w, src_h), crop: None, canvas: None };
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if v == Some(0) {
                return Err(Error::option(name, "must be a positive whole number of pixels"));
            }
        }
        let cap = |scale: f64| if self.upscale { scale } else { scale.min(1.0) };
        let (bw, bh) = match (self.width, self.height) {
            (None, None) => return Ok(none),
            // One side given: the other follows the aspect ratio, whatever the fit.
            (Some(w), None) => {
                let s = cap(f64::from(w) / sw);
                return Ok(ResizePlan { scaled: (round_dim(sw * s), round_dim(sh * s)), ..none });
            }
            (None, Some(h)) => {
                let s = cap(f64::from(h) / sh);
                return Ok(ResizePlan { scaled: (round_dim(sw * s), round_dim(sh * s)), ..none });
            }
            (Some(w), Some(h)) => (f64::from(w), f64::from(h)),
        };
        Ok(match self.fit {
            Fit::Inside => {
                let s = cap((bw / sw).min(bh / sh));
                ResizePlan { scaled: (round_dim(sw * s), round_dim(sh * s)), ..none }
            }
            Fit::Fill => {
                let (w, h) = if self.upscale { (bw, bh) } else { (bw.min(sw), bh.min(sh)) };
                ResizePlan { scaled: (round_dim(w), round_dim(h)), ..none }
            }
            Fit::Cover => {
                // The largest centred region of the box's aspect ratio.
                let aspect = bw / bh;
                let (cw, ch) = if sw / sh > aspect { (sh * aspect, sh) } else { (sw, sw / aspect) };
                let (left, top) = ((sw - cw) / 2.0, (sh - ch) / 2.0);
                // Without upscaling, a box larger than that region shrinks to it.
                let s = cap(bw / cw);
                ResizePlan {
                    scaled: (round_dim(cw * s), round_dim(ch * s)),
                    crop: Some((left, top, cw, ch)),
                    canvas: None,
                }
            }
            Fit::Contain => {
                let s = cap((bw / sw).min(bh / sh));
                let (iw, ih) = (round_dim(sw * s), round_dim(sh * s));
                let (cw, ch) = (bw as u32, bh as u32);
                ResizePlan {
                    scaled: (iw.min(cw), ih.min(ch)),
                    crop: None,
                    canvas: Some((cw, ch, (cw - iw.min(cw)) / 2, (ch - ih.min(ch)) / 2)),
                }
            }
        })
    }
}

/// Applies `plan` to `image`. Output dimensions are checked against `limits` first.
/// The image itself (borrowed, not copied) when the plan changes nothing: a full-size
/// re-encode of a 24 MP photo would otherwise hold a second 72 MiB copy of its pixels.
pub fn resize<'i>(image: &'i Image, plan: &ResizePlan, req: &ResizeRequest, limits: &Limits) -> Result<Cow<'i, Image>> {
    let (ow, oh) = plan.output_size();
    limits.check_dimensions(ow, oh)?;
    if plan.is_identity((image.width, image.height)) {
        return Ok(Cow::Borrowed(image));
    }
    let scaled = resample(image, plan, req.kernel)?;
    Ok(Cow::Owned(match plan.canvas {
        None => scaled,
        Some((cw, ch, x, y)) => pad(&scaled, cw, ch, x, y, req.background),
    }))
}

fn resample(image: &Image, plan: &ResizePlan, kernel: Kernel) -> Result<Image> {
    let (w, h) = plan.scaled;
    let algorithm = match kernel {
        Kernel::Nearest => ResizeAlg::Nearest,
        Kernel::Linear => ResizeAlg::Convolution(FilterType::Bilinear),
        Kernel::Mitchell => ResizeAlg::Convolution(FilterType::Mitchell),
        Kernel::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    // Transparent pixels are premultiplied before filtering: no dark fringes. fast_image_resize
    // does that (mul_div_alpha) on a premultiplied copy of the source, which an RGBA image whose
    // every pixel is opaque (common in PNGs) does not need: the same output without that copy
    // and its two passes. When the copy is needed we make it here, as the library would (whole
    // source, then filter, then un-premultiply), but before the output buffer: the copy then
    // fits the hole the freed input file left (a big PNG's file is about its pixels' size),
    // where the library's copy, made after our output buffer took part of that hole, did not
    // (24 MP transparent noise PNG to 1600 px: 3.06x -> 2.40x its RGBA size).
    let (cw, ch) = plan.crop.map_or((image.width as f64, image.height as f64), |(_, _, cw, ch)| (cw, ch));
    let copies = matches!(algorithm, ResizeAlg::Nearest) || (cw, ch) == (f64::from(w), f64::from(h));
    let premultiply = image.layout == PixelLayout::Rgba8 && !copies && image.has_transparency();
    let mut options = ResizeOptions::new().resize_alg(algorithm).use_alpha(false);
    if let Some((left, top, cw, ch)) = plan.crop {
        options = options.crop(left, top, cw, ch);
    }
    let source = if premultiply { Cow::Owned(premultiplied(image)?) } else { Cow::Borrowed(image) };
    let mut out = vec![0u8; w as usize * h as usize * image.layout.channels()];
    // The typed API, one instantiation per layout we use: `Resizer::resize` dispatches over
    // every pixel type at run time, which links 16-bit and float paths (and a 512 KB
    // reciprocal table for 16-bit alpha) into the wasm for nothing.
    let resized = match image.layout {
        PixelLayout::Rgb8 => resample_typed::<U8x3>(&source, &mut out, (w, h), &options),
        PixelLayout::Rgba8 => resample_typed::<U8x4>(&source, &mut out, (w, h), &options),
    };
    drop(source);
    resized
        .and_then(|()| if premultiply { unpremultiply(&mut out, (w, h)) } else { Ok(()) })
        .map_err(|e| Error::option("width", format!("cannot resize to {w}x{h}: {e}")))?;
    Ok(Image::new(w, h, image.layout, out))
}

fn resample_typed<P: fast_image_resize::PixelTrait>(
    image: &Image,
    out: &mut [u8],
    (w, h): (u32, u32),
    options: &ResizeOptions,
) -> std::result::Result<(), String> {
    let src = TypedImageRef::<P>::from_buffer(image.width, image.height, &image.pixels).map_err(|e| e.to_string())?;
    let mut dst = TypedImage::<P>::from_buffer(w, h, out).map_err(|e| e.to_string())?;
    Resizer::new().resize_typed(&src, &mut dst, options).map_err(|e| e.to_string())
}

/// `image` (RGBA) with its colour channels multiplied by alpha, as fast_image_resize does.
fn premultiplied(image: &Image) -> Result<Image> {
    let mut pixels = Vec::new();
    pixels.try_reserve_exact(image.pixels.len()).map_err(|_| Error::TooLarge {
        budget: crate::error::Budget::Bytes,
        detail: format!("resizing needs a premultiplied copy of {} bytes, more than are free", image.pixels.len()),
    })?;
    pixels.resize(image.pixels.len(), 0);
    multiply_alpha(image, &mut pixels)
        .map_err(|e| Error::option("width", format!("cannot premultiply for resizing: {e}")))?;
    Ok(Image::new(image.width, image.height, PixelLayout::Rgba8, pixels))
}

fn multiply_alpha(image: &Image, out: &mut [u8]) -> std::result::Result<(), String> {
    let src =
        TypedImageRef::<U8x4>::from_buffer(image.width, image.height, &image.pixels).map_err(|e| e.to_string())?;
    let mut dst = TypedImage::<U8x4>::from_buffer(image.width, image.height, out).map_err(|e| e.to_string())?;
    MulDiv::new().multiply_alpha_typed(&src, &mut dst).map_err(|e| e.to_string())
}

fn unpremultiply(pixels: &mut [u8], (w, h): (u32, u32)) -> std::result::Result<(), String> {
    let mut image = TypedImage::<U8x4>::from_buffer(w, h, pixels).map_err(|e| e.to_string())?;
    MulDiv::new().divide_alpha_inplace_typed(&mut image).map_err(|e| e.to_string())
}

/// Places `image` at (x, y) on a `width` x `height` canvas of `background`.
fn pad(image: &Image, width: u32, height: u32, x: u32, y: u32, background: [u8; 4]) -> Image {
    // Opaque padding on an opaque image stays RGB; anything else needs alpha.
    let layout =
        if image.layout == PixelLayout::Rgb8 && background[3] == 255 { PixelLayout::Rgb8 } else { PixelLayout::Rgba8 };
    let source = if layout == image.layout { image.clone() } else { image.to_rgba() };
    let c = layout.channels();
    let mut pixels = Vec::with_capacity(width as usize * height as usize * c);
    for _ in 0..(width as usize * height as usize) {
        pixels.extend_from_slice(&background[..c]);
    }
    let row = source.width as usize * c;
    for (i, src_row) in source.pixels.chunks_exact(row).enumerate() {
        let start = ((y as usize + i) * width as usize + x as usize) * c;
        pixels[start..start + row].copy_from_slice(src_row);
    }
    Image::new(width, height, layout, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_rgba_resizes_as_with_premultiplication_and_transparent_rgba_is_premultiplied() {
        let (w, h) = (97u32, 61u32);
        let mut pixels = Vec::new();
        for i in 0..w * h {
            let v = i.wrapping_mul(2_654_435_761);
            pixels.extend_from_slice(&[(v >> 8) as u8, (v >> 16) as u8, (v >> 24) as u8, 255]);
        }
        let opaque = Image::new(w, h, PixelLayout::Rgba8, pixels);
        let plan = ResizePlan { scaled: (40, 25), crop: None, canvas: None };
        let alg = ResizeAlg::Convolution(FilterType::Lanczos3);
        let with_alpha = |image: &Image, use_alpha: bool| {
            let mut out = vec![0u8; 40 * 25 * 4];
            let options = ResizeOptions::new().resize_alg(alg).use_alpha(use_alpha);
            resample_typed::<U8x4>(image, &mut out, (40, 25), &options).unwrap();
            out
        };
        let ours = resample(&opaque, &plan, Kernel::Lanczos3).unwrap();
        assert_eq!(ours.pixels, with_alpha(&opaque, true), "opaque: identical to the premultiplied path");
        assert!(ours.pixels.chunks_exact(4).all(|p| p[3] == 255));

        // One transparent pixel: the premultiplied path, which differs from the plain one.
        let mut holed = opaque.clone();
        holed.pixels[4 * (30 * w as usize + 50)..][..4].copy_from_slice(&[255, 255, 255, 0]);
        let ours = resample(&holed, &plan, Kernel::Lanczos3).unwrap();
        assert_eq!(ours.pixels, with_alpha(&holed, true), "our premultiplied copy: identical to the library's");
        assert_ne!(ours.pixels, with_alpha(&holed, false));

        // Cropped (fit: cover), and a crop the size of the output (copied, not filtered).
        for (crop, scaled) in [((3.5, 2.0, 80.0, 50.0), (40, 25)), ((10.0, 5.0, 40.0, 25.0), (40, 25))] {
            let plan = ResizePlan { scaled, crop: Some(crop), canvas: None };
            let ours = resample(&holed, &plan, Kernel::Lanczos3).unwrap();
            let mut out = vec![0u8; 40 * 25 * 4];
            let options = ResizeOptions::new().resize_alg(alg).crop(crop.0, crop.1, crop.2, crop.3);
            resample_typed::<U8x4>(&holed, &mut out, scaled, &options).unwrap();
            assert_eq!(ours.pixels, out, "crop {crop:?}");
        }
    }

    fn req(width: Option<u32>, height: Option<u32>, fit: Fit) -> ResizeRequest {
        ResizeRequest { width, height, fit, kernel: Kernel::Lanczos3, upscale: false, background: [0; 4] }
    }

    #[test]
    fn fit_modes_plan_the_documented_sizes() {
        // 4000x3000 source into an 800x800 box.
        assert_eq!(req(Some(800), Some(800), Fit::Inside).plan(4000, 3000).unwrap().output_size(), (800, 600));
        assert_eq!(req(Some(800), Some(800), Fit::Cover).plan(4000, 3000).unwrap().output_size(), (800, 800));
        assert_eq!(req(Some(800), Some(800), Fit::Contain).plan(4000, 3000).unwrap().output_size(), (800, 800));
        assert_eq!(req(Some(800), Some(800), Fit::Fill).plan(4000, 3000).unwrap().output_size(), (800, 800));
        assert_eq!(req(Some(800), None, Fit::Cover).plan(4000, 3000).unwrap().output_size(), (800, 600));
        assert_eq!(req(None, Some(300), Fit::Inside).plan(4000, 3000).unwrap().output_size(), (400, 300));
    }

    #[test]
    fn never_upscales_unless_asked() {
        let small = req(Some(2000), None, Fit::Inside);
        assert_eq!(small.plan(400, 300).unwrap().output_size(), (400, 300));
        let up = ResizeRequest { upscale: true, ..small };
        assert_eq!(up.plan(400, 300).unwrap().output_size(), (2000, 1500));
        // cover without upscaling shrinks to the largest region of the box's shape.
        assert_eq!(req(Some(1000), Some(1000), Fit::Cover).plan(400, 300).unwrap().output_size(), (300, 300));
    }

    #[test]
    fn zero_is_an_invalid_option() {
        assert_eq!(req(Some(0), None, Fit::Inside).plan(10, 10).unwrap_err().code(), "INVALID_OPTION");
    }
}
