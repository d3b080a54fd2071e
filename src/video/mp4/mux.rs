//! An MP4 writer for already-encoded samples: a video track (H.264 from WebCodecs, VP9, AV1
//! from WebCodecs or rav1e) and optionally an AAC audio track copied from a source file, laid
//! out for fast start: `ftyp`, `moov` (the index), then `mdat` with the tracks interleaved in
//! time. One sample per chunk keeps the tables trivially right; the 4 bytes per sample it
//! costs in `stco` are nothing next to the frames. Chunk offsets widen to `co64` past 4 GiB.

use crate::error::{Budget, Error, Result};

/// The decoder configuration that names the codec in the sample entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoCodec {
    /// H.264: an `AVCDecoderConfigurationRecord` (what WebCodecs gives as
    /// `decoderConfig.description` with `avc: { format: 'avc' }`), stored as `avcC` in `avc1`.
    Avc { avcc: Vec<u8> },
    /// AV1: an `AV1CodecConfigurationRecord` (4 bytes plus optional config OBUs), stored as
    /// `av1C` in `av01`.
    Av1 { av1c: Vec<u8> },
    /// VP9: a `VPCodecConfigurationRecord` full-box payload (version 1: 4 bytes of version and
    /// flags, then profile, level, bit depth/chroma/range, colour, init data size), as `vpcC`.
    Vp9 { vpcc: Vec<u8> },
}

impl AudioTrack {
    fn is_opus(&self) -> bool {
        self.config.starts_with(b"OpusHead")
    }
}

impl VideoCodec {
    pub(super) fn sample_entry(&self) -> [u8; 4] {
        match self {
            VideoCodec::Avc { .. } => *b"avc1",
            VideoCodec::Av1 { .. } => *b"av01",
            VideoCodec::Vp9 { .. } => *b"vp09",
        }
    }

    /// Refuses a record that a decoder would reject outright (wrong version or marker).
    fn check(&self) -> Result<()> {
        match self {
            VideoCodec::Avc { avcc } => {
                // configurationVersion 1, then profile, compatibility, level, length size, SPS count.
                if avcc.len() < 7 || avcc.first() != Some(&1) {
                    return Err(Error::option(
                        "codecConfig",
                        format!(
                            "an avcC record starts with version 1 and has at least 7 bytes, got {} bytes",
                            avcc.len()
                        ),
                    ));
                }
            }
            VideoCodec::Av1 { av1c } => {
                // marker bit 1 and version 1: the first byte is 0x81.
                if av1c.len() < 4 || av1c.first() != Some(&0x81) {
                    return Err(Error::option(
                        "codecConfig",
                        format!("an av1C record starts with 0x81 and has at least 4 bytes, got {} bytes", av1c.len()),
                    ));
                }
            }
            VideoCodec::Vp9 { vpcc } => {
                if vpcc.len() < 12 || vpcc.first() != Some(&1) {
                    return Err(Error::option(
                        "codecConfig",
                        format!("a vpcC payload is version 1 and at least 12 bytes, got {} bytes", vpcc.len()),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What the track is: codec, display size and the clock its durations count in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    /// Ticks per second of every duration (e.g. 1000 for milliseconds).
    pub timescale: u32,
}

/// An audio track's parameters: AAC (an `mp4a` sample entry with `esds`) or Opus (an `Opus`
/// sample entry with `dOps`, per "Encapsulation of Opus in ISO Base Media File Format").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    /// AAC: the AudioSpecificConfig (WebCodecs' `description`), copied into `esds`. Opus: the
    /// `OpusHead` (what WebM's CodecPrivate and WebCodecs' `description` hold), told apart by
    /// its magic and rewritten as `dOps`.
    pub config: Vec<u8>,
    pub sample_rate: u32,
    pub channels: u16,
    pub timescale: u32,
}

/// What one track of a muxed file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackMedia {
    /// A video track turned `rotation` degrees clockwise on display (0, 90, 180, 270), written
    /// as the `tkhd` matrix as cameras do.
    Video {
        track: VideoTrack,
        rotation: u16,
    },
    Audio(AudioTrack),
}

/// One track with its samples (decode order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuxTrack<'a> {
    pub media: &'a TrackMedia,
    pub samples: &'a [Sample<'a>],
    /// Per sample, presentation minus decode time (B-frames); empty when they are equal.
    pub composition_offsets: &'a [i32],
    /// The media time presentation starts at, as an edit list: positive skips that much
    /// (AAC priming), negative delays the track's start by that much. Ticks of the track.
    pub media_start: i64,
    /// Nanoseconds at the end of the last sample not to present (an audio encoder's padding):
    /// the edit list ends that much early.
    pub end_padding_ns: u64,
}

impl MuxTrack<'_> {
    pub(super) fn timescale(&self) -> u32 {
        match self.media {
            TrackMedia::Video { track, .. } => track.timescale,
            TrackMedia::Audio(a) => a.timescale,
        }
    }
    fn duration(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }
    /// Where the last presented sample ends, in media time (reordered frames included).
    /// Where the last presented instant of the media is (ticks): the samples' end less the padding.
    fn presentation_end(&self) -> u64 {
        let mut dts = 0i64;
        let mut end = 0i64;
        for (i, s) in self.samples.iter().enumerate() {
            let offset = self.composition_offsets.get(i).copied().map_or(0, i64::from);
            end = end.max(dts + offset + i64::from(s.duration));
            dts += i64::from(s.duration);
        }
        let padding = u128::from(self.end_padding_ns) * u128::from(self.timescale()) / 1_000_000_000;
        u64::try_from(end).unwrap_or(0).saturating_sub(u64::try_from(padding).unwrap_or(u64::MAX))
    }
}

/// One encoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample<'a> {
    /// In the track's timescale; never 0.
    pub duration: u32,
    pub keyframe: bool,
    pub data: &'a [u8],
}

