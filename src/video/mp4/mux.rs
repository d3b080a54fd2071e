//! An MP4 writer for one video track of already-encoded samples (H.264 from WebCodecs, AV1
//! from WebCodecs or rav1e), laid out for fast start: `ftyp`, `moov` (the index), then `mdat`.
//! One sample per chunk keeps the tables trivially right; the 4 bytes per sample it costs in
//! `stco` are nothing next to the frames. Chunk offsets widen to `co64` past 4 GiB.

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
}

impl VideoCodec {
    fn sample_entry(&self) -> [u8; 4] {
        match self {
            VideoCodec::Avc { .. } => *b"avc1",
            VideoCodec::Av1 { .. } => *b"av01",
        }
    }

    /// Refuses a record that a decoder would reject outright (wrong version or marker).
    fn check(&self) -> Result<()> {
        match self {
            VideoCodec::Avc { avcc } => {
                // configurationVersion 1, then profile, compatibility, level, length size, SPS count.
                if avcc.len() < 7 || avcc.first() != Some(&1) {
                    return Err(Error::option("codecConfig", format!("an avcC record starts with version 1 and has at least 7 bytes, got {} bytes", avcc.len())));
                }
            }
            VideoCodec::Av1 { av1c } => {
                // marker bit 1 and version 1: the first byte is 0x81.
                if av1c.len() < 4 || av1c.first() != Some(&0x81) {
                    return Err(Error::option("codecConfig", format!("an av1C record starts with 0x81 and has at least 4 bytes, got {} bytes", av1c.len())));
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

impl Default for MuxLimits {
    /// A million frames (over 9 hours at 30 fps) and 1 GiB of media: more than any page
    /// should build in memory, and well inside wasm32's 4 GiB.
    fn default() -> Self {
        MuxLimits { max_samples: 1_000_000, max_bytes: 1 << 30 }
    }
}

/// A fast-start MP4 of `samples` (in decode order, the first a key frame).
pub fn mux(track: &VideoTrack, samples: &[Sample<'_>], limits: &MuxLimits) -> Result<Vec<u8>> {
    track.codec.check()?;
    if track.width == 0 || track.height == 0 || track.width > 0xFFFF || track.height > 0xFFFF {
        return Err(Error::option("width/height", format!("{}x{} is not a size an MP4 sample entry can hold (1 to 65535 each)", track.width, track.height)));
    }
    if track.timescale == 0 {
        return Err(Error::option("timescale", "must be at least 1"));
    }
    let count = u32::try_from(samples.len()).unwrap_or(u32::MAX);
    if count == 0 {
        return Err(Error::option("samples", "a video needs at least one frame"));
    }
    if count > limits.max_samples {
        return Err(Error::too_large(Budget::Frames, u64::from(count), u64::from(limits.max_samples), "maxFrames"));
    }
    if samples.first().is_some_and(|s| !s.keyframe) {
        return Err(Error::option("samples", "the first frame must be a key frame"));
    }
    if let Some(i) = samples.iter().position(|s| s.duration == 0) {
        return Err(Error::option("samples", format!("frame {i} has a duration of 0")));
    }
    let media_bytes = samples.iter().try_fold(0u64, |sum, s| sum.checked_add(s.data.len() as u64));
    let media_bytes = media_bytes.unwrap_or(u64::MAX);
    if media_bytes > limits.max_bytes {
        return Err(Error::too_large(Budget::Bytes, media_bytes, limits.max_bytes, "maxBytes"));
    }
    let duration: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();

    let ftyp = ftyp(&track.codec);
    // A 64-bit mdat header only when its size needs it.
    let mdat_header = if media_bytes + 8 > u64::from(u32::MAX) { 16 } else { 8 };
    // The index's size does not depend on the offsets' values, only on their width: build
    // it with 32-bit offsets first, widen when the last one does not fit.
    let mut wide = false;
    let moov = loop {
        let probe = moov(track, samples, duration, 0, wide)?;
        let first = (ftyp.len() + probe.len()) as u64 + mdat_header;
        let last = first + media_bytes - samples.last().map_or(0, |s| s.data.len() as u64);
        if !wide && last > u64::from(u32::MAX) {
            wide = true;
            continue;
        }
        break moov(track, samples, duration, first, wide)?;
    };

    let total = ftyp.len() as u64 + moov.len() as u64 + mdat_header + media_bytes;
    let total = usize::try_from(total).map_err(|_| Error::too_large(Budget::Bytes, total, usize::MAX as u64, "maxBytes"))?;
    let mut out = Vec::new();
    out.try_reserve_exact(total).map_err(|_| Error::too_large(Budget::Bytes, total as u64, limits.max_bytes, "maxBytes"))?;
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
    for s in samples {
        out.extend_from_slice(s.data);
    }
    Ok(out)
}

/// Writes `[size][kind][body]`, the size patched in once the body is written.
fn boxed(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
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
fn full(out: &mut Vec<u8>, kind: &[u8; 4], version: u8, flags: u32, body: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    boxed(out, kind, |o| {
        o.push(version);
        o.extend_from_slice(&flags.to_be_bytes()[1..]);
        body(o)
    })
}

fn u16be(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn u32be(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn u64be(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// The unity transformation matrix of `mvhd` and `tkhd`.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn ftyp(codec: &VideoCodec) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = boxed(&mut out, b"ftyp", |o| {
        o.extend_from_slice(b"isom");
        u32be(o, 0x200);
        o.extend_from_slice(b"isomiso2mp41");
        o.extend_from_slice(&codec.sample_entry());
        Ok(())
    });
    out
}

/// `moov` with chunk offsets starting at `first_offset` (one sample per chunk).
fn moov(track: &VideoTrack, samples: &[Sample<'_>], duration: u64, first_offset: u64, wide: bool) -> Result<Vec<u8>> {
    // Version 1 headers only when a duration does not fit 32 bits.
    let v1 = duration > u64::from(u32::MAX);
    let version = u8::from(v1);
    let time = |o: &mut Vec<u8>, v: u64| if v1 { u64be(o, v) } else { u32be(o, v as u32) };
    let mut out = Vec::new();
    boxed(&mut out, b"moov", |o| {
        full(o, b"mvhd", version, 0, |o| {
            time(o, 0); // creation time: unknown (keeps outputs reproducible)
            time(o, 0); // modification time
            u32be(o, track.timescale);
            time(o, duration);
            u32be(o, 0x0001_0000); // rate 1.0
            u16be(o, 0x0100); // volume 1.0
            o.extend_from_slice(&[0; 10]);
            MATRIX.iter().for_each(|&m| u32be(o, m));
            o.extend_from_slice(&[0; 24]); // pre_defined
            u32be(o, 2); // next track ID
            Ok(())
        })?;
        boxed(o, b"trak", |o| {
            // Flags: enabled, in movie, in preview.
            full(o, b"tkhd", version, 0x3, |o| {
                time(o, 0);
                time(o, 0);
                u32be(o, 1); // track ID
                u32be(o, 0);
                time(o, duration); // in the movie timescale, which is the track's here
                o.extend_from_slice(&[0; 8]);
                u16be(o, 0); // layer
                u16be(o, 0); // alternate group
                u16be(o, 0); // volume: 0 for video
                u16be(o, 0);
                MATRIX.iter().for_each(|&m| u32be(o, m));
                u32be(o, track.width << 16); // 16.16 fixed point
                u32be(o, track.height << 16);
                Ok(())
            })?;
            boxed(o, b"mdia", |o| {
                full(o, b"mdhd", version, 0, |o| {
                    time(o, 0);
                    time(o, 0);
                    u32be(o, track.timescale);
                    time(o, duration);
                    u16be(o, 0x55C4); // language "und"
                    u16be(o, 0);
                    Ok(())
                })?;
                full(o, b"hdlr", 0, 0, |o| {
                    u32be(o, 0);
                    o.extend_from_slice(b"vide");
                    o.extend_from_slice(&[0; 12]);
                    o.extend_from_slice(b"VideoHandler\0");
                    Ok(())
                })?;
                boxed(o, b"minf", |o| {
                    full(o, b"vmhd", 0, 1, |o| {
                        o.extend_from_slice(&[0; 8]);
                        Ok(())
                    })?;
                    boxed(o, b"dinf", |o| {
                        full(o, b"dref", 0, 0, |o| {
                            u32be(o, 1);
                            full(o, b"url ", 0, 1, |_| Ok(())) // flag 1: media in this file
                        })
                    })?;
                    boxed(o, b"stbl", |o| sample_tables(o, track, samples, first_offset, wide))
                })
            })
        })
    })?;
    Ok(out)
}

fn sample_tables(o: &mut Vec<u8>, track: &VideoTrack, samples: &[Sample<'_>], first_offset: u64, wide: bool) -> Result<()> {
    let count = samples.len() as u32; // checked against MuxLimits by the caller
    full(o, b"stsd", 0, 0, |o| {
        u32be(o, 1);
        boxed(o, &track.codec.sample_entry(), |o| {
            o.extend_from_slice(&[0; 6]);
            u16be(o, 1); // data reference index
            o.extend_from_slice(&[0; 16]);
            u16be(o, track.width as u16); // checked <= 65535 by the caller
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
            }
        })
    })?;
    // Decoding times: runs of equal durations.
    full(o, b"stts", 0, 0, |o| {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for s in samples {
            match runs.last_mut() {
                Some((n, d)) if *d == s.duration => *n += 1,
                _ => runs.push((1, s.duration)),
            }
        }
        u32be(o, runs.len() as u32);
        for (n, d) in runs {
            u32be(o, n);
            u32be(o, d);
        }
        Ok(())
    })?;
    // Sync samples; without the table every sample is one.
    if samples.iter().any(|s| !s.keyframe) {
        full(o, b"stss", 0, 0, |o| {
            let keys: Vec<u32> = samples.iter().enumerate().filter(|(_, s)| s.keyframe).map(|(i, _)| i as u32 + 1).collect();
            u32be(o, keys.len() as u32);
            keys.into_iter().for_each(|k| u32be(o, k));
            Ok(())
        })?;
    }
    full(o, b"stsc", 0, 0, |o| {
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
        let mut at = first_offset;
        for s in samples {
            if wide {
                u64be(o, at);
            } else {
                u32be(o, at as u32); // the caller widens when the last offset passes u32::MAX
            }
            at += s.data.len() as u64;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::mp4::boxes::children;

    fn track() -> VideoTrack {
        VideoTrack { codec: VideoCodec::Av1 { av1c: vec![0x81, 0x00, 0x0C, 0x00] }, width: 64, height: 48, timescale: 1000 }
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
        let narrow = moov(&track(), &samples, 120, 100, false).unwrap();
        let wide = moov(&track(), &samples, 120, u64::from(u32::MAX) + 1, true).unwrap();
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
