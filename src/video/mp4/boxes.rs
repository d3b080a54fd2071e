//! ISO BMFF boxes: a bounds-checked walk over `[size][type][payload]` records. Every size is
//! checked against the bytes that hold it, so a hostile file can neither read past its end
//! nor loop: each step consumes at least 8 bytes.

use crate::error::{Error, Result};

/// One box inside a byte slice: `range` covers header and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxRef {
    pub kind: [u8; 4],
    pub start: usize,
    pub header: usize,
    pub end: usize,
}

impl BoxRef {
    pub fn payload<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.start + self.header..self.end).unwrap_or_default()
    }

    pub fn whole<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.start..self.end).unwrap_or_default()
    }

    pub fn name(&self) -> String {
        self.kind.iter().map(|&c| if c.is_ascii_graphic() { c as char } else { '?' }).collect()
    }
}

/// The boxes that follow each other in `bytes[from..to]`.
pub fn children(bytes: &[u8], from: usize, to: usize) -> Result<Vec<BoxRef>> {
    let mut out = Vec::new();
    let mut at = from;
    let end = to.min(bytes.len());
    while at < end {
        let remaining = end - at;
        if remaining < 8 {
            return Err(corrupt(format!("{remaining} stray bytes at offset {at}, too short for a box header")));
        }
        let word = |i: usize| bytes.get(i..i + 4).and_then(|s| s.try_into().ok()).map(u32::from_be_bytes);
        let size32 = word(at).unwrap_or_default();
        let kind: [u8; 4] = bytes.get(at + 4..at + 8).and_then(|s| s.try_into().ok()).unwrap_or_default();
        let (size, header) = match size32 {
            0 => (remaining as u64, 8), // to the end of the enclosing space
            1 => {
                let hi = word(at + 8).ok_or_else(|| corrupt(format!("box at {at} cut before its 64-bit size")))?;
                let lo = word(at + 12).ok_or_else(|| corrupt(format!("box at {at} cut before its 64-bit size")))?;
                ((u64::from(hi) << 32) | u64::from(lo), 16)
            }
            n => (u64::from(n), 8),
        };
        let kind_name = BoxRef { kind, start: at, header, end: at }.name();
        if size < header as u64 || size > remaining as u64 {
            return Err(corrupt(format!("box '{kind_name}' at offset {at} says {size} bytes, but {remaining} remain")));
        }
        let size = size as usize;
        out.push(BoxRef { kind, start: at, header, end: at + size });
        at += size;
    }
    Ok(out)
}

pub fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::corrupt("mp4", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_boxes_and_refuses_lies() {
        let mut b = Vec::new();
        b.extend_from_slice(&16u32.to_be_bytes());
        b.extend_from_slice(b"ftypisom\0\0\0\0");
        b.extend_from_slice(&8u32.to_be_bytes());
        b.extend_from_slice(b"free");
        let boxes = children(&b, 0, b.len()).unwrap();
        assert_eq!(boxes.len(), 2);
        assert_eq!(&boxes[1].kind, b"free");
        let mut lie = b.clone();
        lie[3] = 200; // ftyp claims 200 bytes
        assert_eq!(children(&lie, 0, lie.len()).unwrap_err().code(), "CORRUPT_INPUT");
        let mut tiny = b.clone();
        tiny[3] = 4; // smaller than its own header
        assert!(children(&tiny, 0, tiny.len()).is_err());
        assert!(children(&b[..20], 0, 20).is_err(), "a cut header");
    }
}
