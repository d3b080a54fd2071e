//! A plain PNG writer (Paeth filter, fdeflate's zlib stream) for the small images the core
//! makes itself (placeholder previews): in every build, so a preview is the same bytes
//! whichever wasm module made it, and without pulling a general PNG encoder into the small
//! module. Outputs the caller asked for go through oxipng (`png.rs`).

use crate::error::Result;
use crate::image::{Image, PixelLayout};

pub(crate) fn encode(image: &Image) -> Result<Vec<u8>> {
    let colour_type = match image.layout {
        PixelLayout::Rgb8 => 2u8,
        PixelLayout::Rgba8 => 6u8,
    };
    let bpp = image.layout.channels();
    let row = image.width as usize * bpp;
    let mut raw = Vec::with_capacity((row + 1) * image.height as usize);
    let zeros = vec![0u8; row];
    let mut above: &[u8] = &zeros;
    // Paeth on every row: previews are smooth gradients, which it turns into near-zeros.
    for line in image.pixels.chunks_exact(row.max(1)) {
        raw.push(4);
        let left = |r: &[u8], i: usize| i.checked_sub(bpp).and_then(|j| r.get(j)).copied().unwrap_or(0);
        for (i, (&x, &b)) in line.iter().zip(above).enumerate() {
            raw.push(x.wrapping_sub(paeth(left(line, i), b, left(above, i))));
        }
        above = line;
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&image.width.to_be_bytes());
    ihdr.extend_from_slice(&image.height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &fdeflate::compress_to_vec(&raw));
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_back_to_the_same_pixels() {
        let px: Vec<u8> = (0..5 * 3 * 4).map(|i| (i * 37 % 256) as u8).collect();
        let image = Image::new(5, 3, PixelLayout::Rgba8, px.clone());
        let png = encode(&image).unwrap();
        let back = crate::decode::decode(&png, &crate::limits::Limits::default()).unwrap();
        assert_eq!((back.image.width, back.image.height, back.image.pixels), (5, 3, px));
    }
}
