//! A WebM writer for already-encoded samples: VP9 or AV1 video, Opus or Vorbis audio.
//! Layout: EBML header (DocType `webm`), then one Segment of known size holding a SeekHead,
//! Info (millisecond TimestampScale, Duration), Tracks, Cues, then Clusters of SimpleBlocks.
//! Cues come before the clusters (like an MP4's `moov` before `mdat`): a player seeking over
//! HTTP has the index after the first request. Their size does not depend on the positions
//! they hold (fixed 8-byte numbers), so they are reserved first and filled in at the end.
//!
//! Times: a sample's presentation time is its decode time (the sum of the durations before
//! it) plus its composition offset, minus `media_start`, as in the MP4 muxer; blocks carry
//! it in milliseconds. Opus's pre-skip becomes CodecDelay and is added to block times, as
//! the WebM spec asks (the demuxer subtracts it again). The last block of each track is a
//! BlockGroup with its BlockDuration, so the last frame keeps its length, and with the
//! DiscardPadding that trims an Opus track's last packet to the source's length.

use super::ids::*;
use crate::error::{Budget, Error, Result};
use crate::video::mp4::{MuxLimits, Sample};

/// Nanoseconds per block time unit: milliseconds, what every WebM writer uses.
const TIMESTAMP_SCALE_NS: u64 = 1_000_000;
/// A new cluster at least this often (ms) even without a key frame: WebM's recommendation.
const MAX_CLUSTER_MS: i64 = 5_000;
/// Opus decoders need 80 ms decoded before a seek target to converge (RFC 7845 4.6).
const OPUS_SEEK_PRE_ROLL_NS: u64 = 80_000_000;
/// Bytes a block adds around its frame at most: SimpleBlock/BlockGroup IDs and sizes, track
/// number, time, flags, BlockDuration, ReferenceBlock and DiscardPadding. Used to bound the
/// output up front.
const BLOCK_OVERHEAD: u64 = 60;

/// A track's codec and its CodecPrivate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebmCodec {
    /// `V_VP9`; its CodecPrivate is optional and left out.
    Vp9,
    /// `V_AV1` with the `AV1CodecConfigurationRecord` (the MP4 `av1C` payload) as CodecPrivate.
    Av1 { av1c: Vec<u8> },
    /// `A_OPUS` with the `OpusHead` identification header (RFC 7845 5.1) as CodecPrivate.
    Opus { opus_head: Vec<u8> },
    /// `A_VORBIS`: the three Vorbis headers Xiph-laced, as Matroska stores them.
    Vorbis { headers: Vec<u8> },
}

