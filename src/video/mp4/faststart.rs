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
        let what = crate::sniff::sniff(input)
            .map_or("unknown data".to_string(), |f| format!("a {} image", f.name().to_uppercase()));
        return Err(corrupt(format!("not an MP4/MOV file (no 'ftyp' box first): looks like {what}")));
    }
    let top: Vec<TopBox> = children(input, 0, input.len())?.iter().map(TopBox::from).collect();
    let moov = top
        .iter()
        .find(|b| &b.kind == b"moov")
        .map_or(&[][..], |b| input.get(b.start as usize..b.end as usize).unwrap_or_default());
    let plan = fast_start_plan(&top, moov)?;
    if !plan.changed {
        return Ok(FastStart { bytes: input.to_vec(), changed: false, notes: plan.notes });
    }
    let mut out = Vec::with_capacity(input.len());
    for piece in &plan.pieces {
        match *piece {
            Piece::Index => out.extend_from_slice(&plan.moov),
            Piece::Copy { start, end } => {
                out.extend_from_slice(input.get(start as usize..end as usize).unwrap_or_default())
            }
        }
    }
    Ok(FastStart { bytes: out, changed: true, notes: plan.notes })
}

/// A top-level box of a file that may be larger than memory (offsets are 64-bit even in wasm32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopBox {
    pub kind: [u8; 4],
    pub start: u64,
    /// Bytes of the box header (8, or 16 with a 64-bit size).
    pub header: u64,
    pub end: u64,
}

impl From<&BoxRef> for TopBox {
    fn from(b: &BoxRef) -> Self {
        TopBox { kind: b.kind, start: b.start as u64, header: b.header as u64, end: b.end as u64 }
    }
}

/// One stretch of the output, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Input bytes `start..end`, copied as they are.
    Copy { start: u64, end: u64 },
    /// The rewritten `moov` ([`FastStartPlan::moov`]).
    Index,
}

/// How to write the fast-start file without holding the media: the new index, and which input
/// ranges go around it. Worked out from the top-level box list and the `moov` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastStartPlan {
    /// The `moov` with its chunk offsets moved; empty when nothing changes.
    pub moov: Vec<u8>,
    /// The output in order; when nothing changes, the whole input as one copy.
    pub pieces: Vec<Piece>,
    pub changed: bool,
    pub notes: Vec<String>,
    /// Bytes of the output.
    pub size: u64,
}

