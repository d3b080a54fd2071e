//! Fragmented MP4 (ISO/IEC 14496-12 8.8): an init segment (`ftyp`, then a `moov` whose sample
//! tables are empty and whose `mvex` says fragments follow), then one `moof` + `mdat` pair per
//! fragment, written as the samples arrive, and optionally an `mfra` (random access index) at
//! the end. A transcode can so stream its output and hold one fragment at a time, whatever the
//! length. Sample entries and track headers are the fast-start muxer's (mux.rs); only the
//! fragment boxes live here.
//!
//! Written by hand rather than with a crate: `muxide` takes Annex B H.264 and ADTS AAC only
//! (WebCodecs gives us avcC / av1C / vpcC records and raw AAC), `mp4-atom` is a box codec that
//! would duplicate the sample entries mux.rs already writes and bring `bytes`, `derive_more`,
//! `num` and `tracing` into the wasm, and `re_mp4` only reads. The fragment boxes are ~200 lines.

use super::mux::{
    MuxLimits, MuxTrack, Sample, TrackMedia, boxed, check_media, check_sample_run, check_tracks, full, moov_with,
    u32be, u64be,
};
use crate::error::{Budget, Error, Result};

/// One track of a fragmented file: what it is and where presentation starts (an edit list, as
/// [`MuxTrack::media_start`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentTrack {
    pub media: TrackMedia,
    pub media_start: i64,
}

impl FragmentTrack {
    fn timescale(&self) -> u32 {
        match &self.media {
            TrackMedia::Video { track, .. } => track.timescale,
            TrackMedia::Audio(a) => a.timescale,
        }
    }
}

/// A track's samples in one fragment (decode order), with their presentation minus decode
/// times (empty when equal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentRun<'a> {
    pub samples: &'a [Sample<'a>],
    pub composition_offsets: &'a [i32],
}

/// `sample_depends_on = 2` (depends on no other sample): a sync sample.
const SYNC_SAMPLE: u32 = 0x0200_0000;
/// `sample_depends_on = 1` and `sample_is_non_sync_sample`.
const NON_SYNC_SAMPLE: u32 = 0x0101_0000;
/// `tfhd` flag: data offsets count from the `moof` (what browsers' MSE expects).
const DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// A fragment is cut at a key frame of the lead track once it holds this much of it.
const FRAGMENT_SECONDS: u64 = 1;

/// Writes a fragmented MP4 piece by piece: [`FragmentWriter::new`] gives the init segment,
/// each [`FragmentWriter::fragment`] a `moof` + `mdat`, [`FragmentWriter::finish`] the `mfra`.
/// Memory holds the track list and one index entry per fragment, never the media written.
#[derive(Debug)]
pub struct FragmentWriter {
    tracks: Vec<FragmentTrack>,
    /// Per track: the decode time of its next sample, in its ticks.
    next_dts: Vec<u64>,
    /// Per track: whether a sample was written (the first must be a key frame).
    started: Vec<bool>,
    sequence: u32,
    /// Bytes handed out so far: where the next `moof` starts.
    position: u64,
    /// Per track, per fragment starting with a sync sample: (decode time, `moof` offset, traf number).
    random_access: Vec<Vec<(u64, u64, u8)>>,
    limits: MuxLimits,
}

impl FragmentWriter {
    /// The writer and the init segment (`ftyp` + `moov`) to write first. `limits` bound each
    /// fragment (samples and bytes) and the number of fragments.
    pub fn new(tracks: Vec<FragmentTrack>, limits: MuxLimits) -> Result<(FragmentWriter, Vec<u8>)> {
        let Some(first) = tracks.first() else {
            return Err(Error::option("tracks", "a movie needs at least one track"));
        };
        if tracks.len() > 255 {
            return Err(Error::option(
                "tracks",
                format!("{} tracks; a fragment index counts at most 255", tracks.len()),
            ));
        }
        for t in &tracks {
            check_media(&t.media, t.timescale())?;
        }
        let movie_timescale = first.timescale();
        let empty: Vec<MuxTrack<'_>> = tracks
            .iter()
            .map(|t| MuxTrack {
                media: &t.media,
                samples: &[],
                composition_offsets: &[],
                media_start: t.media_start,
                end_padding_ns: 0,
            })
            .collect();
        let video = tracks.iter().find_map(|t| match &t.media {
            TrackMedia::Video { track, .. } => Some(track.codec.sample_entry()),
            TrackMedia::Audio(_) => None,
        });
        let mut init = Vec::new();
        boxed(&mut init, b"ftyp", |o| {
            o.extend_from_slice(b"iso5"); // fragments with default-base-is-moof
            u32be(o, 0x200);
            o.extend_from_slice(b"iso5iso6isommp41");
            if let Some(entry) = video {
                o.extend_from_slice(&entry);
            }
            Ok(())
        })?;
        init.extend(moov_with(&empty, &[], movie_timescale, 0, false, true)?);
        let n = tracks.len();
        let writer = FragmentWriter {
            tracks,
            next_dts: vec![0; n],
            started: vec![false; n],
            sequence: 0,
            position: init.len() as u64,
            random_access: vec![Vec::new(); n],
            limits,
        };
        Ok((writer, init))
    }