impl WebmCodec {
    fn id(&self) -> &'static str {
        match self {
            WebmCodec::Vp9 => "V_VP9",
            WebmCodec::Av1 { .. } => "V_AV1",
            WebmCodec::Opus { .. } => "A_OPUS",
            WebmCodec::Vorbis { .. } => "A_VORBIS",
        }
    }

    fn private(&self) -> Option<&[u8]> {
        match self {
            WebmCodec::Vp9 => None,
            WebmCodec::Av1 { av1c } => Some(av1c),
            WebmCodec::Opus { opus_head } => Some(opus_head),
            WebmCodec::Vorbis { headers } => Some(headers),
        }
    }

    /// Opus's pre-skip in nanoseconds (samples at 48 kHz, bytes 10-11 of OpusHead, LE).
    fn codec_delay_ns(&self) -> u64 {
        match self {
            WebmCodec::Opus { opus_head } => match (opus_head.get(10), opus_head.get(11)) {
                (Some(&lo), Some(&hi)) => u64::from(u16::from_le_bytes([lo, hi])) * 1_000_000_000 / 48_000,
                _ => 0,
            },
            _ => 0,
        }
    }

    fn check(&self, video: bool) -> Result<()> {
        match self {
            WebmCodec::Vp9 | WebmCodec::Av1 { .. } if !video => {
                return Err(Error::option("codec", format!("{} is a video codec, on an audio track", self.id())));
            }
            WebmCodec::Opus { .. } | WebmCodec::Vorbis { .. } if video => {
                return Err(Error::option("codec", format!("{} is an audio codec, on a video track", self.id())));
            }
            WebmCodec::Av1 { av1c } if av1c.len() < 4 || av1c.first() != Some(&0x81) => {
                return Err(Error::option(
                    "codecConfig",
                    format!("an av1C record starts with 0x81 and has at least 4 bytes, got {} bytes", av1c.len()),
                ));
            }
            WebmCodec::Opus { opus_head } if opus_head.len() < 19 || !opus_head.starts_with(b"OpusHead") => {
                return Err(Error::option(
                    "audioConfig",
                    format!(
                        "an OpusHead starts with \"OpusHead\" and has at least 19 bytes, got {} bytes",
                        opus_head.len()
                    ),
                ));
            }
            // Xiph lacing of three packets: a count byte of 2 first.
            WebmCodec::Vorbis { headers } if headers.len() < 3 || headers.first() != Some(&2) => {
                return Err(Error::option(
                    "audioConfig",
                    "Vorbis CodecPrivate is the three headers Xiph-laced (first byte 2)",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// What one track of a WebM file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebmMedia {
    Video { codec: WebmCodec, width: u32, height: u32 },
    Audio { codec: WebmCodec, sample_rate: u32, channels: u16 },
}

impl WebmMedia {
    fn codec(&self) -> &WebmCodec {
        match self {
            WebmMedia::Video { codec, .. } | WebmMedia::Audio { codec, .. } => codec,
        }
    }
}

/// One track with its samples (decode order): the MP4 muxer's `MuxTrack` with the clock
/// carried here (WebM's media descriptions have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebmTrack<'a> {
    pub media: &'a WebmMedia,
    /// Ticks per second of durations, offsets and `media_start`.
    pub timescale: u32,
    pub samples: &'a [Sample<'a>],
    /// Per sample, presentation minus decode time; empty when they are equal.
    pub composition_offsets: &'a [i32],
    /// The media time presentation starts at: positive skips that much (Opus pre-skip as
    /// the demuxer reports it), negative delays the track's start by that much.
    pub media_start: i64,
    /// Nanoseconds at the end of the last sample not to present (Opus's padding): written as
    /// the last block's DiscardPadding.
    pub end_padding_ns: u64,
}

/// Where a track's samples sit in the whole track: a whole file holds them all; a streamed
/// file (stream.rs) gets them a run at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    /// The decode time of the first sample, in the track's ticks.
    pub first_dts: i128,
    /// The last sample is the track's last (its block then says how long it lasts).
    pub ends: bool,
}

impl Span {
    pub(super) const WHOLE: Span = Span { first_dts: 0, ends: true };
}

impl WebmTrack<'_> {
    fn is_video(&self) -> bool {
        matches!(self.media, WebmMedia::Video { .. })
    }

    /// Each sample's block time (ms, pre-skip included) and duration (ms), decode order.
    pub(super) fn block_times(&self, span: Span) -> Result<Vec<(i64, u64)>> {
        let scale = i128::from(self.timescale);
        let delay_ns = i128::from(self.media.codec().codec_delay_ns());
        // Rounded to the nearest millisecond, halves up, from exact nanoseconds.
        let ms = |ticks: i128| -> i64 {
            let ns = ticks * 1_000_000_000 / scale + delay_ns;
            (ns + 500_000).div_euclid(1_000_000) as i64
        };
        let mut dts = span.first_dts;
        let mut out = Vec::with_capacity(self.samples.len());
        for (i, s) in self.samples.iter().enumerate() {
            let offset = self.composition_offsets.get(i).copied().map_or(0, i128::from);
            let pts = dts + offset - i128::from(self.media_start);
            let (start, end) = (ms(pts), ms(pts + i128::from(s.duration)));
            if start < 0 {
                return Err(Error::option(
                    "samples",
                    format!(
                        "sample {i} would be presented before the start ({start} ms); WebM block times are not negative"
                    ),
                ));
            }
            out.push((start, u64::try_from(end - start).unwrap_or(0)));
            dts += i128::from(s.duration);
        }
        Ok(out)
    }
}

