//! Fast start: move `moov` (the index) in front of `mdat` (the media) so a browser can start
//! playing before the whole file has arrived. Sample bytes are copied untouched; only the
//! chunk offsets in `stco`/`co64` change, by however far their `mdat` moved (32-bit tables
//! become 64-bit when an offset would no longer fit).

use super::boxes::{BoxRef, children, corrupt};
use crate::error::Result;

/// Boxes whose children hold the chunk offset tables.
const PATH_TO_OFFSETS: [&[u8; 4]; 5] = [b"moov", b"trak", b"mdia", b"minf", b"stbl"];
/// No real file nests deeper than this on the way to `stco`.
const MAX_DEPTH: usize = 8;

/// The result of a remux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastStart {
    pub bytes: Vec<u8>,
    /// False when the input already had `moov` first (or is fragmented): `bytes` is the input.
    pub changed: bool,
    /// Why nothing changed, or what was adjusted.
    pub notes: Vec<String>,
}

pub fn fast_start(input: &[u8]) -> Result<FastStart> {
    if !matches!(input.get(4..8), Some(b"ftyp" | b"styp")) {
        let what = crate::sniff::sniff(input).map_or("unknown data".to_string(), |f| format!("a {} image", f.name().to_uppercase()));
        return Err(corrupt(format!("not an MP4/MOV file (no 'ftyp' box first): looks like {what}")));
    }
    let top = children(input, 0, input.len())?;
    let unchanged = |note: &str| FastStart { bytes: input.to_vec(), changed: false, notes: vec![note.to_string()] };
    if top.iter().any(|b| &b.kind == b"moof") {
        return Ok(unchanged("fragmented MP4: already streamable, left as is"));
    }
    let moovs: Vec<usize> = top.iter().enumerate().filter(|(_, b)| &b.kind == b"moov").map(|(i, _)| i).collect();
    let [moov_index] = moovs[..] else {
        return Err(corrupt(format!("expected one 'moov' box, found {}", moovs.len())));
    };
    let Some(first_mdat) = top.iter().position(|b| &b.kind == b"mdat") else {
        return Ok(unchanged("no 'mdat' box: nothing to move"));
    };
    if moov_index < first_mdat {
        return Ok(unchanged("'moov' already precedes 'mdat'"));
    }
    let moov = top[moov_index];

    // New order: what came before the media (minus padding), the index, then the rest.
    let padding = |b: &BoxRef| &b.kind == b"free" || &b.kind == b"skip";
    let head: Vec<BoxRef> = top[..first_mdat].iter().copied().filter(|b| !padding(b)).collect();
    let tail: Vec<BoxRef> =
        top[first_mdat..].iter().enumerate().filter(|(i, b)| i + first_mdat != moov_index && !padding(b)).map(|(_, b)| *b).collect();

    let mut notes = Vec::new();
    let mut widen = false;
    loop {
        let moov_size = rewrite(input, moov, &|_| Ok(0), widen, 0)?.len();
        let head_size: usize = head.iter().map(|b| b.end - b.start).sum();
        // Where each moved box lands.
        let mut placed = Vec::with_capacity(head.len() + tail.len());
        let mut at = 0;
        for b in &head {
            placed.push((*b, at));
            at += b.end - b.start;
        }
        at = head_size + moov_size;
        for b in &tail {
            placed.push((*b, at));
            at += b.end - b.start;
        }
        let relocate = |offset: u64| -> Result<u64> {
            let o = usize::try_from(offset).map_err(|_| corrupt(format!("chunk offset {offset} is past the file")))?;
            placed
                .iter()
                .find(|(b, _)| b.start + b.header <= o && o < b.end)
                .map(|(b, new_start)| (o - b.start + new_start) as u64)
                .ok_or_else(|| corrupt(format!("chunk offset {offset} points outside every media box")))
        };
        let new_moov = match rewrite(input, moov, &relocate, widen, 0) {
            Err(RewriteError::Overflow32) if !widen => {
                widen = true;
                notes.push("chunk offsets past 4 GiB: 'stco' tables widened to 'co64'".to_string());
                continue;
            }
            other => other?,
        };
        debug_assert_eq!(new_moov.len(), moov_size);
        let mut out = Vec::with_capacity(input.len());
        for b in &head {
            out.extend_from_slice(b.whole(input));
        }
        out.extend_from_slice(&new_moov);
        for b in &tail {
            out.extend_from_slice(b.whole(input));
        }
        notes.push(format!("'moov' ({moov_size} bytes) moved in front of the media"));
        return Ok(FastStart { bytes: out, changed: true, notes });
    }
}

/// Why a rewrite stopped: a `stco` offset that no longer fits in 32 bits (the caller widens
/// the tables and tries again), or a real error.
enum RewriteError {
    Overflow32,
    Other(crate::error::Error),
}

impl From<crate::error::Error> for RewriteError {
    fn from(e: crate::error::Error) -> Self {
        RewriteError::Other(e)
    }
}

impl From<RewriteError> for crate::error::Error {
    fn from(e: RewriteError) -> Self {
        match e {
            RewriteError::Other(e) => e,
            RewriteError::Overflow32 => corrupt("a chunk offset does not fit even in 64 bits"),
        }
    }
}

