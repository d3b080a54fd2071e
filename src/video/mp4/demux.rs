//! MP4/MOV demuxer: the track list (codec strings and decoder descriptions as WebCodecs takes
//! them, sizes, rotation, clocks) and every sample's place and time, read from the index
//! (`moov`, and `moof` fragments) alone. Sample bytes are never touched: callers read them by
//! offset and size (a Blob slice in browsers), so a file need not be in memory whole.
//!
//! Every count in a table is checked against the bytes that hold it and against
//! `DemuxLimits` before anything is allocated; a sample that points past the file's end is an
//! error, not a short read later.

// Parses untrusted input: no panicking shortcuts.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::boxes::{BoxRef, children, corrupt};
use crate::error::{Budget, Error, Result};

/// What the index may describe, checked before allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemuxLimits {
    /// Samples over all tracks (each costs ~40 bytes of index).
    pub max_samples: u32,
    pub max_tracks: u32,
}

impl Default for DemuxLimits {
    /// Two million samples: over 7 hours of 30 fps video with 48 kHz AAC beside it, and an
    /// index of ~80 MB, well inside wasm32's memory.
    fn default() -> Self {
        DemuxLimits { max_samples: 2_000_000, max_tracks: 64 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Video,
    Audio,
}

/// One encoded frame (video) or access unit (audio), in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    /// Byte offset in the file.
    pub offset: u64,
    pub size: u32,
    /// Decode and presentation times in the track's timescale, shifted by the edit list so
    /// that the first presented instant is 0 (as FFmpeg reports them).
    pub dts: i64,
    pub pts: i64,
    pub duration: u32,
    pub keyframe: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub id: u32,
    pub kind: TrackKind,
    /// The sample entry's four-character code (`avc1`, `hvc1`, `vp09`, `av01`, `mp4a`, ...).
    pub fourcc: String,
    /// RFC 6381 / WebCodecs codec string, e.g. `avc1.64001f`, `mp4a.40.2`; `None` for a
    /// codec this demuxer cannot name (encrypted, unknown).
    pub codec: Option<String>,
    /// WebCodecs `description`: the avcC/hvcC/av1C record, or AAC's AudioSpecificConfig.
    pub description: Option<Vec<u8>>,
    /// VP9's `vpcC` payload (WebCodecs takes no description for VP9; a muxer wants it).
    pub vpcc: Option<Vec<u8>>,
    /// Coded size from the sample entry (video).
    pub width: u32,
    pub height: u32,
    /// Clockwise degrees (0, 90, 180, 270) a player turns the picture, from the `tkhd` matrix.
    pub rotation: u16,
    pub timescale: u32,
    /// Media duration in `timescale` ticks (`mdhd`, or the samples' sum when that is 0).
    pub duration: u64,
    pub sample_rate: u32,
    pub channels: u16,
    /// The media time the edit list starts presenting at (priming, B-frame delay), in ticks.
    pub edit_start: i64,
    /// Nanoseconds at the end of the last sample that are not presented: the encoder's
    /// padding (Opus), from WebM's DiscardPadding or an MP4 edit that ends early. Exact in
    /// nanoseconds because Matroska counts it so, and its clock is often milliseconds.
    pub end_padding_ns: u64,
    pub samples: Vec<SampleInfo>,
}

impl Track {
    /// The index of the key frame presented last at or before `pts` (ticks), or the first key
    /// frame when none is that early.
    pub fn keyframe_at_or_before(&self, pts: i64) -> Option<usize> {
        let keys = self.samples.iter().enumerate().filter(|(_, s)| s.keyframe);
        keys.clone()
            .filter(|(_, s)| s.pts <= pts)
            .max_by_key(|(_, s)| s.pts)
            .or_else(|| keys.min_by_key(|(_, s)| s.pts))
            .map(|(i, _)| i)
    }
}

/// A parsed index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    pub tracks: Vec<Track>,
    /// Ticks per second of `duration`.
    pub timescale: u32,
    pub duration: u64,
    pub fragmented: bool,
    file_len: u64,
    limits: DemuxLimits,
    /// Per track id: the `trex` defaults fragments fall back on.
    trex: Vec<(u32, TrexDefaults)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct TrexDefaults {
    duration: u32,
    size: u32,
    flags: u32,
}

/// Big-endian reads over a payload; every read is bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Cursor { bytes, at: 0, what }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self.at.checked_add(n).and_then(|end| self.bytes.get(self.at..end));
        let s = s.ok_or_else(|| {
            corrupt(format!("'{}' is cut short ({} bytes, needed {} at {})", self.what, self.bytes.len(), n, self.at))
        })?;
        self.at += n;
        Ok(s)
    }
    fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap_or_default()))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap_or_default()))
    }
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }
    /// `count` entries of `width` bytes must fit in what is left: checked before a table is
    /// allocated, so a count of four billion in a 20-byte box is refused at once.
    fn check_table(&self, count: u32, width: usize) -> Result<()> {
        let need = (count as usize).checked_mul(width);
        if need.is_none_or(|n| n > self.rest().len()) {
            return Err(corrupt(format!(
                "'{}' claims {count} entries but holds {} bytes",
                self.what,
                self.rest().len()
            )));
        }
        Ok(())
    }
}