/// A WebM file of `tracks` (track numbers 1, 2, ... in this order).
pub fn mux(tracks: &[WebmTrack<'_>], limits: &MuxLimits) -> Result<Vec<u8>> {
    if tracks.is_empty() {
        return Err(Error::option("tracks", "a WebM file needs at least one track"));
    }
    if tracks.len() > 126 {
        return Err(Error::option("tracks", format!("{} tracks; this muxer writes at most 126", tracks.len())));
    }
    for t in tracks {
        check_track(t)?;
    }
    let media_bytes = limits.check(tracks.iter().map(|t| t.samples))?;
    let count: u64 = tracks.iter().map(|t| t.samples.len() as u64).sum();
    let times: Vec<Vec<(i64, u64)>> = tracks.iter().map(|t| t.block_times(Span::WHOLE)).collect::<Result<_>>()?;
    let spans = vec![Span::WHOLE; tracks.len()];
    let blocks = interleave(tracks, &times, &spans);
    let clusters = plan_clusters(tracks, &blocks);
    // Presented length: the latest block end, less the pre-skip that block times include.
    let duration_ms = tracks
        .iter()
        .zip(&times)
        .filter_map(|(t, times)| {
            let &(start, length) = times.last()?;
            let not_shown_ns = t.media.codec().codec_delay_ns() + t.end_padding_ns;
            Some((start as f64 + length as f64) - not_shown_ns as f64 / TIMESTAMP_SCALE_NS as f64)
        })
        .fold(0.0f64, f64::max);

    let info = info(Some(duration_ms));
    let track_list = track_list(tracks);
    let cues_size = cues_len(clusters.iter().filter(|c| c.cue_track.is_some()).count());
    let seek_head_size = seek_head(0, 0, 0).len();

    let bound = 64
        + seek_head_size as u64
        + info.len() as u64
        + track_list.len() as u64
        + cues_size as u64
        + 32 * clusters.len() as u64
        + BLOCK_OVERHEAD * count
        + media_bytes;
    let bound =
        usize::try_from(bound).map_err(|_| Error::too_large(Budget::Bytes, bound, usize::MAX as u64, "maxBytes"))?;
    let mut out = Vec::new();
    out.try_reserve_exact(bound)
        .map_err(|_| Error::too_large(Budget::Bytes, bound as u64, limits.max_bytes, "maxBytes"))?;

    ebml_header(&mut out);
    put_id(&mut out, SEGMENT);
    let segment_size_at = out.len();
    out.extend_from_slice(&[0x01, 0, 0, 0, 0, 0, 0, 0]); // 8-byte size, patched at the end
    let segment_data = out.len();
    let info_at = seek_head_size as u64;
    let tracks_at = info_at + info.len() as u64;
    let cues_at = tracks_at + track_list.len() as u64;
    out.extend_from_slice(&seek_head(info_at, tracks_at, cues_at));
    out.extend_from_slice(&info);
    out.extend_from_slice(&track_list);
    let cues_slot = out.len();
    out.resize(cues_slot + cues_size, 0);

    let blocks = Blocks { tracks, times: &times, spans: &spans, order: &blocks };
    let cue_points = write_clusters(&mut out, &blocks, &clusters, (segment_data, 0))?;
    let cues = cues(&cue_points);
    if cues.len() != cues_size {
        return Err(Error::encode("webm", format!("Cues came out {} bytes, {} were reserved", cues.len(), cues_size)));
    }
    if let Some(slot) = out.get_mut(cues_slot..cues_slot + cues_size) {
        slot.copy_from_slice(&cues);
    }
    let segment_size = (out.len() - segment_data) as u64;
    patch_size(&mut out, segment_size_at, segment_size);
    Ok(out)
}

pub(super) fn check_track(t: &WebmTrack<'_>) -> Result<()> {
    check_media(t.media)?;
    if t.timescale == 0 {
        return Err(Error::option("timescale", "must be at least 1"));
    }
    check_samples(t)
}

pub(super) fn check_media(media: &WebmMedia) -> Result<()> {
    match media {
        WebmMedia::Video { codec, width, height } => {
            codec.check(true)?;
            if *width == 0 || *height == 0 || *width > 0xFFFF || *height > 0xFFFF {
                return Err(Error::option(
                    "width/height",
                    format!("{width}x{height} is not a video size (1 to 65535 each)"),
                ));
            }
        }
        WebmMedia::Audio { codec, sample_rate, channels } => {
            codec.check(false)?;
            if *channels == 0 || *sample_rate == 0 {
                return Err(Error::option("audio", format!("{channels} channels at {sample_rate} Hz")));
            }
        }
    }
    Ok(())
}

/// A track's samples, whole or (streamed) the first run of them.
pub(super) fn check_samples(t: &WebmTrack<'_>) -> Result<()> {
    if t.samples.is_empty() {
        return Err(Error::option("samples", "a track needs at least one sample"));
    }
    check_run(t)?;
    if t.samples.first().is_some_and(|s| !s.keyframe) {
        return Err(Error::option("samples", "the first frame must be a key frame"));
    }
    Ok(())
}

/// Any run of a track's samples: durations and presentation offsets.
pub(super) fn check_run(t: &WebmTrack<'_>) -> Result<()> {
    if let Some(i) = t.samples.iter().position(|s| s.duration == 0) {
        return Err(Error::option("samples", format!("frame {i} has a duration of 0")));
    }
    if !t.composition_offsets.is_empty() && t.composition_offsets.len() != t.samples.len() {
        return Err(Error::option(
            "compositionOffsets",
            format!("{} offsets for {} samples", t.composition_offsets.len(), t.samples.len()),
        ));
    }
    Ok(())
}

/// A block to write: (track index, sample index, block time ms).
pub(super) type BlockRef = (usize, usize, i64);

/// What clusters are written from: the tracks (or runs of them), their samples' block times
/// and spans, and the blocks in file order.
pub(super) struct Blocks<'a, 't> {
    pub tracks: &'a [WebmTrack<'t>],
    pub times: &'a [Vec<(i64, u64)>],
    pub spans: &'a [Span],
    pub order: &'a [BlockRef],
}

