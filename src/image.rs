//! The pixel buffer passed between stages: 8-bit sRGB, RGB or RGBA, straight (not
//! premultiplied) alpha. Resizing premultiplies internally.

/// How one pixel is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    Rgb8,
    Rgba8,
}

impl PixelLayout {
    pub fn channels(self) -> usize {
        match self {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub layout: PixelLayout,
    /// Row-major, tightly packed: `width * height * layout.channels()` bytes.
    pub pixels: Vec<u8>,
}

impl Image {
    pub fn new(width: u32, height: u32, layout: PixelLayout, pixels: Vec<u8>) -> Self {
        debug_assert_eq!(pixels.len(), width as usize * height as usize * layout.channels());
        Image { width, height, layout, pixels }
    }

    pub fn has_alpha_channel(&self) -> bool {
        self.layout == PixelLayout::Rgba8
    }

    /// True when some pixel is not fully opaque (an alpha channel of all 255 is no alpha).
    pub fn has_transparency(&self) -> bool {
        self.has_alpha_channel() && self.pixels.chunks_exact(4).any(|p| p[3] != 255)
    }

    /// Drops the alpha channel, compositing onto `background` (for formats without alpha).
    pub fn flatten(&self, background: [u8; 3]) -> Image {
        if self.layout == PixelLayout::Rgb8 {
            return self.clone();
        }
        let mut out = vec![0; self.width as usize * self.height as usize * 3];
        flatten_rgba_row(&self.pixels, background, &mut out);
        Image::new(self.width, self.height, PixelLayout::Rgb8, out)
    }

    /// The same pixels with an alpha channel of 255 added where there was none.
    pub fn to_rgba(&self) -> Image {
        if self.layout == PixelLayout::Rgba8 {
            return self.clone();
        }
        let mut out = Vec::with_capacity(self.width as usize * self.height as usize * 4);
        for p in self.pixels.chunks_exact(3) {
            out.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        Image::new(self.width, self.height, PixelLayout::Rgba8, out)
    }
}

/// RGBA pixels composited onto `background` as RGB (`rgb` holds 3 bytes per pixel of `rgba`).
pub fn flatten_rgba_row(rgba: &[u8], background: [u8; 3], rgb: &mut [u8]) {
    for (p, out) in rgba.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
        let a = u32::from(p[3]);
        for c in 0..3 {
            out[c] = ((u32::from(p[c]) * a + u32::from(background[c]) * (255 - a) + 127) / 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_composites_over_background() {
        let img = Image::new(2, 1, PixelLayout::Rgba8, vec![255, 0, 0, 255, 0, 0, 0, 0]);
        let flat = img.flatten([255, 255, 255]);
        assert_eq!(flat.pixels, vec![255, 0, 0, 255, 255, 255]);
        assert!(img.has_transparency());
        assert!(!flat.to_rgba().has_transparency());
    }
}
