//! GIF: the first frame (animation is the video module's job).

use std::io::Cursor;

use image::codecs::gif::GifDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<GifDecoder<Cursor<&[u8]>>>> {
    let decoder = GifDecoder::new(reader(bytes)).map_err(|e| Error::from_image("gif", e))?;
    Ok(Opened { decoder, frame_count: walk(bytes).count.max(1), metadata: None })
}

/// What the block structure declares, read without decoding any image data.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Frames {
    pub count: u32,
    /// The largest frame (width, height): frames may be larger than the logical screen.
    pub largest: Option<(u32, u32)>,
}

/// Counts image descriptors by walking the block structure, skipping LZW data unread.
/// Stops quietly at the first malformed block: the count is what is readable.
pub(crate) fn walk(bytes: &[u8]) -> Frames {
    let table_len = |packed: u8| if packed & 0x80 != 0 { 3usize << ((packed & 0x07) + 1) } else { 0 };
    let mut frames = Frames::default();
    let Some(&screen_flags) = bytes.get(10) else { return frames };
    let mut pos = 13 + table_len(screen_flags);
    // Skips a run of sub-blocks (length byte, data), returning the position after the 0
    // terminator. Positions only grow by at most 256 per step and stay near bytes.len().
    let skip_sub_blocks = |mut p: usize| -> Option<usize> {
        loop {
            let len = *bytes.get(p)? as usize;
            p += 1;
            if len == 0 {
                return Some(p);
            }
            p += len;
        }
    };
    let le = |i: usize| Some(u32::from(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?)));
    loop {
        match bytes.get(pos) {
            Some(0x21) => match skip_sub_blocks(pos + 2) {
                Some(next) => pos = next,
                None => return frames,
            },
            Some(0x2C) => {
                let (Some(&packed), Some(w), Some(h)) = (bytes.get(pos + 9), le(pos + 5), le(pos + 7)) else {
                    return frames;
                };
                frames.count += 1;
                let (lw, lh) = frames.largest.unwrap_or_default();
                if u64::from(w) * u64::from(h) > u64::from(lw) * u64::from(lh) {
                    frames.largest = Some((w, h));
                }
                // descriptor (10) + local colour table + LZW minimum code size (1)
                match skip_sub_blocks(pos + 10 + table_len(packed) + 1) {
                    Some(next) => pos = next,
                    None => return frames,
                }
            }
            _ => return frames,
        }
    }
}

/// The logical screen size (every frame is composited onto it).
pub(crate) fn header_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let le = |i: usize| Some(u32::from(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?)));
    Some((le(6)?, le(8)?))
}