/// How much a muxed file may hold, checked before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuxLimits {
    pub max_samples: u32,
    pub max_bytes: u64,
}

impl MuxLimits {
    /// The samples of every track together against the limits (the MP4 and WebM writers both
    /// check here before building anything); returns their media bytes.
    pub fn check<'s>(&self, tracks: impl Iterator<Item = &'s [Sample<'s>]>) -> Result<u64> {
        let mut count = 0u64;
        let mut media_bytes = 0u64;
        for samples in tracks {
            count += samples.len() as u64;
            media_bytes =
                samples.iter().try_fold(media_bytes, |sum, s| sum.checked_add(s.data.len() as u64)).unwrap_or(u64::MAX);
        }
        if count > u64::from(self.max_samples) {
            return Err(Error::too_large(Budget::Frames, count, u64::from(self.max_samples), "maxFrames"));
        }
        if media_bytes > self.max_bytes {
            return Err(Error::too_large(Budget::Bytes, media_bytes, self.max_bytes, "maxBytes"));
        }
        Ok(media_bytes)
    }
}

impl Default for MuxLimits {
    /// A million frames (over 9 hours at 30 fps) and 1 GiB of media: more than any page
    /// should build in memory, and well inside wasm32's 4 GiB.
    fn default() -> Self {
        MuxLimits { max_samples: 1_000_000, max_bytes: 1 << 30 }
    }
}