/// The child of `parent` (a box of `bytes`) of kind `kind`.
fn child(bytes: &[u8], parent: &BoxRef, kind: &[u8; 4]) -> Result<Option<BoxRef>> {
    Ok(children(bytes, parent.start + parent.header, parent.end)?.into_iter().find(|b| &b.kind == kind))
}

fn require(bytes: &[u8], parent: &BoxRef, kind: &[u8; 4]) -> Result<BoxRef> {
    child(bytes, parent, kind)?.ok_or_else(|| {
        let name = BoxRef { kind: *kind, start: 0, header: 0, end: 0 }.name();
        corrupt(format!("'{}' has no '{name}' box", parent.name()))
    })
}

/// Parses a whole file held in memory: `moov`, then each `moof` in file order.
pub fn demux(file: &[u8], limits: &DemuxLimits) -> Result<Movie> {
    if !matches!(file.get(4..8), Some(b"ftyp" | b"styp" | b"moov" | b"free" | b"wide" | b"mdat" | b"skip")) {
        return Err(Error::UnsupportedFormat { what: "not an MP4/MOV file (no ISO BMFF box at the start)".into() });
    }
    let top = children(file, 0, file.len())?;
    let moov = top.iter().find(|b| &b.kind == b"moov").ok_or_else(|| corrupt("no 'moov' box (the index)"))?;
    let mut movie = Movie::from_moov(moov.whole(file), file.len() as u64, limits)?;
    for moof in top.iter().filter(|b| &b.kind == b"moof") {
        movie.add_fragment(moof.whole(file), moof.start as u64)?;
    }
    Ok(movie)
}

impl Movie {
    /// A movie read from another container (WebM): no fragments to add later.
    pub(crate) fn from_tracks(
        tracks: Vec<Track>,
        timescale: u32,
        duration: u64,
        file_len: u64,
        limits: &DemuxLimits,
    ) -> Movie {
        Movie { tracks, timescale, duration, fragmented: false, file_len, limits: *limits, trex: Vec::new() }
    }

    /// Parses the `moov` box (`moov` holds header and payload) of a file `file_len` bytes long.
    pub fn from_moov(moov_bytes: &[u8], file_len: u64, limits: &DemuxLimits) -> Result<Movie> {
        let top = children(moov_bytes, 0, moov_bytes.len())?;
        let moov = match top.as_slice() {
            [b] if &b.kind == b"moov" => *b,
            _ => return Err(corrupt("expected exactly one 'moov' box")),
        };
        let mvhd = require(moov_bytes, &moov, b"mvhd")?;
        let (timescale, duration) = timescale_and_duration(mvhd.payload(moov_bytes), "mvhd")?;
        let mut movie = Movie {
            tracks: Vec::new(),
            timescale,
            duration,
            fragmented: false,
            file_len,
            limits: *limits,
            trex: Vec::new(),
        };
        let boxes = children(moov_bytes, moov.start + moov.header, moov.end)?;
        let traks = boxes.iter().filter(|b| &b.kind == b"trak").count();
        if traks > limits.max_tracks as usize {
            return Err(Error::TooLarge {
                budget: Budget::Frames,
                detail: format!("{traks} tracks exceeds the limit of {}", limits.max_tracks),
            });
        }
        if let Some(mvex) = boxes.iter().find(|b| &b.kind == b"mvex") {
            movie.fragmented = true;
            for trex in children(moov_bytes, mvex.start + mvex.header, mvex.end)?.iter().filter(|b| &b.kind == b"trex")
            {
                let mut c = Cursor::new(trex.payload(moov_bytes), "trex");
                c.skip(4)?;
                let id = c.u32()?;
                c.skip(4)?; // default sample description index
                let d = TrexDefaults { duration: c.u32()?, size: c.u32()?, flags: c.u32()? };
                movie.trex.push((id, d));
            }
        }
        let mut total = 0u64;
        for trak in boxes.iter().filter(|b| &b.kind == b"trak") {
            if let Some(track) = movie.parse_trak(moov_bytes, trak, total)? {
                total += track.samples.len() as u64;
                movie.tracks.push(track);
            }
        }
        Ok(movie)
    }