/// Every block in file order: by time, each track's own samples kept in decode order.
pub(super) fn interleave(tracks: &[WebmTrack<'_>], times: &[Vec<(i64, u64)>], spans: &[Span]) -> Vec<BlockRef> {
    let mut order: Vec<(i64, usize, usize, i64)> = Vec::with_capacity(times.iter().map(Vec::len).sum());
    for (ti, ((t, times), span)) in tracks.iter().zip(times).zip(spans).enumerate() {
        // Sorted by decode time (in ms of the same clock), so reordered frames stay in order.
        let scale = i128::from(t.timescale);
        let mut dts = span.first_dts;
        for (si, (&(time, _), s)) in times.iter().zip(t.samples).enumerate() {
            let at = ((dts - i128::from(t.media_start)) * 1000 / scale) as i64;
            order.push((at, ti, si, time));
            dts += i128::from(s.duration);
        }
    }
    order.sort_by_key(|&(at, t, i, _)| (at, t, i));
    order.into_iter().map(|(_, t, i, time)| (t, i, time)).collect()
}

pub(super) struct ClusterPlan {
    /// Index into the block order of its first block.
    first: usize,
    time: i64,
    /// The track number its CuePoint names (the cluster starts with that track's key frame).
    cue_track: Option<u64>,
}

/// Cluster boundaries: one at every video key frame (so each is a seek point), else every
/// 5 seconds, and whenever a block's time would not fit the 16-bit offset from its cluster's.
pub(super) fn plan_clusters(tracks: &[WebmTrack<'_>], blocks: &[BlockRef]) -> Vec<ClusterPlan> {
    let video = tracks.iter().position(WebmTrack::is_video);
    let mut clusters: Vec<ClusterPlan> = Vec::new();
    for (i, &(t, s, time)) in blocks.iter().enumerate() {
        let key = tracks.get(t).and_then(|tr| tr.samples.get(s)).is_some_and(|s| s.keyframe);
        // The track whose key frames make seek points: the video, else the first track.
        let seek_track = video.unwrap_or(0) == t && key;
        let start = match clusters.last() {
            None => true,
            Some(c) => {
                (seek_track && video.is_some())
                    || time - c.time >= MAX_CLUSTER_MS
                    || time - c.time > i64::from(i16::MAX)
                    || time < c.time + i64::from(i16::MIN)
            }
        };
        if start {
            clusters.push(ClusterPlan { first: i, time: time.max(0), cue_track: seek_track.then_some(t as u64 + 1) });
        }
    }
    clusters
}

/// Writes `clusters` of `blocks` to `out`, and returns their cue points (time ms, track
/// number, cluster position). `(origin, base)`: the cluster that starts at `out[origin]` lies
/// `base` bytes into the Segment's data.
pub(super) fn write_clusters(
    out: &mut Vec<u8>,
    blocks: &Blocks<'_, '_>,
    clusters: &[ClusterPlan],
    (origin, base): (usize, u64),
) -> Result<Vec<(u64, u64, u64)>> {
    let mut cue_points = Vec::new();
    for (ci, cluster) in clusters.iter().enumerate() {
        let position = base + (out.len() - origin) as u64;
        if let Some(track) = cluster.cue_track {
            cue_points.push((cluster.time as u64, track, position));
        }
        let end = clusters.get(ci + 1).map_or(blocks.order.len(), |c| c.first);
        put_id(out, CLUSTER);
        let size_at = out.len();
        out.extend_from_slice(&[0x01, 0, 0, 0, 0, 0, 0, 0]);
        let body = out.len();
        uint_element(out, TIMESTAMP, cluster.time as u64);
        for b in blocks.order.get(cluster.first..end).unwrap_or_default() {
            write_block(out, blocks, b, cluster.time)?;
        }
        let cluster_size = (out.len() - body) as u64;
        patch_size(out, size_at, cluster_size);
    }
    Ok(cue_points)
}

fn write_block(out: &mut Vec<u8>, blocks: &Blocks<'_, '_>, block: &BlockRef, cluster_time: i64) -> Result<()> {
    let &(t, s, time) = block;
    let (Some(track), Some(track_times), Some(span)) = (blocks.tracks.get(t), blocks.times.get(t), blocks.spans.get(t))
    else {
        return Ok(());
    };
    let Some(sample) = track.samples.get(s) else { return Ok(()) };
    let relative = i16::try_from(time - cluster_time)
        .map_err(|_| Error::encode("webm", "a block too far from its cluster's time"))?;
    let number = 0x80 | (t as u8 + 1); // a 1-byte track number vint (at most 126 tracks)
    let last = span.ends && s + 1 == track.samples.len();
    if !last {
        put_id(out, SIMPLE_BLOCK);
        put_size(out, 4 + sample.data.len() as u64);
        out.push(number);
        out.extend_from_slice(&relative.to_be_bytes());
        out.push(if sample.keyframe { 0x80 } else { 0 });
        out.extend_from_slice(sample.data);
        return Ok(());
    }
    // The last block says how long it lasts (nothing follows to tell): what is shown of it,
    // as FFmpeg writes it, when DiscardPadding trims it.
    let padding_ms = (track.end_padding_ns + TIMESTAMP_SCALE_NS / 2) / TIMESTAMP_SCALE_NS;
    let duration = track_times.get(s).map_or(0, |&(_, d)| d.saturating_sub(padding_ms).max(1));
    let mut group = Vec::with_capacity(32);
    uint_element(&mut group, BLOCK_DURATION, duration);
    if track.end_padding_ns > 0 {
        int_element(&mut group, DISCARD_PADDING, i64::try_from(track.end_padding_ns).unwrap_or(i64::MAX));
    }
    if !sample.keyframe {
        // Any earlier block will do to mark it a delta frame: the previous one in this track.
        let previous = s.checked_sub(1).and_then(|p| track_times.get(p)).map_or(0, |&(p, _)| p);
        int_element(&mut group, REFERENCE_BLOCK, previous - time);
    }
    put_id(out, BLOCK_GROUP);
    put_size(
        out,
        id_len(BLOCK) as u64
            + size_len(4 + sample.data.len() as u64) as u64
            + 4
            + sample.data.len() as u64
            + group.len() as u64,
    );
    put_id(out, BLOCK);
    put_size(out, 4 + sample.data.len() as u64);
    out.push(number);
    out.extend_from_slice(&relative.to_be_bytes());
    out.push(0);
    out.extend_from_slice(sample.data);
    out.extend_from_slice(&group);
    Ok(())
}

pub(super) fn ebml_header(out: &mut Vec<u8>) {
    let mut body = Vec::new();
    uint_element(&mut body, EBML_VERSION, 1);
    uint_element(&mut body, EBML_READ_VERSION, 1);
    uint_element(&mut body, EBML_MAX_ID_LENGTH, 4);
    uint_element(&mut body, EBML_MAX_SIZE_LENGTH, 8);
    string_element(&mut body, DOC_TYPE, "webm");
    // Version 4: CodecDelay and SeekPreRoll (Opus) are v4 elements.
    uint_element(&mut body, DOC_TYPE_VERSION, 4);
    uint_element(&mut body, DOC_TYPE_READ_VERSION, 2);
    element(out, EBML, &body);
}

/// Info; `duration_ms` is left out when not known.
pub(super) fn info(duration_ms: Option<f64>) -> Vec<u8> {
    let mut body = Vec::new();
    uint_element(&mut body, TIMESTAMP_SCALE, TIMESTAMP_SCALE_NS);
    if let Some(ms) = duration_ms {
        put_id(&mut body, DURATION);
        put_size(&mut body, 8);
        body.extend_from_slice(&ms.to_be_bytes());
    }
    string_element(&mut body, MUXING_APP, "mediaslim");
    string_element(&mut body, WRITING_APP, "mediaslim");
    let mut out = Vec::new();
    element(&mut out, INFO, &body);
    out
}

pub(super) fn track_list(tracks: &[WebmTrack<'_>]) -> Vec<u8> {
    let mut list = Vec::new();
    for (i, t) in tracks.iter().enumerate() {
        let number = i as u64 + 1;
        let codec = t.media.codec();
        let mut entry = Vec::new();
        uint_element(&mut entry, TRACK_NUMBER, number);
        uint_element(&mut entry, TRACK_UID, number);
        uint_element(&mut entry, TRACK_TYPE, if t.is_video() { 1 } else { 2 });
        uint_element(&mut entry, FLAG_LACING, 0);
        string_element(&mut entry, CODEC_ID, codec.id());
        if let Some(private) = codec.private() {
            element(&mut entry, CODEC_PRIVATE, private);
        }
        if let WebmCodec::Opus { .. } = codec {
            uint_element(&mut entry, CODEC_DELAY, codec.codec_delay_ns());
            uint_element(&mut entry, SEEK_PRE_ROLL, OPUS_SEEK_PRE_ROLL_NS);
        }
        match t.media {
            WebmMedia::Video { width, height, .. } => {
                let mut v = Vec::new();
                uint_element(&mut v, PIXEL_WIDTH, u64::from(*width));
                uint_element(&mut v, PIXEL_HEIGHT, u64::from(*height));
                element(&mut entry, VIDEO, &v);
            }
            WebmMedia::Audio { sample_rate, channels, .. } => {
                let mut a = Vec::new();
                put_id(&mut a, SAMPLING_FREQUENCY);
                put_size(&mut a, 8);
                a.extend_from_slice(&f64::from(*sample_rate).to_be_bytes());
                uint_element(&mut a, CHANNELS, u64::from(*channels));
                element(&mut entry, AUDIO, &a);
            }
        }
        element(&mut list, TRACK_ENTRY, &entry);
    }
    let mut out = Vec::new();
    element(&mut out, TRACKS, &list);
    out
}

/// The SeekHead: where Info, Tracks and Cues start (relative to the Segment's data).
fn seek_head(info: u64, tracks: u64, cues: u64) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, at) in [(INFO, info), (TRACKS, tracks), (CUES, cues)] {
        let mut seek = Vec::new();
        let mut id_bytes = Vec::new();
        put_id(&mut id_bytes, id);
        element(&mut seek, SEEK_ID, &id_bytes);
        fixed_uint_element(&mut seek, SEEK_POSITION, at);
        element(&mut body, SEEK, &seek);
    }
    let mut out = Vec::new();
    element(&mut out, SEEK_HEAD, &body);
    out
}

fn cue_point(time: u64, track: u64, position: u64) -> Vec<u8> {
    let mut positions = Vec::new();
    uint_element(&mut positions, CUE_TRACK, track);
    fixed_uint_element(&mut positions, CUE_CLUSTER_POSITION, position);
    let mut point = Vec::new();
    fixed_uint_element(&mut point, CUE_TIME, time);
    element(&mut point, CUE_TRACK_POSITIONS, &positions);
    let mut out = Vec::new();
    element(&mut out, CUE_POINT, &point);
    out
}

pub(super) fn cues(points: &[(u64, u64, u64)]) -> Vec<u8> {
    let body: Vec<u8> = points.iter().flat_map(|&(time, track, at)| cue_point(time, track, at)).collect();
    let mut out = Vec::new();
    element(&mut out, CUES, &body);
    out
}

/// The Cues' size for `n` points: it depends only on the count (fixed-width numbers; track
/// numbers are one byte).
fn cues_len(n: usize) -> usize {
    let point = cue_point(0, 1, 0).len() as u64;
    let body = point * n as u64;
    id_len(CUES) + size_len(body) + body as usize
}

// EBML writing.

fn id_len(id: u32) -> usize {
    4 - (id.leading_zeros() / 8) as usize
}

pub(super) fn put_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    out.extend_from_slice(bytes.get(4 - id_len(id)..).unwrap_or_default());
}

