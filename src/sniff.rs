//! The input format, from magic bytes only (never from a file name).

// Parses untrusted input: no panicking shortcuts (Cargo.toml [lints.clippy] warns; here they fail).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Avif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Avif => "avif",
        }
    }
}

/// Names what the bytes are, or says what they look like when we cannot read them.
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Ok(Format::Webp);
    }
    if starts(b"BM") && bytes.len() >= 26 {
        return Ok(Format::Bmp);
    }
    if let Some(brand) = iso_bmff_brand(bytes) {
        return match brand {
            b"avif" | b"avis" => Ok(Format::Avif),
            _ => Err(Error::UnsupportedFormat {
                what: format!(
                    "ISO-BMFF file with brand '{}' (HEIC, MP4 or MOV?) is not an image we decode",
                    String::from_utf8_lossy(brand)
                ),
            }),
        };
    }
    Err(Error::UnsupportedFormat { what: describe_unknown(bytes) })
}

fn iso_bmff_brand(bytes: &[u8]) -> Option<&[u8; 4]> {
    if bytes.get(4..8)? == b"ftyp" { bytes.get(8..12)?.try_into().ok() } else { None }
}

/// A helpful name for bytes we do not decode, so errors say "a ZIP archive", not "unknown".
fn describe_unknown(bytes: &[u8]) -> String {
    let known: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive"),
        (b"%PDF", "a PDF document"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"8BPS", "a Photoshop document"),
        (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
        (b"\0\0\0\x0cjP  ", "a JPEG 2000 image"),
        (b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"),
        (b"\xff\x0a", "a JPEG XL image"),
        (b"\0\0\0\x0cJXL ", "a JPEG XL image"),
        (b"DDS ", "a DirectDraw surface"),
        (b"icns", "an Apple icon"),
        (b"<svg", "an SVG document (vector images are not re-encoded)"),
        (b"<?xml", "an XML document"),
    ];
    for (magic, name) in known {
        if bytes.starts_with(magic) {
            return format!("{name} is not a supported image (expected JPEG, PNG, GIF, WebP or BMP)");
        }
    }
    if bytes.is_empty() {
        return "empty input".into();
    }
    if bytes.len() < 8 {
        return format!("{} bytes are too short to be an image", bytes.len());
    }
    "the bytes match no supported image signature (JPEG, PNG, GIF, WebP, BMP)".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0....").unwrap(), Format::Jpeg);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), Format::Webp);
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0\0\0").unwrap(), Format::Avif);
        let zip = sniff(b"PK\x03\x04\x14\0\0\0\0\0").unwrap_err();
        assert_eq!(zip.code(), "UNSUPPORTED_FORMAT");
        assert!(zip.to_string().contains("ZIP"));
        assert!(sniff(b"").unwrap_err().to_string().contains("empty"));
    }
}