    /// A track, or `None` for one that is neither video nor audio (text, timecode, hint).
    fn parse_trak(&self, bytes: &[u8], trak: &BoxRef, samples_so_far: u64) -> Result<Option<Track>> {
        let tkhd = require(bytes, trak, b"tkhd")?;
        let mut c = Cursor::new(tkhd.payload(bytes), "tkhd");
        let version = c.u8()?;
        c.skip(3)?;
        c.skip(if version == 1 { 16 } else { 8 })?;
        let id = c.u32()?;
        c.skip(4)?;
        c.skip(if version == 1 { 8 } else { 4 })?;
        c.skip(8 + 2 + 2 + 2 + 2)?;
        let mut matrix = [0i32; 9];
        for m in &mut matrix {
            *m = c.u32()? as i32;
        }
        let rotation = rotation_of(&matrix);

        let mdia = require(bytes, trak, b"mdia")?;
        let hdlr = require(bytes, &mdia, b"hdlr")?;
        let handler = hdlr.payload(bytes).get(8..12).unwrap_or_default();
        let kind = match handler {
            b"vide" => TrackKind::Video,
            b"soun" => TrackKind::Audio,
            _ => return Ok(None),
        };
        let mdhd = require(bytes, &mdia, b"mdhd")?;
        let (timescale, duration) = timescale_and_duration(mdhd.payload(bytes), "mdhd")?;
        if timescale == 0 {
            return Err(corrupt(format!("track {id} has a timescale of 0")));
        }
        let stbl = require(bytes, &require(bytes, &mdia, b"minf")?, b"stbl")?;
        let entry = parse_sample_entry(bytes, &require(bytes, &stbl, b"stsd")?, kind)?;
        let (edit_start, edit_length) = match child(bytes, trak, b"edts")? {
            Some(edts) => match child(bytes, &edts, b"elst")? {
                Some(elst) => edit_list(elst.payload(bytes), self.timescale, timescale)?,
                None => (0, None),
            },
            None => (0, None),
        };
        let budget = u64::from(self.limits.max_samples).saturating_sub(samples_so_far);
        let samples = sample_table(bytes, &stbl, edit_start, budget, self.file_len, self.limits.max_samples)?;
        let duration = if duration == 0 { samples.iter().map(|s| u64::from(s.duration)).sum() } else { duration };
        // Audio whose edit ends before its last sample does: the encoder's padding (an Opus or
        // AAC encoder's last frame is whole). Counted only when over one movie tick, the edit's
        // own precision; a zero-length edit means "to the end" in some writers.
        let end_padding_ns = match edit_length {
            Some(length) if kind == TrackKind::Audio && length > 0 => {
                let movie_scale = i128::from(self.timescale.max(1));
                let shown = i128::from(length) * i128::from(timescale) / movie_scale;
                let end = samples.iter().map(|s| i128::from(s.pts) + i128::from(s.duration)).max().unwrap_or(0);
                let padding = end - shown;
                if padding * movie_scale > i128::from(timescale) {
                    u64::try_from(padding * 1_000_000_000 / i128::from(timescale)).unwrap_or(0)
                } else {
                    0
                }
            }
            _ => 0,
        };
        Ok(Some(Track {
            id,
            kind,
            fourcc: entry.fourcc,
            codec: entry.codec,
            description: entry.description,
            vpcc: entry.vpcc,
            width: entry.width,
            height: entry.height,
            rotation,
            timescale,
            duration,
            sample_rate: entry.sample_rate,
            channels: entry.channels,
            edit_start,
            end_padding_ns,
            samples,
        }))
    }

