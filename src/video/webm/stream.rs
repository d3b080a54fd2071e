//! A WebM written as it is made, for output that goes to a stream (a transcode's `output`):
//! the header first, then clusters a run of samples at a time, then Cues. Nothing is written
//! twice, so the file is laid out the way a live recorder (MediaRecorder, FFmpeg's
//! `-live 1`) lays it out: a Segment of unknown size, no SeekHead, and the Cues at the end.
//! Unlike a live recording it says how long it is: the caller knows the duration beforehand
//! (a transcode keeps its source's times), so Info carries it and players show a length and
//! a seek bar from the first bytes.
//!
//! Memory holds the track list, one cue point per cluster and, per audio track, the latest
//! packet: a track's last block says how long it lasts (and an Opus track's end padding),
//! and only the next run, or `finish`, tells which packet is the last.

use super::ids::SEGMENT;
use super::mux::{
    Blocks, Span, WebmMedia, WebmTrack, check_media, check_run, check_samples, cues, ebml_header, info, interleave,
    plan_clusters, put_id, track_list, write_clusters,
};
use crate::error::{Error, Result};
use crate::video::mp4::{FragmentRun, MuxLimits, Sample};

/// One track of a streamed WebM: what it is and its clock ([`WebmTrack`] without samples).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebmStreamTrack {
    pub media: WebmMedia,
    /// Ticks per second of durations, offsets and `media_start`.
    pub timescale: u32,
    /// As [`WebmTrack::media_start`].
    pub media_start: i64,
    /// As [`WebmTrack::end_padding_ns`].
    pub end_padding_ns: u64,
}

/// An audio packet held back until it is known whether it is its track's last.
#[derive(Debug)]
struct Held {
    data: Vec<u8>,
    duration: u32,
}

/// Writes a WebM piece by piece: [`ClusterWriter::new`] gives the header, each
/// [`ClusterWriter::clusters`] the clusters of a run of samples, [`ClusterWriter::finish`]
/// the rest and the Cues.
#[derive(Debug)]
pub struct ClusterWriter {
    tracks: Vec<WebmStreamTrack>,
    /// Per track: the decode time of the next sample to write, in its ticks.
    next_dts: Vec<i128>,
    /// Per track: whether a sample was given (the first must be a key frame).
    started: Vec<bool>,
    /// Per track: its latest packet, for audio tracks (see the module's comment).
    held: Vec<Option<Held>>,
    placed: Placed,
    limits: MuxLimits,
    /// The last runs are out: only `finish` may follow.
    ended: bool,
    /// The Cues are out: nothing may follow.
    finished: bool,
}

/// What was handed out: sizes and where the clusters went.
#[derive(Debug)]
struct Placed {
    /// Bytes of the Segment's data so far: where the next cluster starts.
    position: u64,
    /// Bytes in all, header included.
    written: u64,
    cue_points: Vec<(u64, u64, u64)>,
}

/// A Segment whose size is not known: an 8-byte size vint of all ones.
const UNKNOWN_SIZE: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

impl ClusterWriter {
    /// The writer and the header to write first (EBML header, Segment start, Info, Tracks).
    /// `duration_s`: the presented length, written into Info when given. `limits` bound each
    /// run (samples and bytes).
    pub fn new(
        tracks: Vec<WebmStreamTrack>,
        duration_s: Option<f64>,
        limits: MuxLimits,
    ) -> Result<(ClusterWriter, Vec<u8>)> {
        if tracks.is_empty() {
            return Err(Error::option("tracks", "a WebM file needs at least one track"));
        }
        if tracks.len() > 126 {
            return Err(Error::option("tracks", format!("{} tracks; this muxer writes at most 126", tracks.len())));
        }
        for t in &tracks {
            check_media(&t.media)?;
            if t.timescale == 0 {
                return Err(Error::option("timescale", "must be at least 1"));
            }
        }
        if let Some(d) = duration_s.filter(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(Error::option("duration", format!("must be a positive number of seconds, got {d}")));
        }
        let views: Vec<WebmTrack<'_>> = tracks.iter().map(|t| t.run(&[], &[])).collect();
        let mut segment_start = info(duration_s.map(|s| s * 1000.0));
        segment_start.extend_from_slice(&track_list(&views));
        let mut header = Vec::new();
        ebml_header(&mut header);
        put_id(&mut header, SEGMENT);
        header.extend_from_slice(&UNKNOWN_SIZE);
        header.extend_from_slice(&segment_start);
        let n = tracks.len();
        let writer = ClusterWriter {
            placed: Placed {
                position: segment_start.len() as u64,
                written: header.len() as u64,
                cue_points: Vec::new(),
            },
            next_dts: vec![0; n],
            started: vec![false; n],
            held: (0..n).map(|_| None).collect(),
            tracks,
            limits,
            ended: false,
            finished: false,
        };
        Ok((writer, header))
    }