/// `b` re-serialized with every chunk offset passed through `relocate`.
fn rewrite(
    bytes: &[u8],
    b: BoxRef,
    relocate: &dyn Fn(u64) -> Result<u64>,
    widen: bool,
    depth: usize,
) -> std::result::Result<Vec<u8>, RewriteError> {
    if depth > MAX_DEPTH {
        return Err(corrupt("boxes nested too deeply").into());
    }
    let payload = b.payload(bytes);
    let (kind, body) = if PATH_TO_OFFSETS.contains(&&b.kind) {
        let mut body = Vec::with_capacity(payload.len());
        for child in children(bytes, b.start + b.header, b.end)? {
            body.extend(rewrite(bytes, child, relocate, widen, depth + 1)?);
        }
        (b.kind, body)
    } else if &b.kind == b"stco" || &b.kind == b"co64" {
        let wide_in = &b.kind == b"co64";
        let width = if wide_in { 8 } else { 4 };
        let count = payload.get(4..8).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or_default() as usize;
        let table = payload.get(8..).unwrap_or_default();
        if payload.len() < 8 || count.checked_mul(width).is_none_or(|n| n > table.len()) {
            return Err(corrupt(format!("'{}' claims {count} entries in {} bytes", b.name(), payload.len())).into());
        }
        let wide_out = wide_in || widen;
        let mut body = Vec::with_capacity(8 + count * 8);
        body.extend_from_slice(&payload[..8]);
        for entry in table.chunks_exact(width).take(count) {
            let old = if wide_in {
                u64::from_be_bytes(entry.try_into().unwrap_or_default())
            } else {
                u64::from(u32::from_be_bytes(entry.try_into().unwrap_or_default()))
            };
            let new = relocate(old)?;
            if wide_out {
                body.extend_from_slice(&new.to_be_bytes());
            } else {
                let narrow = u32::try_from(new).map_err(|_| RewriteError::Overflow32)?;
                body.extend_from_slice(&narrow.to_be_bytes());
            }
        }
        (if wide_out { *b"co64" } else { *b"stco" }, body)
    } else {
        return Ok(b.whole(bytes).to_vec());
    };
    let mut out = Vec::with_capacity(body.len() + 16);
    match u32::try_from(body.len() + 8) {
        Ok(size) => {
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(&kind);
        }
        Err(_) => {
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&kind);
            out.extend_from_slice(&((body.len() + 16) as u64).to_be_bytes());
        }
    }
    out.extend(body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// ftyp, free, mdat (two 4-byte "samples"), moov with one stco pointing at each.
    fn moov_last() -> (Vec<u8>, usize) {
        let mut file = mp4_box(b"ftyp", b"isom\0\0\0\0");
        file.extend(mp4_box(b"free", b""));
        let mdat_at = file.len();
        file.extend(mp4_box(b"mdat", b"AAAABBBB"));
        let (a, b) = (mdat_at as u32 + 8, mdat_at as u32 + 12);
        let mut stco = vec![0, 0, 0, 0, 0, 0, 0, 2];
        stco.extend_from_slice(&a.to_be_bytes());
        stco.extend_from_slice(&b.to_be_bytes());
        let stbl = mp4_box(b"stbl", &mp4_box(b"stco", &stco));
        let minf = mp4_box(b"minf", &stbl);
        let mdia = mp4_box(b"mdia", &minf);
        let trak = mp4_box(b"trak", &mdia);
        let mut moov_payload = mp4_box(b"mvhd", &[0; 20]);
        moov_payload.extend(trak);
        file.extend(mp4_box(b"moov", &moov_payload));
        (file, mdat_at)
    }

    #[test]
    fn moves_moov_first_and_shifts_chunk_offsets() {
        let (file, _) = moov_last();
        let out = fast_start(&file).unwrap();
        assert!(out.changed);
        let top = children(&out.bytes, 0, out.bytes.len()).unwrap();
        let kinds: Vec<_> = top.iter().map(|b| b.name()).collect();
        assert_eq!(kinds, ["ftyp", "moov", "mdat"], "free dropped, moov before mdat");
        let stco_at = out.bytes.windows(4).position(|w| w == b"stco").unwrap() + 4;
        let offset = |i: usize| {
            let at = stco_at + 8 + i * 4;
            u32::from_be_bytes(out.bytes[at..at + 4].try_into().unwrap()) as usize
        };
        assert_eq!(&out.bytes[offset(0)..offset(0) + 4], b"AAAA");
        assert_eq!(&out.bytes[offset(1)..offset(1) + 4], b"BBBB");
        // Running it again changes nothing.
        assert!(!fast_start(&out.bytes).unwrap().changed);
    }

    #[test]
    fn hostile_tables_are_refused() {
        let (mut file, _) = moov_last();
        let count_at = file.windows(4).position(|w| w == b"stco").unwrap() + 8;
        file[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(fast_start(&file).unwrap_err().code(), "CORRUPT_INPUT");
        let (mut file, _) = moov_last();
        let entry_at = file.windows(4).position(|w| w == b"stco").unwrap() + 12;
        file[entry_at..entry_at + 4].copy_from_slice(&9999u32.to_be_bytes());
        assert!(fast_start(&file).unwrap_err().to_string().contains("outside"));
        assert!(fast_start(b"\x89PNG\r\n\x1a\n....").is_err());
    }
}