    /// Adds the samples of one `moof` (header and payload in `moof_bytes`) that starts at
    /// `moof_offset` in the file.
    pub fn add_fragment(&mut self, moof_bytes: &[u8], moof_offset: u64) -> Result<()> {
        let top = children(moof_bytes, 0, moof_bytes.len())?;
        let moof = match top.as_slice() {
            [b] if &b.kind == b"moof" => *b,
            _ => return Err(corrupt("expected exactly one 'moof' box")),
        };
        self.fragmented = true;
        let mut total: u64 = self.tracks.iter().map(|t| t.samples.len() as u64).sum();
        for traf in children(moof_bytes, moof.start + moof.header, moof.end)?.iter().filter(|b| &b.kind == b"traf") {
            let tfhd = require(moof_bytes, traf, b"tfhd")?;
            let mut c = Cursor::new(tfhd.payload(moof_bytes), "tfhd");
            let flags = c.u32()? & 0xFF_FFFF;
            let id = c.u32()?;
            let defaults = self.trex.iter().find(|(t, _)| *t == id).map(|(_, d)| *d).unwrap_or_default();
            // Without an explicit base, offsets count from the moof (default-base-is-moof, or
            // the first traf's rule, which is the same for the single-traf files seen in practice).
            let base = if flags & 0x1 != 0 { c.u64()? } else { moof_offset };
            if flags & 0x2 != 0 {
                c.skip(4)?;
            }
            let duration = if flags & 0x8 != 0 { c.u32()? } else { defaults.duration };
            let size = if flags & 0x10 != 0 { c.u32()? } else { defaults.size };
            let sample_flags = if flags & 0x20 != 0 { c.u32()? } else { defaults.flags };
            let file_len = self.file_len;
            let max_samples = self.limits.max_samples;
            let Some(track) = self.tracks.iter_mut().find(|t| t.id == id) else { continue };
            let mut dts = match child(moof_bytes, traf, b"tfdt")? {
                Some(tfdt) => {
                    let mut c = Cursor::new(tfdt.payload(moof_bytes), "tfdt");
                    let v = c.u8()?;
                    c.skip(3)?;
                    let t = if v == 1 { c.u64()? } else { u64::from(c.u32()?) };
                    i64::try_from(t).map_err(|_| corrupt("'tfdt' time out of range"))? - track.edit_start
                }
                None => track.samples.last().map_or(-track.edit_start, |s| s.dts + i64::from(s.duration)),
            };
            let mut next_offset = base;
            for trun in children(moof_bytes, traf.start + traf.header, traf.end)?.iter().filter(|b| &b.kind == b"trun")
            {
                let mut c = Cursor::new(trun.payload(moof_bytes), "trun");
                let version = c.u8()?;
                let tflags = u32::from(c.u16()?) << 8 | u32::from(c.u8()?);
                let count = c.u32()?;
                let mut offset = if tflags & 0x1 != 0 {
                    base.saturating_add_signed(i64::from(c.u32()? as i32))
                } else {
                    next_offset
                };
                let first_flags = if tflags & 0x4 != 0 { Some(c.u32()?) } else { None };
                let width = [0x100, 0x200, 0x400, 0x800].iter().filter(|&&f| tflags & f != 0).count() * 4;
                c.check_table(count, width)?;
                total += u64::from(count);
                if total > u64::from(max_samples) {
                    return Err(Error::too_large(Budget::Frames, total, u64::from(max_samples), "maxSamples"));
                }
                track.samples.try_reserve(count as usize).map_err(|_| {
                    Error::too_large(Budget::Bytes, u64::from(count), u64::from(max_samples), "maxSamples")
                })?;
                for i in 0..count {
                    let d = if tflags & 0x100 != 0 { c.u32()? } else { duration };
                    let s = if tflags & 0x200 != 0 { c.u32()? } else { size };
                    let f = if tflags & 0x400 != 0 {
                        c.u32()?
                    } else if i == 0 {
                        first_flags.unwrap_or(sample_flags)
                    } else {
                        sample_flags
                    };
                    let cts = if tflags & 0x800 != 0 {
                        let raw = c.u32()?;
                        if version == 0 { i64::from(raw) } else { i64::from(raw as i32) }
                    } else {
                        0
                    };
                    check_inside(offset, s, file_len, track.samples.len())?;
                    // sample_is_non_sync_sample is bit 16 of the flags.
                    track.samples.push(SampleInfo {
                        offset,
                        size: s,
                        dts,
                        pts: dts + cts,
                        duration: d,
                        keyframe: f & 0x1_0000 == 0,
                    });
                    offset += u64::from(s);
                    dts += i64::from(d);
                }
                next_offset = offset;
            }
        }
        for t in &mut self.tracks {
            let end = t.samples.iter().map(|s| s.pts + i64::from(s.duration)).max().unwrap_or(0);
            t.duration = t.duration.max(u64::try_from(end).unwrap_or(0));
        }
        Ok(())
    }
}

/// `mvhd` and `mdhd` share their start: version, flags, creation and modification times (32
/// or 64 bits by version), then the timescale and the duration.
fn timescale_and_duration(payload: &[u8], what: &'static str) -> Result<(u32, u64)> {
    let mut c = Cursor::new(payload, what);
    let version = c.u8()?;
    c.skip(3)?;
    if version == 1 {
        c.skip(16)?;
        Ok((c.u32()?, c.u64()?))
    } else {
        c.skip(8)?;
        Ok((c.u32()?, u64::from(c.u32()?)))
    }
}

fn check_inside(offset: u64, size: u32, file_len: u64, index: usize) -> Result<()> {
    if offset.checked_add(u64::from(size)).is_none_or(|end| end > file_len) {
        return Err(corrupt(format!(
            "sample {index} ({size} bytes at offset {offset}) lies past the end of the {file_len}-byte file"
        )));
    }
    Ok(())
}

/// Clockwise quarter turns from a `tkhd` matrix (16.16 a, b, c, d); other transforms (skew,
/// mirror) count as 0.
fn rotation_of(m: &[i32; 9]) -> u16 {
    const ONE: i32 = 0x1_0000;
    const MINUS_ONE: i32 = -0x1_0000;
    match (m.first(), m.get(1), m.get(3), m.get(4)) {
        (Some(&0), Some(&ONE), Some(&MINUS_ONE), Some(&0)) => 90,
        (Some(&MINUS_ONE), Some(&0), Some(&0), Some(&MINUS_ONE)) => 180,
        (Some(&0), Some(&MINUS_ONE), Some(&ONE), Some(&0)) => 270,
        _ => 0,
    }
}

