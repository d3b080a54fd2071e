//! The WebM / Matroska demuxer: the same track list and sample index as the MP4 demuxer
//! (`Movie`), so the transcoder takes either. Reads EBML elements with every size checked
//! against its parent; samples are located, never copied.
//!
//! Matroska stores presentation times only and frames in decode order: `dts` is set equal to
//! `pts` (for codecs with reordered frames, e.g. H.264 with B-frames, decode order is the
//! storage order and `dts` is not meaningful). Laced blocks (several frames in one block,
//! common for audio) are split into their frames.

// Parses untrusted input: no panicking shortcuts.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::ids::*;
use crate::error::{Budget, Error, Result};
use crate::video::mp4::{
    AudioSpecificConfig, DemuxLimits, Movie, SampleInfo, Track, TrackKind, av1_codec, avc_codec, hevc_codec,
};

/// Frames in one laced block at most (Matroska stores the count in a byte).
const MAX_LACED: usize = 256;

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::corrupt("webm", detail)
}

/// Whether `bytes` start with an EBML header (WebM, Matroska).
pub fn is_webm(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&EBML.to_be_bytes()[..])
}

/// One element: its ID, where its payload lies, and whether its size was "unknown"
/// (live streams: it runs to the end of its parent).
#[derive(Debug, Clone, Copy)]
struct Element {
    id: u32,
    start: usize,
    data: usize,
    end: usize,
}

/// A variable-length integer at `at`: (value, length). IDs keep their marker bit; sizes
/// do not, and a size of all ones means unknown (`None`).
fn vint(bytes: &[u8], at: usize, keep_marker: bool) -> Result<(Option<u64>, usize)> {
    let first = *bytes.get(at).ok_or_else(|| corrupt(format!("cut short at offset {at}")))?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || (keep_marker && len > 4) {
        return Err(corrupt(format!("invalid variable-length number at offset {at}")));
    }
    let raw = bytes.get(at..at + len).ok_or_else(|| corrupt(format!("cut short at offset {at}")))?;
    let mut value = 0u64;
    for &b in raw {
        value = value << 8 | u64::from(b);
    }
    if keep_marker {
        return Ok((Some(value), len));
    }
    let marker = 1u64 << (7 * len);
    let value = value & (marker - 1);
    Ok((if value == marker - 1 { None } else { Some(value) }, len))
}

/// The elements that follow each other in `bytes[from..to]`.
fn children(bytes: &[u8], from: usize, to: usize) -> Result<Vec<Element>> {
    let mut out = Vec::new();
    let mut at = from;
    let end = to.min(bytes.len());
    while at < end {
        let (id, id_len) = vint(bytes, at, true)?;
        let (size, size_len) = vint(bytes, at + id_len, false)?;
        let data = at + id_len + size_len;
        let stop = match size {
            Some(n) => {
                usize::try_from(n).ok().and_then(|n| data.checked_add(n)).filter(|&e| e <= end).ok_or_else(|| {
                    corrupt(format!(
                        "element {:#x} at offset {at} says {n} bytes, but {} remain",
                        id.unwrap_or(0),
                        end.saturating_sub(data)
                    ))
                })?
            }
            None => end,
        };
        out.push(Element { id: u32::try_from(id.unwrap_or(0)).unwrap_or(0), start: at, data, end: stop });
        at = stop;
    }
    Ok(out)
}

fn payload<'a>(bytes: &'a [u8], e: &Element) -> &'a [u8] {
    bytes.get(e.data..e.end).unwrap_or_default()
}

fn uint(bytes: &[u8], e: &Element) -> u64 {
    payload(bytes, e).iter().take(8).fold(0u64, |v, &b| v << 8 | u64::from(b))
}

/// A signed integer element: big-endian two's complement in 0-8 bytes.
fn int(bytes: &[u8], e: &Element) -> i64 {
    let p = payload(bytes, e);
    let n = p.len().min(8);
    if n == 0 {
        return 0;
    }
    let shift = 64 - 8 * n as u32;
    ((uint(bytes, e) << shift) as i64) >> shift
}

fn float(bytes: &[u8], e: &Element) -> f64 {
    let p = payload(bytes, e);
    match p.len() {
        4 => f64::from(f32::from_be_bytes(p.try_into().unwrap_or_default())),
        8 => f64::from_be_bytes(p.try_into().unwrap_or_default()),
        _ => 0.0,
    }
}

fn find(list: &[Element], id: u32) -> Option<&Element> {
    list.iter().find(|e| e.id == id)
}

struct TrackHeader {
    number: u64,
    track: Track,
    /// Nanoseconds per frame, when the file says.
    default_duration_ns: u64,
}