/// Bytes of the shortest size vint for `n` (all ones is reserved for "unknown").
fn size_len(n: u64) -> usize {
    (1..=8).find(|&len| n < (1u64 << (7 * len)) - 1).unwrap_or(8)
}

fn put_size(out: &mut Vec<u8>, n: u64) {
    let len = size_len(n);
    let marked = n | (1u64 << (7 * len));
    out.extend_from_slice(marked.to_be_bytes().get(8 - len..).unwrap_or_default());
}

/// Writes an 8-byte size vint over the placeholder at `at`.
fn patch_size(out: &mut [u8], at: usize, n: u64) {
    let marked = n | (1u64 << 56);
    if let Some(slot) = out.get_mut(at..at + 8) {
        slot.copy_from_slice(&marked.to_be_bytes());
    }
}

fn element(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    put_id(out, id);
    put_size(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn uint_element(out: &mut Vec<u8>, id: u32, v: u64) {
    let len = (8 - (v.leading_zeros() / 8) as usize).max(1);
    element(out, id, v.to_be_bytes().get(8 - len..).unwrap_or_default());
}

fn fixed_uint_element(out: &mut Vec<u8>, id: u32, v: u64) {
    element(out, id, &v.to_be_bytes());
}

fn int_element(out: &mut Vec<u8>, id: u32, v: i64) {
    // The shortest two's complement that keeps the sign.
    let bytes = v.to_be_bytes();
    let len = (1..=8).find(|&len| {
        let shift = 64 - 8 * len as u32;
        len == 8 || (v << shift) >> shift == v
    });
    element(out, id, bytes.get(8 - len.unwrap_or(8)..).unwrap_or_default());
}

fn string_element(out: &mut Vec<u8>, id: u32, s: &str) {
    element(out, id, s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ebml_numbers() {
        let mut v = Vec::new();
        put_size(&mut v, 0);
        put_size(&mut v, 126);
        put_size(&mut v, 127); // all ones in one byte means unknown: two bytes
        assert_eq!(v, [0x80, 0xFE, 0x40, 0x7F]);
        let mut v = Vec::new();
        put_id(&mut v, SEGMENT);
        put_id(&mut v, SIMPLE_BLOCK);
        assert_eq!(v, [0x18, 0x53, 0x80, 0x67, 0xA3]);
        let mut v = Vec::new();
        int_element(&mut v, REFERENCE_BLOCK, -40);
        int_element(&mut v, REFERENCE_BLOCK, -200);
        assert_eq!(v, [0xFB, 0x81, 0xD8, 0xFB, 0x82, 0xFF, 0x38]);
        assert_eq!(cues_len(3), cues(&[(1, 1, 5), (99_999, 1, 1 << 40), (7, 2, 0)]).len());
    }

    #[test]
    fn refuses_bad_input_before_allocating() {
        let data = [0u8; 4];
        let s = Sample { duration: 40, keyframe: true, data: &data };
        let vp9 = WebmMedia::Video { codec: WebmCodec::Vp9, width: 64, height: 48 };
        let track = |samples| WebmTrack {
            media: &vp9,
            timescale: 1000,
            samples,
            composition_offsets: &[],
            media_start: 0,
            end_padding_ns: 0,
        };
        let limits = MuxLimits { max_samples: 2, max_bytes: 6 };
        let (one, two, three, delta) = ([s], [s; 2], [s; 3], [Sample { keyframe: false, ..s }]);
        assert_eq!(mux(&[track(&three)], &limits).unwrap_err().code(), "TOO_LARGE");
        assert_eq!(mux(&[track(&two)], &limits).unwrap_err().code(), "TOO_LARGE");
        assert_eq!(mux(&[], &limits).unwrap_err().code(), "INVALID_OPTION");
        assert_eq!(mux(&[track(&delta)], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
        let opus_on_video =
            WebmMedia::Video { codec: WebmCodec::Opus { opus_head: b"OpusHead".repeat(3) }, width: 1, height: 1 };
        let bad = WebmTrack { media: &opus_on_video, ..track(&one) };
        assert_eq!(mux(&[bad], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
        let early = WebmTrack { media_start: 100, ..track(&two) };
        assert!(mux(&[early], &MuxLimits::default()).unwrap_err().to_string().contains("before the start"));
    }
}