/// The first media time presented: the first non-empty edit's `media_time` minus any empty
/// edits before it (a delay, in the movie's timescale, converted to the track's).
/// Where the edit list starts presenting the media (ticks; negative: an initial delay), and
/// for how long its first media edit presents it (movie ticks), when it has one.
fn edit_list(payload: &[u8], movie_timescale: u32, track_timescale: u32) -> Result<(i64, Option<u64>)> {
    let mut c = Cursor::new(payload, "elst");
    let version = c.u8()?;
    c.skip(3)?;
    let count = c.u32()?;
    c.check_table(count, if version == 1 { 20 } else { 12 })?;
    let mut delay = 0i64;
    for _ in 0..count {
        let (duration, media_time) =
            if version == 1 { (c.u64()?, c.u64()? as i64) } else { (u64::from(c.u32()?), i64::from(c.u32()? as i32)) };
        c.skip(4)?;
        if media_time == -1 {
            let ticks = i128::from(duration) * i128::from(track_timescale) / i128::from(movie_timescale.max(1));
            delay = delay.saturating_add(i64::try_from(ticks).unwrap_or(i64::MAX));
            continue;
        }
        return Ok((media_time.saturating_sub(delay), Some(duration)));
    }
    Ok((-delay, None))
}

struct SampleEntry {
    fourcc: String,
    codec: Option<String>,
    description: Option<Vec<u8>>,
    vpcc: Option<Vec<u8>>,
    width: u32,
    height: u32,
    sample_rate: u32,
    channels: u16,
}

fn fourcc(kind: &[u8; 4]) -> String {
    BoxRef { kind: *kind, start: 0, header: 0, end: 0 }.name()
}

/// The first sample description (files with several are rare and not supported).
fn parse_sample_entry(bytes: &[u8], stsd: &BoxRef, kind: TrackKind) -> Result<SampleEntry> {
    let from = stsd.start + stsd.header + 8; // version, flags, entry count
    if from > stsd.end {
        return Err(corrupt("'stsd' is cut short"));
    }
    let entry = *children(bytes, from, stsd.end)?.first().ok_or_else(|| corrupt("'stsd' has no sample entry"))?;
    let payload = entry.payload(bytes);
    let mut out = SampleEntry {
        fourcc: fourcc(&entry.kind),
        codec: None,
        description: None,
        vpcc: None,
        width: 0,
        height: 0,
        sample_rate: 0,
        channels: 0,
    };
    let mut c = Cursor::new(payload, "sample entry");
    c.skip(8)?; // reserved, data reference index
    let boxes_at = match kind {
        TrackKind::Video => {
            c.skip(16)?;
            out.width = u32::from(c.u16()?);
            out.height = u32::from(c.u16()?);
            78
        }
        TrackKind::Audio => {
            let version = c.u16()?; // QuickTime sound description version
            c.skip(6)?;
            out.channels = c.u16()?;
            c.skip(6)?;
            out.sample_rate = c.u32()? >> 16;
            match version {
                1 => 28 + 16,
                2 => {
                    // QuickTime v2: a 64-bit float rate and a 32-bit channel count follow.
                    c.skip(4)?;
                    out.sample_rate = f64::from_bits(c.u64()?) as u32;
                    out.channels = u16::try_from(c.u32()?).unwrap_or(u16::MAX);
                    28 + 36
                }
                _ => 28,
            }
        }
    };
    let start = entry.start + entry.header + boxes_at;
    let inner = if start <= entry.end { children(bytes, start, entry.end).unwrap_or_default() } else { Vec::new() };
    let find = |k: &[u8; 4]| inner.iter().find(|b| &b.kind == k).map(|b| b.payload(bytes));
    match &entry.kind {
        b"avc1" | b"avc3" => {
            let avcc = find(b"avcC").ok_or_else(|| corrupt("'avc1' entry without 'avcC'"))?;
            out.codec = Some(avc_codec(&out.fourcc, avcc)?);
            out.description = Some(avcc.to_vec());
        }
        b"hvc1" | b"hev1" => {
            let hvcc = find(b"hvcC").ok_or_else(|| corrupt("'hvc1' entry without 'hvcC'"))?;
            out.codec = Some(hevc_codec(&out.fourcc, hvcc)?);
            out.description = Some(hvcc.to_vec());
        }
        b"av01" => {
            let av1c = find(b"av1C").ok_or_else(|| corrupt("'av01' entry without 'av1C'"))?;
            out.codec = Some(av1_codec(av1c)?);
            out.description = Some(av1c.to_vec());
        }
        b"vp09" | b"vp08" => {
            let vpcc = find(b"vpcC").ok_or_else(|| corrupt("'vp09' entry without 'vpcC'"))?;
            // Full box: version and flags, then profile, level, bit depth (high 4 bits).
            let (Some(&profile), Some(&level), Some(&bits)) = (vpcc.get(4), vpcc.get(5), vpcc.get(6)) else {
                return Err(corrupt("'vpcC' is cut short"));
            };
            out.codec = Some(if &entry.kind == b"vp08" {
                "vp8".to_string()
            } else {
                format!("vp09.{profile:02}.{level:02}.{:02}", bits >> 4)
            });
            out.vpcc = Some(vpcc.to_vec());
        }
        b"mp4a" => {
            let esds = find(b"esds").ok_or_else(|| corrupt("'mp4a' entry without 'esds'"))?;
            let (object_type, config) = parse_esds(esds)?;
            match object_type {
                0x40 => {
                    let config = config.ok_or_else(|| corrupt("AAC 'esds' without an AudioSpecificConfig"))?;
                    let asc = AudioSpecificConfig::parse(&config)?;
                    out.codec = Some(format!("mp4a.40.{}", asc.object_type));
                    // The sample entry often says 2 channels whatever the stream holds: the
                    // AudioSpecificConfig is what the decoder goes by.
                    if asc.channels != 0 {
                        out.channels = asc.channels;
                    }
                    if asc.sample_rate != 0 {
                        out.sample_rate = asc.sample_rate;
                    }
                    out.description = Some(config);
                }
                0x69 | 0x6B => out.codec = Some(format!("mp4a.{object_type:02x}")), // MP3
                _ => {}
            }
        }
        b"Opus" => {
            out.codec = Some("opus".into());
            // The OpusHead WebCodecs and WebM take, rebuilt from `dOps` (a copy keeps pre-skip,
            // gain and channel mapping); an entry without one gets none.
            out.description = find(b"dOps").map(opus_head).transpose()?;
        }
        b"fLaC" => out.codec = Some("flac".into()),
        _ => {} // encrypted (encv/enca) or a codec WebCodecs cannot name
    }
    Ok(out)
}