/// Parses a whole WebM/Matroska file held in memory.
pub fn demux(file: &[u8], limits: &DemuxLimits) -> Result<Movie> {
    if !is_webm(file) {
        return Err(Error::UnsupportedFormat { what: "not a WebM/Matroska file (no EBML header)".into() });
    }
    let top = children(file, 0, file.len())?;
    let segment = find(&top, SEGMENT).ok_or_else(|| corrupt("no Segment element"))?;
    let level1 = children(file, segment.data, segment.end)?;
    let scale_ns = find(&level1, INFO)
        .map(|info| children(file, info.data, info.end))
        .transpose()?
        .and_then(|info| find(&info, TIMESTAMP_SCALE).map(|e| uint(file, e)))
        .filter(|&v| v > 0)
        .unwrap_or(1_000_000);
    // Ticks per second of block times: 1000 for the usual millisecond scale.
    let timescale = u32::try_from(1_000_000_000 / scale_ns)
        .ok()
        .filter(|&t| t > 0 && 1_000_000_000 % scale_ns == 0)
        .ok_or_else(|| Error::UnsupportedFormat {
            what: format!("WebM TimecodeScale {scale_ns} ns (not a whole fraction of a second)"),
        })?;
    let tracks_el = find(&level1, TRACKS).ok_or_else(|| corrupt("no Tracks element"))?;
    let entries = children(file, tracks_el.data, tracks_el.end)?;
    if entries.len() > limits.max_tracks as usize {
        return Err(Error::TooLarge {
            budget: Budget::Frames,
            detail: format!("{} tracks exceeds the limit of {}", entries.len(), limits.max_tracks),
        });
    }
    let mut headers: Vec<TrackHeader> = Vec::new();
    for entry in entries.iter().filter(|e| e.id == TRACK_ENTRY) {
        if let Some(h) = track_header(file, entry, timescale)? {
            headers.push(h);
        }
    }

    let mut total = 0u64;
    for cluster in level1.iter().filter(|e| e.id == CLUSTER) {
        let parts = children(file, cluster.data, cluster.end)?;
        let base = find(&parts, TIMESTAMP).map_or(0, |e| uint(file, e));
        let base = i64::try_from(base).map_err(|_| corrupt("cluster time out of range"))?;
        for part in &parts {
            let (block, group) = match part.id {
                SIMPLE_BLOCK => (*part, BlockGroupFields::default()),
                BLOCK_GROUP => {
                    let inner = children(file, part.data, part.end)?;
                    let Some(block) = find(&inner, BLOCK) else { continue };
                    let fields = BlockGroupFields {
                        key: Some(find(&inner, REFERENCE_BLOCK).is_none()),
                        duration: find(&inner, BLOCK_DURATION).map(|e| uint(file, e)),
                        // A signed count of nanoseconds; a negative one (padding at the start) is not ours to apply.
                        discard_padding_ns: find(&inner, DISCARD_PADDING)
                            .map_or(0, |e| int(file, e).max(0).unsigned_abs()),
                    };
                    (*block, fields)
                }
                _ => continue,
            };
            total += add_block(file, &block, base, &group, &mut headers, limits, total)?;
        }
    }
    // Durations: to the next sample in storage order; the last from the file's default.
    let mut tracks = Vec::with_capacity(headers.len());
    for mut h in headers {
        let default = u32::try_from(rescale(h.default_duration_ns, timescale, 1_000_000_000)).unwrap_or(0);
        let opus = h.track.fourcc == "A_OPUS";
        let n = h.track.samples.len();
        for i in 0..n {
            let next = h.track.samples.get(i + 1).map(|s| s.pts);
            if let Some(s) = h.track.samples.get_mut(i)
                && s.duration == 0
            {
                s.duration = match next {
                    Some(p) if p > s.pts => u32::try_from(p - s.pts).unwrap_or(default),
                    // The last Opus packet: its own header says how long it is.
                    _ if opus && default == 0 => {
                        let packet =
                            file.get(s.offset as usize..).and_then(|p| p.get(..s.size as usize)).unwrap_or_default();
                        u32::try_from(rescale(opus_packet_us(packet), timescale, 1_000_000)).unwrap_or(0)
                    }
                    _ => default,
                };
            }
        }
        h.track.duration = h
            .track
            .samples
            .iter()
            .map(|s| s.pts.saturating_add(i64::from(s.duration)))
            .max()
            .map_or(0, |e| u64::try_from(e.saturating_add(h.track.edit_start)).unwrap_or(0));
        tracks.push(h.track);
    }
    let duration = tracks.iter().map(|t| t.duration).max().unwrap_or(0);
    Ok(Movie::from_tracks(tracks, timescale, duration, file.len() as u64, limits))
}

