//! From a decoder's native layout to our 8-bit RGB(A) `Image`, and EXIF orientation applied
//! to that `Image`.
//!
//! Why not `image`'s `DynamicImage` (`from_decoder`, `into_rgb8`/`into_rgba8`,
//! `apply_orientation`): it is monomorphized for all ten of its pixel types, float ones
//! included, and cost the core module 8.3 KiB gzip (33 KB raw); our decoders produce six layouts
//! and the orientation only ever needs to move 3- or 4-byte pixels. The conversions are
//! those of `image` (16-bit to 8-bit rounds as `(v + 128) / 257`, grey is replicated), so
//! outputs are byte-identical.

use image::metadata::Orientation;
use image::{ColorType, ImageDecoder};

use crate::error::{Budget, Error, Result};
use crate::image::{Image, PixelLayout};

/// Reads all pixels of `decoder` and converts them to 8-bit RGB, or RGBA when the
/// decoded layout has alpha.
pub(super) fn read_image(decoder: Box<dyn ImageDecoder + '_>, format: &'static str) -> Result<Image> {
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let total = usize::try_from(decoder.total_bytes())
        .map_err(|_| Error::too_large(Budget::Bytes, decoder.total_bytes(), usize::MAX as u64, "maxPixels"))?;
    let mut raw = Vec::new();
    raw.try_reserve_exact(total).map_err(|_| Error::TooLarge {
        budget: Budget::Bytes,
        detail: format!("the {format} decoder would need {total} bytes for its pixels, more than are free"),
    })?;
    raw.resize(total, 0);
    decoder.read_image_boxed(&mut raw).map_err(|e| Error::from_image(format, e))?;

    let (layout, pixels) = match color {
        ColorType::Rgb8 => (PixelLayout::Rgb8, raw),
        ColorType::Rgba8 => (PixelLayout::Rgba8, raw),
        ColorType::L8 => (PixelLayout::Rgb8, raw.iter().flat_map(|&l| [l, l, l]).collect()),
        ColorType::La8 => {
            (PixelLayout::Rgba8, raw.as_chunks::<2>().0.iter().flat_map(|&[l, a]| [l, l, l, a]).collect())
        }
        ColorType::Rgb16 => (PixelLayout::Rgb8, samples16(&raw).collect()),
        ColorType::Rgba16 => (PixelLayout::Rgba8, samples16(&raw).collect()),
        ColorType::L16 => (PixelLayout::Rgb8, samples16(&raw).flat_map(|l| [l, l, l]).collect()),
        ColorType::La16 => {
            let la: Vec<u8> = samples16(&raw).collect();
            (PixelLayout::Rgba8, la.as_chunks::<2>().0.iter().flat_map(|&[l, a]| [l, l, l, a]).collect())
        }
        // No decoder in the core produces float (or future) layouts.
        other => {
            return Err(Error::UnsupportedFormat { what: format!("{format}: {other:?} pixels") });
        }
    };
    Ok(Image::new(width, height, layout, pixels))
}

/// Native-endian 16-bit samples (as `ImageDecoder::read_image` writes them) rounded to 8 bits.
fn samples16(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    raw.as_chunks::<2>().0.iter().map(|&b| {
        let v = u32::from(u16::from_ne_bytes(b));
        ((v + 128) / 257) as u8 // at most 65663 / 257 = 255
    })
}

/// Turns `image` upright as EXIF `orientation` asks (as `image`'s `apply_orientation`).
pub(super) fn apply_orientation(image: Image, orientation: Orientation) -> Image {
    use Orientation::*;
    match orientation {
        NoTransforms => image,
        Rotate90 => remap(&image, Turn::Rotate90),
        Rotate180 => remap(&image, Turn::Rotate180),
        Rotate270 => remap(&image, Turn::Rotate270),
        FlipHorizontal => remap(&image, Turn::FlipH),
        FlipVertical => remap(&image, Turn::FlipV),
        Rotate90FlipH => remap(&remap(&image, Turn::Rotate90), Turn::FlipH),
        Rotate270FlipH => remap(&remap(&image, Turn::Rotate270), Turn::FlipH),
    }
}

#[derive(Clone, Copy)]
enum Turn {
    Rotate90,
    Rotate180,
    Rotate270,
    FlipH,
    FlipV,
}