/// Plans a fast-start remux from the file's top-level boxes (`top`, contiguous from offset 0)
/// and the bytes of its `moov` box (header included). Sample bytes are never needed: chunk
/// offsets move by however far their box moves.
pub fn fast_start_plan(top: &[TopBox], moov_bytes: &[u8]) -> Result<FastStartPlan> {
    let mut expected = 0u64;
    for b in top {
        if b.start != expected || b.end < b.start.saturating_add(b.header) || !matches!(b.header, 8 | 16) {
            return Err(corrupt(format!("the top-level box list is not contiguous at offset {expected}")));
        }
        expected = b.end;
    }
    if !top.first().is_some_and(|b| &b.kind == b"ftyp" || &b.kind == b"styp") {
        return Err(corrupt("not an MP4/MOV file (no 'ftyp' box first)"));
    }
    let file_size = expected;
    let unchanged = |note: &str| FastStartPlan {
        moov: Vec::new(),
        pieces: vec![Piece::Copy { start: 0, end: file_size }],
        changed: false,
        notes: vec![note.to_string()],
        size: file_size,
    };
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
    let Some(moov_top) = top.get(moov_index).copied() else { return Err(corrupt("no 'moov' box")) };
    if moov_bytes.len() as u64 != moov_top.end - moov_top.start || moov_bytes.get(4..8) != Some(b"moov") {
        return Err(corrupt(format!(
            "the 'moov' given has {} bytes, the file's has {}",
            moov_bytes.len(),
            moov_top.end - moov_top.start
        )));
    }
    let moov = BoxRef { kind: moov_top.kind, start: 0, header: moov_top.header as usize, end: moov_bytes.len() };

    // New order: what came before the media (minus padding), the index, then the rest.
    let padding = |b: &TopBox| &b.kind == b"free" || &b.kind == b"skip";
    let head: Vec<TopBox> = top.get(..first_mdat).unwrap_or_default().iter().copied().filter(|b| !padding(b)).collect();
    let tail: Vec<TopBox> = top
        .iter()
        .enumerate()
        .skip(first_mdat)
        .filter(|(i, b)| *i != moov_index && !padding(b))
        .map(|(_, b)| *b)
        .collect();

    let mut notes = Vec::new();
    let mut widen = false;
    loop {
        let moov_size = rewrite(moov_bytes, moov, &|_| Ok(0), widen, 0)?.len() as u64;
        let head_size: u64 = head.iter().map(|b| b.end - b.start).sum();
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
        let size = at;
        let relocate = |offset: u64| -> Result<u64> {
            placed
                .iter()
                .find(|(b, _)| b.start + b.header <= offset && offset < b.end)
                .map(|(b, new_start)| offset - b.start + new_start)
                .ok_or_else(|| corrupt(format!("chunk offset {offset} points outside every media box")))
        };
        let new_moov = match rewrite(moov_bytes, moov, &relocate, widen, 0) {
            Err(RewriteError::Overflow32) if !widen => {
                widen = true;
                notes.push("chunk offsets past 4 GiB: 'stco' tables widened to 'co64'".to_string());
                continue;
            }
            other => other?,
        };
        debug_assert_eq!(new_moov.len() as u64, moov_size);
        let mut pieces: Vec<Piece> = head.iter().map(|b| Piece::Copy { start: b.start, end: b.end }).collect();
        pieces.push(Piece::Index);
        pieces.extend(tail.iter().map(|b| Piece::Copy { start: b.start, end: b.end }));
        notes.push(format!("'moov' ({moov_size} bytes) moved in front of the media"));
        return Ok(FastStartPlan { moov: new_moov, pieces, changed: true, notes, size });
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
        let count =
            payload.get(4..8).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or_default() as usize;
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

    /// A plan needs only the box list and the moov: a 5 GB mdat that is never read, whose
    /// chunk offsets end up past 4 GiB once the index moves in front (so `stco` widens).
    #[test]
    fn plans_a_file_larger_than_memory() {
        let (file, mdat_at) = moov_last();
        let top: Vec<TopBox> = children(&file, 0, file.len()).unwrap().iter().map(TopBox::from).collect();
        let big = 5u64 << 30;
        let grown = |b: &TopBox| match &b.kind {
            b"mdat" => TopBox { end: b.start + big, ..*b },
            b"moov" => TopBox { start: mdat_at as u64 + big, end: mdat_at as u64 + big + (b.end - b.start), ..*b },
            _ => *b,
        };
        let top: Vec<TopBox> = top.iter().map(grown).collect();
        let moov_box = children(&file, 0, file.len()).unwrap().into_iter().find(|b| &b.kind == b"moov").unwrap();
        let mut moov = moov_box.whole(&file).to_vec();
        // Point the second chunk just below 4 GiB: moving the index in front pushes it past.
        let far = u32::MAX - 20;
        let at = moov.windows(4).position(|w| w == b"stco").unwrap() + 16;
        moov[at..at + 4].copy_from_slice(&far.to_be_bytes());
        let plan = fast_start_plan(&top, &moov).unwrap();
        assert!(plan.changed && plan.notes.iter().any(|n| n.contains("co64")), "{:?}", plan.notes);
        let moov_len = plan.moov.len() as u64;
        let ftyp_len = top[0].end;
        assert_eq!(
            plan.pieces,
            [
                Piece::Copy { start: 0, end: ftyp_len },
                Piece::Index,
                Piece::Copy { start: top[2].start, end: top[2].end }
            ]
        );
        assert_eq!(plan.size, ftyp_len + moov_len + big);
        let co64 = plan.moov.windows(4).position(|w| w == b"co64").unwrap() + 4;
        let entry = |i: usize| u64::from_be_bytes(plan.moov[co64 + 8 + i * 8..co64 + 16 + i * 8].try_into().unwrap());
        assert_eq!(entry(0), ftyp_len + moov_len + 8);
        assert_eq!(entry(1), u64::from(far) - mdat_at as u64 + ftyp_len + moov_len);
        // A box list with a hole, or a moov that is not the listed one, is refused.
        let mut holed = top.clone();
        holed[2].start += 1;
        assert_eq!(fast_start_plan(&holed, &moov).unwrap_err().code(), "CORRUPT_INPUT");
        assert_eq!(fast_start_plan(&top, &moov[..moov.len() - 1]).unwrap_err().code(), "CORRUPT_INPUT");
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