/// A video or audio track's header, or `None` for other kinds (subtitles).
fn track_header(file: &[u8], entry: &Element, timescale: u32) -> Result<Option<TrackHeader>> {
    let fields = children(file, entry.data, entry.end)?;
    let kind = match find(&fields, TRACK_TYPE).map(|e| uint(file, e)) {
        Some(1) => TrackKind::Video,
        Some(2) => TrackKind::Audio,
        _ => return Ok(None),
    };
    let number = find(&fields, TRACK_NUMBER)
        .map(|e| uint(file, e))
        .ok_or_else(|| corrupt("a TrackEntry without TrackNumber"))?;
    let codec_id = find(&fields, CODEC_ID)
        .map(|e| String::from_utf8_lossy(payload(file, e)).trim_end_matches('\0').to_string())
        .unwrap_or_default();
    let private = find(&fields, CODEC_PRIVATE).map(|e| payload(file, e).to_vec());
    let mut track = Track {
        id: u32::try_from(number).unwrap_or(0),
        kind,
        fourcc: codec_id.clone(),
        codec: None,
        description: None,
        vpcc: None,
        width: 0,
        height: 0,
        rotation: 0,
        timescale,
        duration: 0,
        sample_rate: 0,
        channels: 0,
        edit_start: 0,
        end_padding_ns: 0,
        samples: Vec::new(),
    };
    if let Some(video) = find(&fields, VIDEO) {
        let v = children(file, video.data, video.end)?;
        track.width = find(&v, PIXEL_WIDTH).map_or(0, |e| u32::try_from(uint(file, e)).unwrap_or(0));
        track.height = find(&v, PIXEL_HEIGHT).map_or(0, |e| u32::try_from(uint(file, e)).unwrap_or(0));
    }
    if let Some(audio) = find(&fields, AUDIO) {
        let a = children(file, audio.data, audio.end)?;
        track.sample_rate = find(&a, SAMPLING_FREQUENCY).map_or(8000, |e| float(file, e) as u32);
        track.channels = find(&a, CHANNELS).map_or(1, |e| u16::try_from(uint(file, e)).unwrap_or(0));
    }
    // Opus pre-skip and similar: the samples before it are not presented (as an MP4 edit).
    let delay_ns = find(&fields, CODEC_DELAY).map_or(0, |e| uint(file, e));
    track.edit_start =
        i64::try_from((u128::from(delay_ns) * u128::from(timescale) + 500_000_000) / 1_000_000_000).unwrap_or(0);
    let private_ref = private.as_deref();
    track.codec = match codec_id.as_str() {
        "V_VP8" => Some("vp8".into()),
        // Profile 0, level 1, 8 bits: what the CodecPrivate rarely states; decoders accept it.
        "V_VP9" => Some("vp09.00.10.08".into()),
        "V_AV1" => private_ref.map(av1_codec).transpose()?,
        "V_MPEG4/ISO/AVC" => private_ref.map(|p| avc_codec("avc1", p)).transpose()?,
        "V_MPEGH/ISO/HEVC" => private_ref.map(|p| hevc_codec("hvc1", p)).transpose()?,
        "A_OPUS" => Some("opus".into()),
        "A_VORBIS" => Some("vorbis".into()),
        "A_FLAC" => Some("flac".into()),
        "A_AAC" => match private_ref {
            Some(p) => {
                let asc = AudioSpecificConfig::parse(p)?;
                Some(format!("mp4a.40.{}", asc.object_type))
            }
            None => None,
        },
        _ => None,
    };
    if !matches!(codec_id.as_str(), "V_VP8" | "V_VP9") {
        track.description = private;
    }
    let default_duration_ns = find(&fields, DEFAULT_DURATION).map_or(0, |e| uint(file, e));
    Ok(Some(TrackHeader { number, track, default_duration_ns }))
}

/// Adds the frames of one (Simple)Block to its track; returns how many.
#[allow(clippy::too_many_arguments)]
/// What a BlockGroup says about its block beyond the block itself (nothing for a SimpleBlock).
#[derive(Default)]
struct BlockGroupFields {
    /// A key frame unless it names a ReferenceBlock.
    key: Option<bool>,
    duration: Option<u64>,
    discard_padding_ns: u64,
}