    /// Bytes handed out so far (init segment and fragments).
    pub fn bytes_written(&self) -> u64 {
        self.position
    }

    /// How many tracks the file has.
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }

    /// Fragments written so far.
    pub fn fragments(&self) -> u32 {
        self.sequence
    }

    /// One `moof` + `mdat` holding `runs` (one per track, in the order given to `new`; a track
    /// may have none in a fragment). Each track's samples continue where its last fragment ended.
    pub fn fragment(&mut self, runs: &[FragmentRun<'_>]) -> Result<Vec<u8>> {
        if runs.len() != self.tracks.len() {
            return Err(Error::option("runs", format!("{} sample runs for {} tracks", runs.len(), self.tracks.len())));
        }
        let count: u64 = runs.iter().map(|r| r.samples.len() as u64).sum();
        if count == 0 {
            return Err(Error::option("samples", "a fragment needs at least one sample"));
        }
        if count > u64::from(self.limits.max_samples) {
            return Err(Error::too_large(Budget::Frames, count, u64::from(self.limits.max_samples), "maxFrames"));
        }
        if self.sequence >= self.limits.max_samples {
            return Err(Error::too_large(
                Budget::Frames,
                u64::from(self.sequence) + 1,
                u64::from(self.limits.max_samples),
                "maxFrames",
            ));
        }
        let mut media_bytes = 0u64;
        for (i, r) in runs.iter().enumerate() {
            check_sample_run(r.samples, r.composition_offsets)?;
            let first_in_track = !self.started.get(i).copied().unwrap_or(true);
            if first_in_track && r.samples.first().is_some_and(|s| !s.keyframe) {
                return Err(Error::option("samples", format!("track {} must start with a key frame", i + 1)));
            }
            for s in r.samples {
                media_bytes = media_bytes.saturating_add(s.data.len() as u64);
                if u32::try_from(s.data.len()).is_err() {
                    return Err(Error::encode("mp4", "a frame over 4 GiB"));
                }
            }
        }
        if media_bytes > self.limits.max_bytes {
            return Err(Error::too_large(Budget::Bytes, media_bytes, self.limits.max_bytes, "maxBytes"));
        }
        let sequence = self.sequence + 1;

        // The moof, with each trun's data offset patched in once the moof's size is known.
        let mut moof = Vec::new();
        let mut offset_slots: Vec<(usize, u64)> = Vec::new(); // (slot in moof, bytes before this track's data in mdat)
        let mut traf_numbers: Vec<Option<u8>> = vec![None; runs.len()];
        boxed(&mut moof, b"moof", |o| {
            full(o, b"mfhd", 0, 0, |o| {
                u32be(o, sequence);
                Ok(())
            })?;
            let mut data_before = 0u64;
            let mut traf_number = 0u8;
            for (index, (run, track)) in runs.iter().zip(&self.tracks).enumerate() {
                if run.samples.is_empty() {
                    continue;
                }
                traf_number += 1;
                if let Some(slot) = traf_numbers.get_mut(index) {
                    *slot = Some(traf_number);
                }
                let video = matches!(track.media, TrackMedia::Video { .. });
                let base_dts = self.next_dts.get(index).copied().unwrap_or(0);
                boxed(o, b"traf", |o| {
                    full(o, b"tfhd", 0, DEFAULT_BASE_IS_MOOF, |o| {
                        u32be(o, index as u32 + 1);
                        Ok(())
                    })?;
                    full(o, b"tfdt", 1, 0, |o| {
                        u64be(o, base_dts);
                        Ok(())
                    })?;
                    let reordered = run.composition_offsets.iter().any(|&c| c != 0);
                    // Data offset, then per sample: duration, size, flags (and composition offset).
                    let flags = 0x1 | 0x100 | 0x200 | 0x400 | if reordered { 0x800 } else { 0 };
                    full(o, b"trun", u8::from(reordered), flags, |o| {
                        u32be(o, run.samples.len() as u32); // bounded by limits.max_samples
                        offset_slots.push((o.len(), data_before));
                        u32be(o, 0);
                        for (i, s) in run.samples.iter().enumerate() {
                            u32be(o, s.duration);
                            u32be(o, s.data.len() as u32); // checked to fit above
                            u32be(o, if !video || s.keyframe { SYNC_SAMPLE } else { NON_SYNC_SAMPLE });
                            if reordered {
                                o.extend_from_slice(
                                    &run.composition_offsets.get(i).copied().unwrap_or(0).to_be_bytes(),
                                );
                            }
                        }
                        Ok(())
                    })
                })?;
                data_before += run.samples.iter().map(|s| s.data.len() as u64).sum::<u64>();
            }
            Ok(())
        })?;
        let mdat_header: u64 = if media_bytes + 8 > u64::from(u32::MAX) { 16 } else { 8 };
        for &(slot, data_before) in &offset_slots {
            let offset = moof.len() as u64 + mdat_header + data_before;
            let offset = i32::try_from(offset)
                .map_err(|_| Error::too_large(Budget::Bytes, offset, i32::MAX as u64, "maxBytes"))?;
            if let Some(field) = moof.get_mut(slot..slot + 4) {
                field.copy_from_slice(&offset.to_be_bytes());
            }
        }

        let total = moof.len() as u64 + mdat_header + media_bytes;
        let total = usize::try_from(total)
            .map_err(|_| Error::too_large(Budget::Bytes, total, usize::MAX as u64, "maxBytes"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(total)
            .map_err(|_| Error::too_large(Budget::Bytes, total as u64, self.limits.max_bytes, "maxBytes"))?;
        out.extend_from_slice(&moof);
        if mdat_header == 16 {
            u32be(&mut out, 1);
            out.extend_from_slice(b"mdat");
            u64be(&mut out, media_bytes + 16);
        } else {
            u32be(&mut out, (media_bytes + 8) as u32);
            out.extend_from_slice(b"mdat");
        }
        for run in runs {
            for s in run.samples {
                out.extend_from_slice(s.data);
            }
        }

        // Only now that nothing can fail: advance each track's clock and the index.
        for (index, run) in runs.iter().enumerate() {
            let (Some(first), Some(dts), Some(started)) =
                (run.samples.first(), self.next_dts.get_mut(index), self.started.get_mut(index))
            else {
                continue;
            };
            if first.keyframe
                && let (Some(list), Some(Some(traf))) = (self.random_access.get_mut(index), traf_numbers.get(index))
            {
                list.push((*dts, self.position, *traf));
            }
            *dts += run.samples.iter().map(|s| u64::from(s.duration)).sum::<u64>();
            *started = true;
        }
        self.sequence = sequence;
        self.position += out.len() as u64;
        Ok(out)
    }

    /// The `mfra` box to end the file with: where each fragment starting with a sync sample
    /// begins, per track, so a player can seek without reading every `moof`.
    pub fn finish(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        boxed(&mut out, b"mfra", |o| {
            for (index, entries) in self.random_access.iter().enumerate() {
                if entries.is_empty() {
                    continue;
                }
                full(o, b"tfra", 1, 0, |o| {
                    u32be(o, index as u32 + 1);
                    u32be(o, 0); // traf, trun and sample numbers: one byte each
                    u32be(o, entries.len() as u32); // at most limits.max_samples fragments
                    for &(time, moof_offset, traf) in entries {
                        u64be(o, time);
                        u64be(o, moof_offset);
                        o.extend_from_slice(&[traf, 1, 1]); // first trun, first sample
                    }
                    Ok(())
                })?;
            }
            full(o, b"mfro", 0, 0, |o| {
                u32be(o, 0); // the mfra's size, patched below
                Ok(())
            })
        })?;
        let size = out.len() as u32; // the mfra's own size field, already checked by `boxed`
        let at = out.len() - 4;
        if let Some(field) = out.get_mut(at..) {
            field.copy_from_slice(&size.to_be_bytes());
        }
        Ok(out)
    }
}

/// A whole fragmented MP4 of `tracks` (track IDs 1, 2, ... in this order): a fragment starts at
/// each key frame of the first video track (else the first track) once the fragment holds a
/// second of it, and holds every other track's samples that start before the next one. Ends
/// with an `mfra`.
pub fn mux_fragmented(tracks: &[MuxTrack<'_>], limits: &MuxLimits) -> Result<Vec<u8>> {
    check_tracks(tracks, limits)?;
    let lead = tracks.iter().position(|t| matches!(t.media, TrackMedia::Video { .. })).unwrap_or(0);
    let Some(lead_track) = tracks.get(lead) else {
        return Err(Error::option("tracks", "a movie needs at least one track"));
    };

    // Fragment start times (nanoseconds, a clock every track converts to exactly enough).
    let ns = |ticks: u64, scale: u32| (u128::from(ticks) * 1_000_000_000 / u128::from(scale.max(1))) as u64;
    let lead_scale = lead_track.timescale();
    let mut cuts = Vec::new();
    let mut dts = 0u64;
    let mut fragment_start: Option<u64> = None;
    for s in lead_track.samples {
        if s.keyframe && fragment_start.is_none_or(|start| dts - start >= FRAGMENT_SECONDS * u64::from(lead_scale)) {
            cuts.push(ns(dts, lead_scale));
            fragment_start = Some(dts);
        }
        dts += u64::from(s.duration);
    }
    cuts.push(u64::MAX);

    let specs: Vec<FragmentTrack> =
        tracks.iter().map(|t| FragmentTrack { media: t.media.clone(), media_start: t.media_start }).collect();
    let (mut writer, mut out) = FragmentWriter::new(specs, *limits)?;
    // Per track: the next sample not yet written, and its decode time in ticks.
    let mut cursor: Vec<(usize, u64)> = vec![(0, 0); tracks.len()];
    for end in cuts.iter().skip(1) {
        let mut runs = Vec::with_capacity(tracks.len());
        for (t, (next, dts)) in tracks.iter().zip(cursor.iter_mut()) {
            let from = *next;
            while let Some(s) = t.samples.get(*next) {
                // Samples before the first cut (a track that starts earlier) join the first fragment.
                if ns(*dts, t.timescale()) >= *end {
                    break;
                }
                *dts += u64::from(s.duration);
                *next += 1;
            }
            let samples = t.samples.get(from..*next).unwrap_or_default();
            let composition_offsets = t.composition_offsets.get(from..*next).unwrap_or_default();
            runs.push(FragmentRun { samples, composition_offsets });
        }
        if runs.iter().any(|r| !r.samples.is_empty()) {
            out.extend(writer.fragment(&runs)?);
        }
    }
    out.extend(writer.finish()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::mp4::boxes::children;
    use crate::video::mp4::{VideoCodec, VideoTrack};

    fn video() -> TrackMedia {
        let track = VideoTrack {
            codec: VideoCodec::Av1 { av1c: vec![0x81, 0x00, 0x0C, 0x00] },
            width: 64,
            height: 48,
            timescale: 1000,
        };
        TrackMedia::Video { track, rotation: 0 }
    }

    #[test]
    fn data_offsets_point_at_each_tracks_samples() {
        let (mut w, init) =
            FragmentWriter::new(vec![FragmentTrack { media: video(), media_start: 0 }], MuxLimits::default()).unwrap();
        let kinds: Vec<_> = children(&init, 0, init.len()).unwrap().iter().map(|b| b.name()).collect();
        assert_eq!(kinds, ["ftyp", "moov"]);
        let (a, b) = ([1u8; 5], [2u8; 3]);
        let samples =
            [Sample { duration: 40, keyframe: true, data: &a }, Sample { duration: 40, keyframe: false, data: &b }];
        let frag = w.fragment(&[FragmentRun { samples: &samples, composition_offsets: &[] }]).unwrap();
        let top = children(&frag, 0, frag.len()).unwrap();
        assert_eq!(top.iter().map(|b| b.name()).collect::<Vec<_>>(), ["moof", "mdat"]);
        let trun_at = frag.windows(4).position(|w| w == b"trun").unwrap() + 4;
        let data_offset = u32::from_be_bytes(frag[trun_at + 8..trun_at + 12].try_into().unwrap()) as usize;
        assert_eq!(&frag[data_offset..data_offset + 8], &[1, 1, 1, 1, 1, 2, 2, 2]);
        assert_eq!(w.bytes_written(), (init.len() + frag.len()) as u64);
        // A fragment of nothing, or a first sample that is not a key frame, is refused.
        assert_eq!(w.fragment(&[FragmentRun::default()]).unwrap_err().code(), "INVALID_OPTION");
        let (mut fresh, _) =
            FragmentWriter::new(vec![FragmentTrack { media: video(), media_start: 0 }], MuxLimits::default()).unwrap();
        assert_eq!(
            fresh.fragment(&[FragmentRun { samples: &samples[1..], composition_offsets: &[] }]).unwrap_err().code(),
            "INVALID_OPTION"
        );
        let tight = MuxLimits { max_samples: 10, max_bytes: 4 };
        let (mut small, _) =
            FragmentWriter::new(vec![FragmentTrack { media: video(), media_start: 0 }], tight).unwrap();
        assert_eq!(
            small.fragment(&[FragmentRun { samples: &samples, composition_offsets: &[] }]).unwrap_err().code(),
            "TOO_LARGE"
        );
    }
}