    /// The clusters of one run of samples per track (decode order, as [`FragmentRun`]s, in
    /// the tracks' order; a run may be empty). A new cluster starts at the run's first block
    /// and at each video key frame. `last`: these runs end their tracks, so their last blocks
    /// say how long they last (else the video's last frame lasts until the Info duration).
    pub fn clusters(&mut self, runs: &[FragmentRun<'_>], last: bool) -> Result<Vec<u8>> {
        self.check_open()?;
        if runs.len() != self.tracks.len() {
            return Err(Error::option("runs", format!("{} runs for {} tracks", runs.len(), self.tracks.len())));
        }
        self.limits.check(runs.iter().map(|r| r.samples))?;
        // Audio runs: the held packet first, the run's last held back in its place.
        let mut joined: Vec<Vec<Sample<'_>>> = Vec::with_capacity(runs.len());
        let mut next_held: Vec<Option<Held>> = Vec::with_capacity(runs.len());
        for (i, (track, run)) in self.tracks.iter().zip(runs).enumerate() {
            let view = track.run(run.samples, run.composition_offsets);
            if self.started.get(i) == Some(&false) && !run.samples.is_empty() {
                check_samples(&view)?;
            } else {
                check_run(&view)?;
            }
            let audio = matches!(track.media, WebmMedia::Audio { .. });
            let before = self.held.get(i).and_then(Option::as_ref).map(Held::sample);
            let (samples, held) = match run.samples.split_last() {
                // The last runs: everything goes out, the held packet first.
                _ if last => (before.into_iter().chain(run.samples.iter().copied()).collect(), None),
                // An audio run: the packet held before it goes out first, its own last is held.
                Some((end, rest)) if audio => {
                    let samples: Vec<Sample<'_>> = before.into_iter().chain(rest.iter().copied()).collect();
                    (samples, Some(Held { data: end.data.to_vec(), duration: end.duration }))
                }
                _ => (run.samples.to_vec(), None),
            };
            joined.push(samples);
            next_held.push(held);
        }
        let views: Vec<WebmTrack<'_>> = self
            .tracks
            .iter()
            .zip(&joined)
            .zip(runs)
            .map(|((t, samples), run)| {
                // Video runs keep their presentation offsets; audio has none.
                let offsets = if matches!(t.media, WebmMedia::Video { .. }) { run.composition_offsets } else { &[] };
                t.run(samples, offsets)
            })
            .collect();
        let spans: Vec<Span> = self.next_dts.iter().map(|&first_dts| Span { first_dts, ends: last }).collect();
        let out = self.placed.write(&views, &spans)?;
        for (i, (run, samples)) in runs.iter().zip(&joined).enumerate() {
            if let Some(started) = self.started.get_mut(i) {
                *started |= !run.samples.is_empty();
            }
            if let Some(dts) = self.next_dts.get_mut(i) {
                *dts += samples.iter().map(|s| i128::from(s.duration)).sum::<i128>();
            }
        }
        // Held packets move on only once their run is written (an empty run keeps its track's).
        for (slot, new) in self.held.iter_mut().zip(next_held) {
            if new.is_some() || last {
                *slot = new;
            }
        }
        self.ended = last;
        Ok(out)
    }

    /// The held packets (each its track's last block; none after `last` runs) and the Cues
    /// that end the file.
    pub fn finish(&mut self) -> Result<Vec<u8>> {
        if self.finished {
            return Err(Error::option("samples", "the file is finished: nothing can be added after the Cues"));
        }
        if !self.started.iter().any(|&s| s) {
            return Err(Error::option("samples", "no samples were written"));
        }
        let held: Vec<Vec<Sample<'_>>> =
            self.held.iter().map(|h| h.as_ref().map(Held::sample).into_iter().collect()).collect();
        let views: Vec<WebmTrack<'_>> = self.tracks.iter().zip(&held).map(|(t, s)| t.run(s, &[])).collect();
        let spans: Vec<Span> = self.next_dts.iter().map(|&first_dts| Span { first_dts, ends: true }).collect();
        let mut out = self.placed.write(&views, &spans)?;
        self.held.iter_mut().for_each(|h| *h = None);
        let cues = cues(&self.placed.cue_points);
        self.placed.written += cues.len() as u64;
        out.extend_from_slice(&cues);
        self.finished = true;
        Ok(out)
    }

    fn check_open(&self) -> Result<()> {
        if self.ended || self.finished {
            return Err(Error::option("samples", "the tracks have ended: no samples can follow their last"));
        }
        Ok(())
    }

    /// Bytes handed out so far.
    pub fn bytes_written(&self) -> u64 {
        self.placed.written
    }
}

impl Placed {
    /// The clusters of `views` (runs at `spans`), counted into the positions and cue points.
    fn write(&mut self, views: &[WebmTrack<'_>], spans: &[Span]) -> Result<Vec<u8>> {
        let times: Vec<Vec<(i64, u64)>> =
            views.iter().zip(spans).map(|(t, &span)| t.block_times(span)).collect::<Result<_>>()?;
        let order = interleave(views, &times, spans);
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let clusters = plan_clusters(views, &order);
        let blocks = Blocks { tracks: views, times: &times, spans, order: &order };
        let mut out = Vec::new();
        let points = write_clusters(&mut out, &blocks, &clusters, (0, self.position))?;
        self.cue_points.extend(points);
        self.position += out.len() as u64;
        self.written += out.len() as u64;
        Ok(out)
    }
}

impl WebmStreamTrack {
    fn run<'a>(&'a self, samples: &'a [Sample<'a>], composition_offsets: &'a [i32]) -> WebmTrack<'a> {
        WebmTrack {
            media: &self.media,
            timescale: self.timescale,
            samples,
            composition_offsets,
            media_start: self.media_start,
            end_padding_ns: self.end_padding_ns,
        }
    }
}

impl Held {
    fn sample(&self) -> Sample<'_> {
        Sample { duration: self.duration, keyframe: true, data: &self.data }
    }
}