fn add_block(
    file: &[u8],
    block: &Element,
    cluster_time: i64,
    group: &BlockGroupFields,
    headers: &mut [TrackHeader],
    limits: &DemuxLimits,
    so_far: u64,
) -> Result<u64> {
    let (number, len) = vint(file, block.data, false)?;
    let number = number.ok_or_else(|| corrupt("a block with an unknown track number"))?;
    let at = block.data + len;
    let head = file.get(at..at + 3).ok_or_else(|| corrupt(format!("block at {} is cut short", block.start)))?;
    let (Some(&t0), Some(&t1), Some(&flags)) = (head.first(), head.get(1), head.get(2)) else {
        return Err(corrupt("block header cut short"));
    };
    let relative = i64::from(i16::from_be_bytes([t0, t1]));
    let Some(header) = headers.iter_mut().find(|h| h.number == number) else { return Ok(0) };
    let frames_at = at + 3;
    let frames = lace_sizes(file, flags, frames_at, block.end)?;
    if so_far + frames.len() as u64 > u64::from(limits.max_samples) {
        return Err(Error::too_large(
            Budget::Frames,
            so_far + frames.len() as u64,
            u64::from(limits.max_samples),
            "maxSamples",
        ));
    }
    let keyframe = group.key.unwrap_or(flags & 0x80 != 0);
    // Padding is the last block's (a muxer writes it there); an earlier one's is not the end.
    header.track.end_padding_ns = group.discard_padding_ns;
    let pts = cluster_time.saturating_add(relative).saturating_sub(header.track.edit_start);
    let timescale = header.track.timescale;
    let block_duration = group.duration.and_then(|d| u32::try_from(d).ok()).unwrap_or(0);
    let per_frame_ns = header.default_duration_ns;
    let count = frames.len();
    let opus = header.track.fourcc == "A_OPUS";
    for (i, (offset, size)) in frames.into_iter().enumerate() {
        // Laced frames follow each other by the default duration (or share the block's).
        let step = i64::try_from(rescale(per_frame_ns, timescale, 1_000_000_000)).unwrap_or(0);
        let t = pts.saturating_add(step.saturating_mul(i as i64));
        let mut d = if count > 1 && step > 0 { step as u32 } else { block_duration };
        if opus && group.discard_padding_ns > 0 {
            // A trimmed packet's BlockDuration is what is shown (FFmpeg writes it so); the
            // sample is the whole packet, with the padding kept apart (`end_padding_ns`), as
            // an MP4's sample table and edit list say it.
            let packet = file.get(offset..).and_then(|p| p.get(..size as usize)).unwrap_or_default();
            d = u32::try_from(rescale(opus_packet_us(packet), timescale, 1_000_000)).unwrap_or(d);
        }
        header.track.samples.push(SampleInfo { offset: offset as u64, size, dts: t, pts: t, duration: d, keyframe });
    }
    Ok(count as u64)
}

/// `value` units of `1/per` second as ticks of `1/timescale` second, without overflow (hostile
/// files carry durations and delays near u64::MAX): saturates at u64::MAX.
fn rescale(value: u64, timescale: u32, per: u64) -> u64 {
    let ticks = u128::from(value) * u128::from(timescale) / u128::from(per.max(1));
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// How long an Opus packet plays, in microseconds, from its TOC byte (RFC 6716 3.1): the
/// frame length its configuration names times its frame count; 0 when it is cut short.
fn opus_packet_us(packet: &[u8]) -> u64 {
    let Some(&toc) = packet.first() else { return 0 };
    let config = toc >> 3;
    let frame_us: u64 = match (config, config % 4) {
        // SILK: 10, 20, 40, 60 ms.
        (0..=11, n) => 10_000 * [1, 2, 4, 6].get(usize::from(n)).copied().unwrap_or(0),
        // Hybrid: 10, 20 ms.
        (12..=15, n) => 10_000 * (u64::from(n % 2) + 1),
        // CELT: 2.5, 5, 10, 20 ms.
        (_, n) => 2_500 << n,
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |&b| u64::from(b & 0x3F)),
    };
    frame_us * frames
}