/// A copy of `image` with every pixel moved as `turn` says (rotations clockwise).
fn remap(image: &Image, turn: Turn) -> Image {
    let (w, h) = (image.width as usize, image.height as usize);
    let (out_w, out_h) = match turn {
        Turn::Rotate90 | Turn::Rotate270 => (h, w),
        _ => (w, h),
    };
    let pixels = match image.layout {
        PixelLayout::Rgb8 => remap_pixels::<3>(&image.pixels, w, h, turn),
        PixelLayout::Rgba8 => remap_pixels::<4>(&image.pixels, w, h, turn),
    };
    Image::new(out_w as u32, out_h as u32, image.layout, pixels)
}

/// The destination of source pixel (x, y) is `start + x * step_x + y * step_y` (in pixels):
/// one add per pixel, no per-pixel match or division (this keeps a rotated 1600 px JPEG as
/// fast as `image`'s rotate90).
fn remap_pixels<const N: usize>(src: &[u8], w: usize, h: usize, turn: Turn) -> Vec<u8> {
    let (w_i, h_i) = (w as isize, h as isize);
    let (start, step_x, step_y) = match turn {
        Turn::Rotate90 => (h_i - 1, h_i, -1),
        Turn::Rotate180 => (h_i * w_i - 1, -1, -w_i),
        Turn::Rotate270 => ((w_i - 1) * h_i, -h_i, 1),
        Turn::FlipH => (w_i - 1, -1, w_i),
        Turn::FlipV => ((h_i - 1) * w_i, 1, -w_i),
    };
    let mut out = vec![0u8; src.len()];
    let dst = out.as_chunks_mut::<N>().0;
    for (y, row) in src.as_chunks::<N>().0.chunks_exact(w.max(1)).enumerate() {
        let mut at = start + y as isize * step_y;
        for px in row {
            if let Some(d) = usize::try_from(at).ok().and_then(|i| dst.get_mut(i)) {
                *d = *px;
            }
            at += step_x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3x2 RGB image whose red channel numbers the pixels 1..6 in row-major order.
    fn numbered() -> Image {
        Image::new(3, 2, PixelLayout::Rgb8, (1..=6).flat_map(|n| [n, 0, 0]).collect())
    }

    fn reds(image: &Image) -> Vec<u8> {
        image.pixels.chunks_exact(3).map(|p| p[0]).collect()
    }

    #[test]
    fn orientations_move_pixels_as_exif_says() {
        // 1 2 3
        // 4 5 6
        let cases: [(Orientation, (u32, u32), [u8; 6]); 7] = [
            (Orientation::Rotate90, (2, 3), [4, 1, 5, 2, 6, 3]),
            (Orientation::Rotate180, (3, 2), [6, 5, 4, 3, 2, 1]),
            (Orientation::Rotate270, (2, 3), [3, 6, 2, 5, 1, 4]),
            (Orientation::FlipHorizontal, (3, 2), [3, 2, 1, 6, 5, 4]),
            (Orientation::FlipVertical, (3, 2), [4, 5, 6, 1, 2, 3]),
            (Orientation::Rotate90FlipH, (2, 3), [1, 4, 2, 5, 3, 6]),
            (Orientation::Rotate270FlipH, (2, 3), [6, 3, 5, 2, 4, 1]),
        ];
        for (orientation, size, expected) in cases {
            let turned = apply_orientation(numbered(), orientation);
            assert_eq!((turned.width, turned.height), size, "{orientation:?}");
            assert_eq!(reds(&turned), expected, "{orientation:?}");
        }
        assert_eq!(apply_orientation(numbered(), Orientation::NoTransforms), numbered());
    }

    #[test]
    fn orientations_match_image_crate() {
        use image::{DynamicImage, RgbaImage};
        let (w, h) = (5u32, 3u32);
        let pixels: Vec<u8> = (0..w * h * 4).map(|v| (v * 7 % 251) as u8).collect();
        for exif in 1..=8 {
            let orientation = Orientation::from_exif(exif).unwrap();
            let ours = apply_orientation(Image::new(w, h, PixelLayout::Rgba8, pixels.clone()), orientation);
            let mut theirs = DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels.clone()).unwrap());
            theirs.apply_orientation(orientation);
            assert_eq!((ours.width, ours.height), (theirs.width(), theirs.height()), "exif {exif}");
            assert_eq!(ours.pixels, theirs.into_rgba8().into_raw(), "exif {exif}");
        }
    }

    #[test]
    fn sixteen_bit_samples_round_like_image() {
        let raw: Vec<u8> = [0u16, 128, 129, 257, 32896, 65535].iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(samples16(&raw).collect::<Vec<_>>(), [0, 0, 1, 1, 128, 255]);
    }
}