/// An `OpusHead` (RFC 7845 5.1) from a `dOps` payload ("Encapsulation of Opus in ISO Base
/// Media File Format" 4.3.2): the same fields, little-endian, after the magic, version 1.
fn opus_head(dops: &[u8]) -> Result<Vec<u8>> {
    let fields = dops.get(1..11).ok_or_else(|| corrupt("'dOps' is cut short"))?;
    let (Some(&channels), Some(&family)) = (fields.first(), fields.get(9)) else {
        return Err(corrupt("'dOps' is cut short"));
    };
    let be16 = |at: usize| fields.get(at..at + 2).and_then(|b| b.try_into().ok()).map_or(0, u16::from_be_bytes);
    let be32 = |at: usize| fields.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes);
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, channels]);
    head.extend_from_slice(&be16(1).to_le_bytes()); // pre-skip
    head.extend_from_slice(&be32(3).to_le_bytes()); // input sample rate
    head.extend_from_slice(&be16(7).to_le_bytes()); // output gain
    head.push(family);
    if family != 0 {
        // Stream count, coupled count, one mapping byte per channel.
        let table = dops
            .get(11..11 + 2 + usize::from(channels))
            .ok_or_else(|| corrupt("'dOps' channel mapping is cut short"))?;
        head.extend_from_slice(table);
    }
    Ok(head)
}