/// (offset, size) of each frame in a block's data from `at` to `end`, per its lacing.
fn lace_sizes(file: &[u8], flags: u8, at: usize, end: usize) -> Result<Vec<(usize, u32)>> {
    let size_of = |n: usize| u32::try_from(n).map_err(|_| corrupt("a frame over 4 GiB"));
    let lacing = (flags >> 1) & 0x3;
    if lacing == 0 {
        return Ok(vec![(at, size_of(end.saturating_sub(at))?)]);
    }
    let count = usize::from(*file.get(at).ok_or_else(|| corrupt("laced block cut short"))?) + 1;
    if count > MAX_LACED {
        return Err(corrupt("too many laced frames"));
    }
    let mut pos = at + 1;
    let mut sizes: Vec<usize> = Vec::with_capacity(count);
    match lacing {
        1 => {
            // Xiph: each size but the last as a run of 255s plus a final byte.
            for _ in 0..count - 1 {
                let mut size = 0usize;
                loop {
                    let b = *file.get(pos).ok_or_else(|| corrupt("Xiph lacing cut short"))?;
                    pos += 1;
                    size += usize::from(b);
                    if b != 255 {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
        3 => {
            // EBML: the first size, then signed differences.
            let (first, len) = vint(file, pos, false)?;
            pos += len;
            let mut size = i64::try_from(first.unwrap_or(0)).unwrap_or(0);
            sizes.push(usize::try_from(size).unwrap_or(0));
            for _ in 1..count - 1 {
                let (raw, len) = vint(file, pos, false)?;
                pos += len;
                let bias = (1i64 << (7 * len - 1)) - 1;
                size = size
                    .checked_add(i64::try_from(raw.unwrap_or(0)).unwrap_or(0) - bias)
                    .ok_or_else(|| corrupt("EBML lace size out of range"))?;
                sizes.push(usize::try_from(size).map_err(|_| corrupt("negative EBML lace size"))?);
            }
        }
        _ => {
            // Fixed: equal sizes.
            let each = end.saturating_sub(pos) / count;
            sizes.extend(std::iter::repeat_n(each, count - 1));
        }
    }
    let used = sizes
        .iter()
        .try_fold(0usize, |sum, &n| sum.checked_add(n))
        .ok_or_else(|| corrupt("lace sizes out of range"))?;
    let last = end
        .checked_sub(pos)
        .and_then(|rest| rest.checked_sub(used))
        .ok_or_else(|| corrupt("laced frames larger than their block"))?;
    sizes.push(last);
    let mut out = Vec::with_capacity(count);
    for size in sizes {
        out.push((pos, size_of(size)?));
        pos += size;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints() {
        assert_eq!(vint(&[0x81], 0, false).unwrap(), (Some(1), 1));
        assert_eq!(vint(&[0x40, 0x02], 0, false).unwrap(), (Some(2), 2));
        assert_eq!(vint(&[0xFF], 0, false).unwrap(), (None, 1), "all ones: unknown size");
        assert_eq!(vint(&[0x1A, 0x45, 0xDF, 0xA3], 0, true).unwrap(), (Some(0x1A45_DFA3), 4));
        assert!(vint(&[0x00], 0, false).is_err());
        assert!(vint(&[0x40], 0, false).is_err(), "cut short");
    }

    #[test]
    fn signed_integers() {
        let int_of = |payload: &[u8]| int(payload, &Element { id: 0, start: 0, data: 0, end: payload.len() });
        assert_eq!(int_of(&[0x02, 0x88]), 648);
        assert_eq!(int_of(&[0xFF]), -1);
        assert_eq!(int_of(&[0xFD, 0x78]), -648);
        assert_eq!(int_of(&[]), 0);
        assert_eq!(int_of(&[0x80, 0, 0, 0, 0, 0, 0, 0]), i64::MIN);
    }

    #[test]
    fn opus_packet_lengths() {
        assert_eq!(opus_packet_us(&[0xFC]), 20_000, "CELT 20 ms, one frame");
        assert_eq!(opus_packet_us(&[0x09]), 40_000, "SILK 20 ms, two frames");
        assert_eq!(opus_packet_us(&[0x83, 0x03]), 7_500, "CELT 2.5 ms, three frames (code 3)");
        assert_eq!(opus_packet_us(&[]), 0);
    }

    #[test]
    fn xiph_and_ebml_lacing() {
        // Xiph: 3 frames of 300, 2 and the rest (5).
        let mut b = vec![2, 255, 45, 2];
        b.extend(vec![0; 307]);
        let frames = lace_sizes(&b, 0b0000_0010, 0, b.len()).unwrap();
        assert_eq!(frames.iter().map(|f| f.1).collect::<Vec<_>>(), [300, 2, 5]);
        assert_eq!(frames[0].0, 4);
        // EBML: 3 frames of 10, 12 (+2) and the rest (4).
        let mut b = vec![2, 0x8A, 0xC1];
        b.extend(vec![0; 26]);
        let frames = lace_sizes(&b, 0b0000_0110, 0, b.len()).unwrap();
        assert_eq!(frames.iter().map(|f| f.1).collect::<Vec<_>>(), [10, 12, 4]);
        // A lace that claims more than the block holds.
        assert!(lace_sizes(&[1, 200, 0, 0], 0b0000_0010, 0, 4).is_err());
    }
}
