//! Lossless metadata removal from an input file, so that "never bigger" can hand back the
//! original without leaking what `keepMetadata: false` promised to strip (EXIF GPS,
//! XMP, IPTC, comments). Colour information (ICC, gAMA, Adobe transform) is kept: the
//! original's pixels need it to show the right colours.

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::sniff::Format;

use std::ops::Range;

/// The input without its metadata, or `None` when it cannot be stripped losslessly.
pub fn strip(input: &[u8], format: Format) -> Option<Vec<u8>> {
    kept_ranges(input, format).map(|ranges| assemble(input, &ranges))
}

/// What `strip` keeps, as byte ranges of the input in file order (adjacent ones merged): a
/// caller that frees the input after decoding keeps these instead of a stripped copy.
pub fn kept_ranges(input: &[u8], format: Format) -> Option<Vec<Range<usize>>> {
    let mut kept = Kept(Vec::new());
    match format {
        Format::Jpeg => strip_jpeg(input, &mut kept)?,
        Format::Png => strip_png(input, &mut kept)?,
        // A WebP's metadata chunks are flagged in VP8X; only metadata-free files are kept.
        Format::Webp if !webp_has_metadata(input) => kept.push(0..input.len()),
        _ => return None,
    }
    Some(kept.0)
}

/// The bytes of `ranges` (from `kept_ranges` of this input), concatenated.
pub fn assemble(input: &[u8], ranges: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ranges.iter().map(|r| r.len()).sum());
    for r in ranges {
        out.extend_from_slice(input.get(r.clone()).unwrap_or_default());
    }
    out
}

/// Ranges in file order; one that starts where the last ends extends it.
struct Kept(Vec<Range<usize>>);

impl Kept {
    fn push(&mut self, range: Range<usize>) {
        match self.0.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => self.0.push(range),
        }
    }
}

fn strip_jpeg(input: &[u8], out: &mut Kept) -> Option<()> {
    input.get(..2)?;
    out.push(0..2);
    let mut pos = 2usize;
    loop {
        if *input.get(pos)? != 0xFF {
            return None;
        }
        let marker = *input.get(pos + 1)?;
        if marker == 0xDA {
            // Start of scan: entropy-coded data and everything after is image data.
            out.push(pos..input.len());
            return Some(());
        }
        let len = usize::from(u16::from_be_bytes(input.get(pos + 2..pos + 4)?.try_into().ok()?));
        if len < 2 {
            return None; // the length counts its own two bytes: a smaller one is corrupt
        }
        let segment = input.get(pos..pos + 2 + len)?;
        let payload = segment.get(4..)?;
        let range = pos..pos + segment.len();
        let keep = match marker {
            0xE0 => true,                                  // JFIF / JFXX
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"), // colour profile
            0xEE => true,                                  // Adobe: colour transform flag
            0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,     // EXIF, XMP, IPTC, comments...
            _ => true,                                     // tables, frame header, restart
        };
        if keep {
            out.push(range);
        }
        pos += 2 + len;
    }
}

fn strip_png(input: &[u8], out: &mut Kept) -> Option<()> {
    const KEEP: &[&[u8; 4]] = &[
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"cICP", b"pHYs",
        b"acTL", b"fcTL", b"fdAT", b"bKGD",
    ];
    input.get(..8)?;
    out.push(0..8);
    let mut pos = 8usize;
    while pos < input.len() {
        let len = u32::from_be_bytes(input.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind: &[u8; 4] = input.get(pos + 4..pos + 8)?.try_into().ok()?;
        let chunk = input.get(pos..pos.checked_add(12)?.checked_add(len)?)?;
        if KEEP.contains(&kind) {
            out.push(pos..pos + chunk.len());
        }
        pos += chunk.len();
        if kind == b"IEND" {
            break;
        }
    }
    Some(())
}

fn webp_has_metadata(input: &[u8]) -> bool {
    // VP8X flags byte: bit 3 = EXIF, bit 2 = XMP.
    input.get(12..16) == Some(b"VP8X") && input.get(20).is_some_and(|flags| flags & 0b1100 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_segment_lengths_are_refused_not_panicked_on() {
        // A segment length under 2 (it counts its own two bytes) used to slice past the segment.
        for len in [0u8, 1, 2, 3] {
            let jpeg = [0xFF, 0xD8, 0xFF, 0xE1, 0, len, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9];
            let _ = strip(&jpeg, Format::Jpeg);
        }
        assert_eq!(strip(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0], Format::Jpeg), None);
        assert_eq!(strip(b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR", Format::Png), None);
    }

    #[test]
    fn jpeg_loses_exif_and_comments_but_keeps_colour_segments() {
        let mut jpeg = vec![0xFF, 0xD8];
        let segment = |marker: u8, payload: &[u8]| {
            let mut s = vec![0xFF, marker];
            s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(payload);
            s
        };
        jpeg.extend(segment(0xE0, b"JFIF\0\x01\x01"));
        jpeg.extend(segment(0xE1, b"Exif\0\0GPS here"));
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01abc"));
        jpeg.extend(segment(0xFE, b"a comment"));
        jpeg.extend([0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9]);
        let out = strip(&jpeg, Format::Jpeg).unwrap();
        assert!(!out.windows(3).any(|w| w == b"GPS"));
        assert!(!out.windows(7).any(|w| w == b"comment"));
        assert!(out.windows(11).any(|w| w == b"ICC_PROFILE"));
        assert!(out.ends_with(&[0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9]));
    }
}