/// `avc1.64001f`: profile, constraint flags and level from an AVCDecoderConfigurationRecord.
pub(crate) fn avc_codec(prefix: &str, avcc: &[u8]) -> Result<String> {
    let p = avcc.get(1..4).ok_or_else(|| corrupt("'avcC' is cut short"))?;
    Ok(format!("{prefix}.{}", p.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// `av01.0.04M.08`: profile, level, tier and bit depth from an AV1CodecConfigurationRecord.
pub(crate) fn av1_codec(av1c: &[u8]) -> Result<String> {
    let (Some(&a), Some(&b)) = (av1c.get(1), av1c.get(2)) else { return Err(corrupt("'av1C' is cut short")) };
    let depth = if b & 0x40 == 0 {
        8
    } else if b & 0x20 != 0 {
        12
    } else {
        10
    };
    Ok(format!("av01.{}.{:02}{}.{depth:02}", a >> 5, a & 0x1F, if b & 0x80 != 0 { 'H' } else { 'M' }))
}

/// `hvc1.1.6.L93.B0`-style string from an HEVCDecoderConfigurationRecord (ISO 14496-15 E.3).
pub(crate) fn hevc_codec(fourcc: &str, hvcc: &[u8]) -> Result<String> {
    let mut c = Cursor::new(hvcc, "hvcC");
    c.skip(1)?;
    let b = c.u8()?;
    let compat = c.u32()?;
    let constraints = c.take(6)?;
    let level = c.u8()?;
    let space = ["", "A", "B", "C"].get(usize::from(b >> 6)).copied().unwrap_or_default();
    let mut s = format!(
        "{fourcc}.{space}{}.{:x}.{}{level}",
        b & 0x1F,
        compat.reverse_bits(),
        if b & 0x20 != 0 { 'H' } else { 'L' }
    );
    let last = constraints.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    for byte in constraints.get(..last).unwrap_or_default() {
        s.push_str(&format!(".{byte:X}"));
    }
    Ok(s)
}

/// The object type and DecoderSpecificInfo of an `esds` (ISO 14496-1 descriptors).
fn parse_esds(payload: &[u8]) -> Result<(u8, Option<Vec<u8>>)> {
    let mut c = Cursor::new(payload, "esds");
    c.skip(4)?;
    let (tag, _) = descriptor(&mut c)?;
    if tag != 0x03 {
        return Err(corrupt(format!("'esds' starts with descriptor {tag:#x}, not an ES_Descriptor")));
    }
    c.skip(2)?;
    let flags = c.u8()?;
    if flags & 0x80 != 0 {
        c.skip(2)?;
    }
    if flags & 0x40 != 0 {
        let len = c.u8()?;
        c.skip(usize::from(len))?;
    }
    if flags & 0x20 != 0 {
        c.skip(2)?;
    }
    let (tag, _) = descriptor(&mut c)?;
    if tag != 0x04 {
        return Err(corrupt("'esds' has no DecoderConfigDescriptor"));
    }
    let object_type = c.u8()?;
    c.skip(12)?;
    if c.rest().is_empty() {
        return Ok((object_type, None));
    }
    let (tag, len) = descriptor(&mut c)?;
    Ok((object_type, if tag == 0x05 { Some(c.take(len)?.to_vec()) } else { None }))
}

/// The leading fields of an MPEG-4 AudioSpecificConfig (ISO 14496-3 1.6.2.1).
pub(crate) struct AudioSpecificConfig {
    pub object_type: u8,
    pub sample_rate: u32,
    pub channels: u16,
}

impl AudioSpecificConfig {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        const RATES: [u32; 13] =
            [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
        let mut bits = 0u64;
        for &b in bytes.iter().take(8) {
            bits = bits << 8 | u64::from(b);
        }
        let total = bytes.len().min(8) * 8;
        let mut used = 0usize;
        let mut read = |n: usize| -> Result<u32> {
            if used + n > total {
                return Err(corrupt("AudioSpecificConfig is cut short"));
            }
            used += n;
            Ok(((bits >> (total - used)) & ((1u64 << n) - 1)) as u32)
        };
        let mut object_type = read(5)?;
        if object_type == 31 {
            object_type = 32 + read(6)?;
        }
        let index = read(4)?;
        let sample_rate = if index == 15 { read(24)? } else { RATES.get(index as usize).copied().unwrap_or(0) };
        let channels = read(4)? as u16;
        Ok(AudioSpecificConfig { object_type: object_type as u8, sample_rate, channels })
    }
}

/// A descriptor's tag and its expandable size (up to four 7-bit bytes).
fn descriptor(c: &mut Cursor<'_>) -> Result<(u8, usize)> {
    let tag = c.u8()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = c.u8()?;
        len = len << 7 | usize::from(b & 0x7F);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, len))
}

/// Every sample of a `stbl`: offsets from stsc+stco, sizes from stsz, times from stts+ctts,
/// key frames from stss. `budget` is how many samples may still be indexed.
fn sample_table(
    bytes: &[u8],
    stbl: &BoxRef,
    edit_start: i64,
    budget: u64,
    file_len: u64,
    max_samples: u32,
) -> Result<Vec<SampleInfo>> {
    let table = |k: &[u8; 4]| -> Result<Option<&[u8]>> { Ok(child(bytes, stbl, k)?.map(|b| b.payload(bytes))) };
    // Sizes (stsz, or the compact stz2 is not supported: it is very rare).
    let stsz = table(b"stsz")?.ok_or_else(|| corrupt("'stbl' has no 'stsz' (sample sizes)"))?;
    let mut sizes = Cursor::new(stsz, "stsz");
    sizes.skip(4)?;
    let uniform = sizes.u32()?;
    let count = sizes.u32()?;
    if u64::from(count) > budget {
        return Err(Error::too_large(
            Budget::Frames,
            u64::from(count),
            budget.min(u64::from(max_samples)),
            "maxSamples",
        ));
    }
    if uniform == 0 {
        sizes.check_table(count, 4)?;
    }
    let mut samples: Vec<SampleInfo> = Vec::new();
    samples
        .try_reserve_exact(count as usize)
        .map_err(|_| Error::too_large(Budget::Bytes, u64::from(count), budget, "maxSamples"))?;

    // Chunk offsets.
    let (offsets, wide) = match (table(b"stco")?, table(b"co64")?) {
        (Some(p), _) => (p, false),
        (None, Some(p)) => (p, true),
        (None, None) => return Err(corrupt("'stbl' has no 'stco'/'co64' (chunk offsets)")),
    };
    let mut chunks = Cursor::new(offsets, if wide { "co64" } else { "stco" });
    chunks.skip(4)?;
    let chunk_count = chunks.u32()?;
    chunks.check_table(chunk_count, if wide { 8 } else { 4 })?;
    let stsc = table(b"stsc")?.ok_or_else(|| corrupt("'stbl' has no 'stsc' (samples per chunk)"))?;
    let mut runs = Cursor::new(stsc, "stsc");
    runs.skip(4)?;
    let run_count = runs.u32()?;
    runs.check_table(run_count, 12)?;
    let mut run_list = Vec::with_capacity(run_count as usize);
    for _ in 0..run_count {
        let first = runs.u32()?;
        let per_chunk = runs.u32()?;
        runs.skip(4)?;
        run_list.push((first, per_chunk));
    }
    let mut run = 0usize;
    'chunks: for chunk in 1..=chunk_count {
        while run_list.get(run + 1).is_some_and(|&(first, _)| first <= chunk) {
            run += 1;
        }
        let per_chunk = run_list.get(run).map_or(0, |&(_, n)| n);
        let mut offset = if wide { chunks.u64()? } else { u64::from(chunks.u32()?) };
        for _ in 0..per_chunk {
            if samples.len() == count as usize {
                break 'chunks;
            }
            let size = if uniform == 0 { sizes.u32()? } else { uniform };
            check_inside(offset, size, file_len, samples.len())?;
            samples.push(SampleInfo { offset, size, dts: 0, pts: 0, duration: 0, keyframe: true });
            offset += u64::from(size);
        }
    }
    if samples.len() != count as usize {
        return Err(corrupt(format!("the chunk tables place {} samples, 'stsz' says {count}", samples.len())));
    }

    // Decode times.
    let stts = table(b"stts")?.ok_or_else(|| corrupt("'stbl' has no 'stts' (sample durations)"))?;
    let mut times = Cursor::new(stts, "stts");
    times.skip(4)?;
    let entries = times.u32()?;
    times.check_table(entries, 8)?;
    let mut dts = -edit_start;
    let mut covered = 0usize;
    let mut last = 0u32;
    'stts: for _ in 0..entries {
        let n = times.u32()?;
        let delta = times.u32()?;
        for _ in 0..n {
            let Some(s) = samples.get_mut(covered) else { break 'stts };
            (s.dts, s.pts, s.duration) = (dts, dts, delta);
            dts += i64::from(delta);
            covered += 1;
            last = delta;
        }
    }
    // Samples stts does not cover keep the last duration (as FFmpeg does).
    for s in samples.iter_mut().skip(covered) {
        (s.dts, s.pts, s.duration) = (dts, dts, last);
        dts += i64::from(last);
    }

    // Composition offsets (B-frames): version 0 is unsigned on paper, signed in practice.
    if let Some(ctts) = table(b"ctts")? {
        let mut c = Cursor::new(ctts, "ctts");
        c.skip(4)?;
        let entries = c.u32()?;
        c.check_table(entries, 8)?;
        let mut it = samples.iter_mut();
        'ctts: for _ in 0..entries {
            let n = c.u32()?;
            let offset = i64::from(c.u32()? as i32);
            for _ in 0..n {
                let Some(s) = it.next() else { break 'ctts };
                s.pts = s.dts + offset;
            }
        }
    }

    // Sync samples; without the table every sample is one.
    if let Some(stss) = table(b"stss")? {
        let mut c = Cursor::new(stss, "stss");
        c.skip(4)?;
        let entries = c.u32()?;
        c.check_table(entries, 4)?;
        samples.iter_mut().for_each(|s| s.keyframe = false);
        for _ in 0..entries {
            let n = c.u32()? as usize;
            if let Some(s) = n.checked_sub(1).and_then(|i| samples.get_mut(i)) {
                s.keyframe = true;
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_from_matrix() {
        let one = 0x1_0000;
        assert_eq!(rotation_of(&[one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]), 0);
        assert_eq!(rotation_of(&[0, one, 0, -one, 0, 0, 0, 0, 0x4000_0000]), 90);
        assert_eq!(rotation_of(&[-one, 0, 0, 0, -one, 0, 0, 0, 0x4000_0000]), 180);
        assert_eq!(rotation_of(&[0, -one, 0, one, 0, 0, 0, 0, 0x4000_0000]), 270);
    }

    #[test]
    fn hevc_codec_string() {
        // Main profile, level 3.1 (93), compat flags 0x60000000, constraint byte 0xB0.
        let mut hvcc = vec![1, 0x01, 0x60, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 93];
        hvcc.extend_from_slice(&[0; 10]);
        assert_eq!(hevc_codec("hvc1", &hvcc).unwrap(), "hvc1.1.6.L93.B0");
    }

    #[test]
    fn empty_edit_delays() {
        // One empty edit of 500 movie ticks (1000/s), then media from 0: delay 0.5 s at 90 kHz.
        let mut p = vec![0, 0, 0, 0, 0, 0, 0, 2];
        p.extend_from_slice(&500u32.to_be_bytes());
        p.extend_from_slice(&(-1i32).to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0]);
        p.extend_from_slice(&1000u32.to_be_bytes());
        p.extend_from_slice(&0i32.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0]);
        // The media edit presents 1000 movie ticks.
        assert_eq!(edit_list(&p, 1000, 90_000).unwrap(), (-45_000, Some(1000)));
    }
}