/// A fast-start MP4 of `samples` (in decode order, the first a key frame).
pub fn mux(track: &VideoTrack, samples: &[Sample<'_>], limits: &MuxLimits) -> Result<Vec<u8>> {
    let media = TrackMedia::Video { track: track.clone(), rotation: 0 };
    mux_tracks(
        &[MuxTrack { media: &media, samples, composition_offsets: &[], media_start: 0, end_padding_ns: 0 }],
        limits,
    )
}

/// Every track checked, and the movie's sample count and media bytes against `limits`
/// (the fast-start and the fragmented writers both start here); returns the media bytes.
pub(super) fn check_tracks(tracks: &[MuxTrack<'_>], limits: &MuxLimits) -> Result<u64> {
    for t in tracks {
        check_track(t)?;
    }
    limits.check(tracks.iter().map(|t| t.samples))
}

/// A fast-start MP4 of several tracks (track IDs 1, 2, ... in this order); the movie clock is
/// the first track's.
pub fn mux_tracks(tracks: &[MuxTrack<'_>], limits: &MuxLimits) -> Result<Vec<u8>> {
    let Some(first) = tracks.first() else { return Err(Error::option("tracks", "a movie needs at least one track")) };
    let media_bytes = check_tracks(tracks, limits)?;
    let movie_timescale = first.timescale();
    let order = interleave(tracks);

    let video = tracks.iter().find_map(|t| match t.media {
        TrackMedia::Video { track, .. } => Some(&track.codec),
        TrackMedia::Audio(_) => None,
    });
    let ftyp = ftyp(video);
    // A 64-bit mdat header only when its size needs it.
    let mdat_header = if media_bytes + 8 > u64::from(u32::MAX) { 16 } else { 8 };
    // The index's size does not depend on the offsets' values, only on their width: build
    // it with 32-bit offsets first, widen when the last one does not fit.
    let mut wide = false;
    let moov = loop {
        let probe = moov(tracks, &order, movie_timescale, 0, wide)?;
        let first_offset = (ftyp.len() + probe.len()) as u64 + mdat_header;
        let last = order
            .last()
            .and_then(|&(t, i)| tracks.get(t).and_then(|t| t.samples.get(i)))
            .map_or(0, |s| s.data.len() as u64);
        if !wide && first_offset + media_bytes - last > u64::from(u32::MAX) {
            wide = true;
            continue;
        }
        break moov(tracks, &order, movie_timescale, first_offset, wide)?;
    };

    let total = ftyp.len() as u64 + moov.len() as u64 + mdat_header + media_bytes;
    let total =
        usize::try_from(total).map_err(|_| Error::too_large(Budget::Bytes, total, usize::MAX as u64, "maxBytes"))?;
    let mut out = Vec::new();
    out.try_reserve_exact(total)
        .map_err(|_| Error::too_large(Budget::Bytes, total as u64, limits.max_bytes, "maxBytes"))?;
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&moov);
    if mdat_header == 16 {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(b"mdat");
        out.extend_from_slice(&(media_bytes + 16).to_be_bytes());
    } else {
        out.extend_from_slice(&((media_bytes + 8) as u32).to_be_bytes());
        out.extend_from_slice(b"mdat");
    }
    for &(t, i) in &order {
        if let Some(s) = tracks.get(t).and_then(|t| t.samples.get(i)) {
            out.extend_from_slice(s.data);
        }
    }
    Ok(out)
}

pub(super) fn check_track(t: &MuxTrack<'_>) -> Result<()> {
    check_media(t.media, t.timescale())?;
    check_samples(t.samples, t.composition_offsets)
}

/// What a track's sample entry and header need: a codec record a decoder accepts, a size and
/// a clock.
pub(super) fn check_media(media: &TrackMedia, timescale: u32) -> Result<()> {
    match media {
        TrackMedia::Video { track, rotation } => {
            track.codec.check()?;
            if track.width == 0 || track.height == 0 || track.width > 0xFFFF || track.height > 0xFFFF {
                return Err(Error::option(
                    "width/height",
                    format!(
                        "{}x{} is not a size an MP4 sample entry can hold (1 to 65535 each)",
                        track.width, track.height
                    ),
                ));
            }
            if !matches!(rotation, 0 | 90 | 180 | 270) {
                return Err(Error::option("rotation", format!("must be 0, 90, 180 or 270, got {rotation}")));
            }
        }
        TrackMedia::Audio(a) => {
            if a.is_opus() && a.config.len() < 19 {
                return Err(Error::option(
                    "audioConfig",
                    format!("an OpusHead has at least 19 bytes, got {}", a.config.len()),
                ));
            }
            if a.config.len() < 2 {
                return Err(Error::option(
                    "audioConfig",
                    format!("an AudioSpecificConfig has at least 2 bytes, got {}", a.config.len()),
                ));
            }
            if a.channels == 0 || a.sample_rate == 0 {
                return Err(Error::option("audio", format!("{} channels at {} Hz", a.channels, a.sample_rate)));
            }
        }
    }
    if timescale == 0 {
        return Err(Error::option("timescale", "must be at least 1"));
    }
    Ok(())
}

/// A run of samples a track starts with: at least one, a key frame first, no zero durations,
/// one composition offset per sample when there are any.
fn check_samples(samples: &[Sample<'_>], composition_offsets: &[i32]) -> Result<()> {
    if samples.is_empty() {
        return Err(Error::option("samples", "a track needs at least one sample"));
    }
    if samples.first().is_some_and(|s| !s.keyframe) {
        return Err(Error::option("samples", "the first frame must be a key frame"));
    }
    check_sample_run(samples, composition_offsets)
}

/// Durations and composition offsets of any run of samples (a fragment may start without a
/// key frame).
pub(super) fn check_sample_run(samples: &[Sample<'_>], composition_offsets: &[i32]) -> Result<()> {
    if let Some(i) = samples.iter().position(|s| s.duration == 0) {
        return Err(Error::option("samples", format!("frame {i} has a duration of 0")));
    }
    if !composition_offsets.is_empty() && composition_offsets.len() != samples.len() {
        return Err(Error::option(
            "compositionOffsets",
            format!("{} offsets for {} samples", composition_offsets.len(), samples.len()),
        ));
    }
    Ok(())
}

/// Every (track, sample) in the order the media is laid out: by decode time, so a player
/// reading the file front to back has each track's next sample at hand.
fn interleave(tracks: &[MuxTrack<'_>]) -> Vec<(usize, usize)> {
    let mut order: Vec<(u128, usize, usize)> = Vec::with_capacity(tracks.iter().map(|t| t.samples.len()).sum());
    for (ti, t) in tracks.iter().enumerate() {
        let mut dts = 0u128;
        let scale = u128::from(t.timescale());
        for (si, s) in t.samples.iter().enumerate() {
            // Seconds as an exact fraction over a shared denominator (nanoseconds suffice).
            order.push((dts * 1_000_000_000 / scale, ti, si));
            dts += u128::from(s.duration);
        }
    }
    order.sort_by_key(|&(at, t, i)| (at, t, i));
    order.into_iter().map(|(_, t, i)| (t, i)).collect()
}

/// Writes `[size][kind][body]`, the size patched in once the body is written.
pub(super) fn boxed(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(kind);
    body(out)?;
    let size = u32::try_from(out.len() - start)
        .map_err(|_| Error::encode("mp4", format!("the '{}' box would exceed 4 GiB", String::from_utf8_lossy(kind))))?;
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&size.to_be_bytes());
    }
    Ok(())
}

/// A full box: version and flags first.
pub(super) fn full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    boxed(out, kind, |o| {
        o.push(version);
        o.extend_from_slice(&flags.to_be_bytes()[1..]);
        body(o)
    })
}

fn u16be(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(super) fn u32be(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}
pub(super) fn u64be(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The unity transformation matrix of `mvhd` and `tkhd`.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// The `tkhd` matrix that turns a `width` x `height` picture `rotation` degrees clockwise
/// (a, b, c, d in 16.16, then the translation that keeps it in view), as phones write it.
fn rotation_matrix(rotation: u16, width: u32, height: u32) -> [u32; 9] {
    const ONE: u32 = 0x0001_0000;
    const MINUS_ONE: u32 = 0xFFFF_0000;
    let (w, h) = (width << 16, height << 16);
    match rotation {
        90 => [0, ONE, 0, MINUS_ONE, 0, 0, h, 0, 0x4000_0000],
        180 => [MINUS_ONE, 0, 0, 0, MINUS_ONE, 0, w, h, 0x4000_0000],
        270 => [0, MINUS_ONE, 0, ONE, 0, 0, 0, w, 0x4000_0000],
        _ => MATRIX,
    }
}

fn ftyp(video: Option<&VideoCodec>) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = boxed(&mut out, b"ftyp", |o| {
        o.extend_from_slice(b"isom");
        u32be(o, 0x200);
        o.extend_from_slice(b"isomiso2mp41");
        if let Some(codec) = video {
            o.extend_from_slice(&codec.sample_entry());
        }
        Ok(())
    });
    out
}

/// `ticks` of `from` in the clock `to` (rounded down).
fn rescale(ticks: u64, from: u32, to: u32) -> u64 {
    (u128::from(ticks) * u128::from(to) / u128::from(from.max(1))) as u64
}

/// `moov` with chunk offsets starting at `first_offset` (one sample per chunk), the media laid
/// out in `order`.
fn moov(
    tracks: &[MuxTrack<'_>],
    order: &[(usize, usize)],
    movie_timescale: u32,
    first_offset: u64,
    wide: bool,
) -> Result<Vec<u8>> {
    moov_with(tracks, order, movie_timescale, first_offset, wide, false)
}

/// `moov` as above; `fragmented` adds `mvex` (one `trex` per track) saying the samples come in
/// `moof` fragments (the tracks then hold no samples here).
pub(super) fn moov_with(
    tracks: &[MuxTrack<'_>],
    order: &[(usize, usize)],
    movie_timescale: u32,
    first_offset: u64,
    wide: bool,
    fragmented: bool,
) -> Result<Vec<u8>> {
    // Where each sample lands in the file.
    let mut offsets: Vec<Vec<u64>> = tracks.iter().map(|t| Vec::with_capacity(t.samples.len())).collect();
    let mut at = first_offset;
    for &(t, i) in order {
        if let (Some(list), Some(s)) = (offsets.get_mut(t), tracks.get(t).and_then(|t| t.samples.get(i))) {
            list.push(at);
            at += s.data.len() as u64;
        }
    }
    // What each track presents, in the movie clock (its edit shortens or delays it).
    let presented: Vec<u64> = tracks
        .iter()
        .map(|t| {
            let end = t.presentation_end();
            let shown = if t.media_start >= 0 {
                end.saturating_sub(t.media_start as u64)
            } else {
                end + t.media_start.unsigned_abs()
            };
            rescale(shown, t.timescale(), movie_timescale)
        })
        .collect();
    let movie_duration = presented.iter().copied().max().unwrap_or(0);
    let longest = tracks.iter().map(|t| t.duration()).max().unwrap_or(0).max(movie_duration);
    // Version 1 headers only when a duration does not fit 32 bits.
    let v1 = longest > u64::from(u32::MAX);
    let version = u8::from(v1);
    let time = |o: &mut Vec<u8>, v: u64| if v1 { u64be(o, v) } else { u32be(o, v as u32) };
    let mut out = Vec::new();
    boxed(&mut out, b"moov", |o| {
        full(o, b"mvhd", version, 0, |o| {
            time(o, 0); // creation time: unknown (keeps outputs reproducible)
            time(o, 0); // modification time
            u32be(o, movie_timescale);
            time(o, movie_duration);
            u32be(o, 0x0001_0000); // rate 1.0
            u16be(o, 0x0100); // volume 1.0
            o.extend_from_slice(&[0; 10]);
            MATRIX.iter().for_each(|&m| u32be(o, m));
            o.extend_from_slice(&[0; 24]); // pre_defined
            u32be(o, tracks.len() as u32 + 1); // next track ID
            Ok(())
        })?;
        for (index, t) in tracks.iter().enumerate() {
            let track_offsets = offsets.get(index).map(Vec::as_slice).unwrap_or_default();
            let presented = presented.get(index).copied().unwrap_or(0);
            trak(o, t, index as u32 + 1, presented, movie_timescale, version, track_offsets, wide)?;
        }
        if fragmented {
            boxed(o, b"mvex", |o| {
                for id in 1..=tracks.len() as u32 {
                    full(o, b"trex", 0, 0, |o| {
                        u32be(o, id);
                        u32be(o, 1); // sample description 1
                        u32be(o, 0); // no default duration, size or flags: each trun says
                        u32be(o, 0);
                        u32be(o, 0);
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn trak(
    o: &mut Vec<u8>,
    t: &MuxTrack<'_>,
    id: u32,
    presented: u64,
    movie_timescale: u32,
    version: u8,
    offsets: &[u64],
    wide: bool,
) -> Result<()> {
    let v1 = version == 1;
    let time = |o: &mut Vec<u8>, v: u64| if v1 { u64be(o, v) } else { u32be(o, v as u32) };
    let audio = matches!(t.media, TrackMedia::Audio(_));
    boxed(o, b"trak", |o| {
        // Flags: enabled, in movie, in preview.
        full(o, b"tkhd", version, 0x3, |o| {
            time(o, 0);
            time(o, 0);
            u32be(o, id);
            u32be(o, 0);
            time(o, presented); // in the movie timescale
            o.extend_from_slice(&[0; 8]);
            u16be(o, 0); // layer
            u16be(o, 0); // alternate group
            u16be(o, if audio { 0x0100 } else { 0 }); // volume: 1.0 for audio, 0 for video
            u16be(o, 0);
            let (matrix, w, h) = match t.media {
                // The size before the matrix turns it, as cameras and FFmpeg write it (players
                // take it as the picture's aspect, then rotate).
                TrackMedia::Video { track, rotation } => {
                    (rotation_matrix(*rotation, track.width, track.height), track.width, track.height)
                }
                TrackMedia::Audio(_) => (MATRIX, 0, 0),
            };
            matrix.iter().for_each(|&m| u32be(o, m));
            u32be(o, w << 16); // 16.16 fixed point
            u32be(o, h << 16);
            Ok(())
        })?;
        if t.media_start != 0 || t.end_padding_ns != 0 {
            boxed(o, b"edts", |o| {
                full(o, b"elst", 1, 0, |o| {
                    if t.media_start < 0 {
                        u32be(o, 2);
                        u64be(o, rescale(t.media_start.unsigned_abs(), t.timescale(), movie_timescale));
                        u64be(o, u64::MAX); // media time -1: an empty edit (a delay)
                        u32be(o, 0x0001_0000);
                        u64be(o, rescale(t.presentation_end(), t.timescale(), movie_timescale));
                        u64be(o, 0);
                    } else {
                        u32be(o, 1);
                        u64be(o, presented);
                        u64be(o, t.media_start as u64);
                    }
                    u32be(o, 0x0001_0000); // rate 1.0
                    Ok(())
                })
            })?;
        }
        boxed(o, b"mdia", |o| {
            full(o, b"mdhd", version, 0, |o| {
                time(o, 0);
                time(o, 0);
                u32be(o, t.timescale());
                time(o, t.duration());
                u16be(o, 0x55C4); // language "und"
                u16be(o, 0);
                Ok(())
            })?;
            full(o, b"hdlr", 0, 0, |o| {
                u32be(o, 0);
                o.extend_from_slice(if audio { b"soun" } else { b"vide" });
                o.extend_from_slice(&[0; 12]);
                o.extend_from_slice(if audio { b"SoundHandler\0" } else { b"VideoHandler\0" });
                Ok(())
            })?;
            boxed(o, b"minf", |o| {
                if audio {
                    full(o, b"smhd", 0, 0, |o| {
                        o.extend_from_slice(&[0; 4]);
                        Ok(())
                    })?;
                } else {
                    full(o, b"vmhd", 0, 1, |o| {
                        o.extend_from_slice(&[0; 8]);
                        Ok(())
                    })?;
                }
                boxed(o, b"dinf", |o| {
                    full(o, b"dref", 0, 0, |o| {
                        u32be(o, 1);
                        full(o, b"url ", 0, 1, |_| Ok(())) // flag 1: media in this file
                    })
                })?;
                boxed(o, b"stbl", |o| sample_tables(o, t, offsets, wide))
            })
        })
    })
}

fn sample_entry(o: &mut Vec<u8>, t: &MuxTrack<'_>) -> Result<()> {
    match t.media {
        TrackMedia::Video { track, .. } => boxed(o, &track.codec.sample_entry(), |o| {
            o.extend_from_slice(&[0; 6]);
            u16be(o, 1); // data reference index
            o.extend_from_slice(&[0; 16]);
            u16be(o, track.width as u16); // checked <= 65535 by check_track
            u16be(o, track.height as u16);
            u32be(o, 0x0048_0000); // 72 dpi
            u32be(o, 0x0048_0000);
            u32be(o, 0);
            u16be(o, 1); // frames per sample
            o.extend_from_slice(&[0; 32]); // compressor name
            u16be(o, 0x0018); // depth: colour, no alpha
            u16be(o, 0xFFFF);
            match &track.codec {
                VideoCodec::Avc { avcc } => boxed(o, b"avcC", |o| {
                    o.extend_from_slice(avcc);
                    Ok(())
                }),
                VideoCodec::Av1 { av1c } => boxed(o, b"av1C", |o| {
                    o.extend_from_slice(av1c);
                    Ok(())
                }),
                VideoCodec::Vp9 { vpcc } => boxed(o, b"vpcC", |o| {
                    o.extend_from_slice(vpcc);
                    Ok(())
                }),
            }
        }),
        TrackMedia::Audio(a) if a.is_opus() => boxed(o, b"Opus", |o| {
            o.extend_from_slice(&[0; 6]);
            u16be(o, 1); // data reference index
            o.extend_from_slice(&[0; 8]);
            u16be(o, a.channels);
            u16be(o, 16); // sample size
            u32be(o, 0);
            u32be(o, 48_000 << 16); // Opus always decodes at 48 kHz
            boxed(o, b"dOps", |o| {
                dops(o, &a.config);
                Ok(())
            })
        }),
        TrackMedia::Audio(a) => boxed(o, b"mp4a", |o| {
            o.extend_from_slice(&[0; 6]);
            u16be(o, 1); // data reference index
            o.extend_from_slice(&[0; 8]);
            u16be(o, a.channels);
            u16be(o, 16); // sample size
            u32be(o, 0);
            u32be(o, a.sample_rate.min(0xFFFF) << 16); // 16.16; decoders go by the config
            full(o, b"esds", 0, 0, |o| {
                esds(o, t, a);
                Ok(())
            })
        }),
    }
}

/// An MPEG-4 ES_Descriptor around the AudioSpecificConfig (ISO 14496-1 7.2.6.5).
fn esds(o: &mut Vec<u8>, t: &MuxTrack<'_>, a: &AudioTrack) {
    let max_size = t.samples.iter().map(|s| s.data.len()).max().unwrap_or(0) as u32;
    let bytes: u64 = t.samples.iter().map(|s| s.data.len() as u64).sum();
    let seconds = t.duration() as f64 / f64::from(a.timescale.max(1));
    let average = if seconds > 0.0 { (bytes as f64 * 8.0 / seconds) as u32 } else { 0 };
    let mut decoder_specific = vec![0x05];
    descriptor_size(&mut decoder_specific, a.config.len());
    decoder_specific.extend_from_slice(&a.config);
    let mut decoder_config = vec![0x40, 0x15]; // MPEG-4 audio; audio stream, upstream 0, reserved 1
    decoder_config.extend_from_slice(&max_size.to_be_bytes()[1..]); // buffer size, 24 bits
    decoder_config.extend_from_slice(&average.to_be_bytes()); // max bit rate (unknown: the average)
    decoder_config.extend_from_slice(&average.to_be_bytes());
    decoder_config.extend(decoder_specific);
    let mut es = vec![0, 0, 0]; // ES_ID 0, no flags
    es.push(0x04);
    descriptor_size(&mut es, decoder_config.len());
    es.extend(decoder_config);
    es.extend_from_slice(&[0x06, 0x01, 0x02]); // SLConfigDescriptor: predefined 2 (MP4)
    o.push(0x03);
    descriptor_size(o, es.len());
    o.extend(es);
}

/// `dOps` from an `OpusHead` (checked to be at least 19 bytes): the same fields, big-endian,
/// version 0, without the magic.
fn dops(o: &mut Vec<u8>, head: &[u8]) {
    let le16 = |at: usize| head.get(at..at + 2).and_then(|b| b.try_into().ok()).map_or(0, u16::from_le_bytes);
    let le32 = |at: usize| head.get(at..at + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes);
    o.push(0); // version
    o.push(head.get(9).copied().unwrap_or(1)); // output channel count
    u16be(o, le16(10)); // pre-skip
    u32be(o, le32(12)); // input sample rate
    u16be(o, le16(16)); // output gain
    let family = head.get(18).copied().unwrap_or(0);
    o.push(family);
    if family != 0 {
        // Stream count, coupled count, then one mapping byte per channel.
        o.extend_from_slice(head.get(19..).unwrap_or_default());
    }
}

/// A descriptor size in the expandable form: 7 bits per byte, high bit set on all but the last.
fn descriptor_size(o: &mut Vec<u8>, size: usize) {
    let groups = (1..4).take_while(|i| size >> (7 * i) != 0).count();
    for i in (1..=groups).rev() {
        o.push(0x80 | ((size >> (7 * i)) & 0x7F) as u8);
    }
    o.push((size & 0x7F) as u8);
}

fn sample_tables(o: &mut Vec<u8>, t: &MuxTrack<'_>, offsets: &[u64], wide: bool) -> Result<()> {
    let samples = t.samples;
    let count = samples.len() as u32; // checked against MuxLimits by the caller
    full(o, b"stsd", 0, 0, |o| {
        u32be(o, 1);
        sample_entry(o, t)
    })?;
    // Decoding times: runs of equal durations.
    full(o, b"stts", 0, 0, |o| {
        let runs = run_lengths(samples.iter().map(|s| s.duration));
        u32be(o, runs.len() as u32);
        for (n, d) in runs {
            u32be(o, n);
            u32be(o, d);
        }
        Ok(())
    })?;
    // Presentation offsets (version 1: signed), only when some frame is reordered.
    if t.composition_offsets.iter().any(|&c| c != 0) {
        full(o, b"ctts", 1, 0, |o| {
            let runs = run_lengths(t.composition_offsets.iter().copied());
            u32be(o, runs.len() as u32);
            for (n, c) in runs {
                u32be(o, n);
                o.extend_from_slice(&c.to_be_bytes());
            }
            Ok(())
        })?;
    }
    // Sync samples; without the table every sample is one.
    if samples.iter().any(|s| !s.keyframe) {
        full(o, b"stss", 0, 0, |o| {
            let keys: Vec<u32> =
                samples.iter().enumerate().filter(|(_, s)| s.keyframe).map(|(i, _)| i as u32 + 1).collect();
            u32be(o, keys.len() as u32);
            keys.into_iter().for_each(|k| u32be(o, k));
            Ok(())
        })?;
    }
    full(o, b"stsc", 0, 0, |o| {
        if samples.is_empty() {
            u32be(o, 0); // a fragmented file's samples are described by its fragments
            return Ok(());
        }
        u32be(o, 1);
        u32be(o, 1); // from the first chunk on
        u32be(o, 1); // one sample per chunk
        u32be(o, 1); // sample description 1
        Ok(())
    })?;
    full(o, b"stsz", 0, 0, |o| {
        u32be(o, 0); // sizes vary
        u32be(o, count);
        for s in samples {
            let size = u32::try_from(s.data.len()).map_err(|_| Error::encode("mp4", "a frame over 4 GiB"))?;
            u32be(o, size);
        }
        Ok(())
    })?;
    full(o, if wide { b"co64" } else { b"stco" }, 0, 0, |o| {
        u32be(o, count);
        for &at in offsets {
            if wide {
                u64be(o, at);
            } else {
                u32be(o, at as u32); // the caller widens when the last offset passes u32::MAX
            }
        }
        Ok(())
    })
}

/// (count, value) runs of equal consecutive values.
fn run_lengths<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<(u32, T)> {
    let mut runs: Vec<(u32, T)> = Vec::new();
    for v in values {
        match runs.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => runs.push((1, v)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::mp4::boxes::children;

    fn track() -> VideoTrack {
        VideoTrack {
            codec: VideoCodec::Av1 { av1c: vec![0x81, 0x00, 0x0C, 0x00] },
            width: 64,
            height: 48,
            timescale: 1000,
        }
    }

    /// The box at `path` (each a child of the one before) in `file`.
    fn find(file: &[u8], path: &[&[u8; 4]]) -> Option<(usize, usize)> {
        let (mut from, mut to) = (0, file.len());
        for kind in path {
            let b = children(file, from, to).ok()?.into_iter().find(|b| &b.kind == *kind)?;
            (from, to) = (b.start + b.header, b.end);
        }
        Some((from, to))
    }

    #[test]
    fn widens_chunk_offsets_only_past_4_gib() {
        let data = [7u8; 10];
        let samples = [Sample { duration: 40, keyframe: true, data: &data }; 3];
        let stbl: &[&[u8; 4]] = &[b"moov", b"trak", b"mdia", b"minf", b"stbl"];
        let media = TrackMedia::Video { track: track(), rotation: 0 };
        let tracks = [MuxTrack {
            media: &media,
            samples: &samples,
            composition_offsets: &[],
            media_start: 0,
            end_padding_ns: 0,
        }];
        let order = interleave(&tracks);
        let narrow = moov(&tracks, &order, 1000, 100, false).unwrap();
        let wide = moov(&tracks, &order, 1000, u64::from(u32::MAX) + 1, true).unwrap();
        let (from, to) = find(&narrow, stbl).unwrap();
        let kinds: Vec<_> = children(&narrow, from, to).unwrap().iter().map(|b| b.name()).collect();
        assert_eq!(kinds, ["stsd", "stts", "stsc", "stsz", "stco"], "no stss when every frame is a key frame");
        let (from, to) = find(&wide, stbl).unwrap();
        let co64 = children(&wide, from, to).unwrap().into_iter().find(|b| &b.kind == b"co64").unwrap();
        let p = co64.payload(&wide);
        assert_eq!(u64::from_be_bytes(p[8..16].try_into().unwrap()), u64::from(u32::MAX) + 1);
        assert_eq!(u64::from_be_bytes(p[16..24].try_into().unwrap()), u64::from(u32::MAX) + 11);
    }

    #[test]
    fn refuses_bad_input_before_allocating() {
        let data = [0u8; 4];
        let s = Sample { duration: 1, keyframe: true, data: &data };
        let limits = MuxLimits { max_samples: 2, max_bytes: 6 };
        assert_eq!(mux(&track(), &[s; 3], &limits).unwrap_err().code(), "TOO_LARGE");
        assert!(mux(&track(), &[s; 2], &limits).unwrap_err().to_string().contains("8 bytes exceeds the limit of 6"));
        assert_eq!(mux(&track(), &[], &limits).unwrap_err().code(), "INVALID_OPTION");
        let not_key = Sample { keyframe: false, ..s };
        assert_eq!(mux(&track(), &[not_key], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
        let zero = Sample { duration: 0, ..s };
        assert_eq!(mux(&track(), &[s, zero], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
        let bad = VideoTrack { codec: VideoCodec::Avc { avcc: vec![0, 1, 2] }, ..track() };
        assert_eq!(mux(&bad, &[s], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
        let huge = VideoTrack { width: 70_000, ..track() };
        assert_eq!(mux(&huge, &[s], &MuxLimits::default()).unwrap_err().code(), "INVALID_OPTION");
    }
}
