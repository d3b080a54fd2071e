//! The WebM muxer: files remuxed through it come back through our demuxer with every
//! sample's bytes, time, duration and key frame flag identical, and FFmpeg (an independent
//! reader) sees the same packets (per-packet MD5 of a stream copy, times) as in the source,
//! decodes them without a complaint, and finds Cues that point at clusters.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use mediaslim::video::mp4::{DemuxLimits, FragmentRun, Movie, MuxLimits, Sample, Track, TrackKind};
use mediaslim::video::webm::{ClusterWriter, WebmCodec, WebmMedia, WebmStreamTrack, WebmTrack, demux, mux};

fn has_ffmpeg() -> bool {
    Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success())
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mediaslim-webm-mux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// FFmpeg's view of every packet: (stream, pts in ms, size, md5), file order per stream.
fn ffmpeg_packets(path: &Path) -> Vec<Vec<(i64, u64, String)>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0", "-c", "copy", "-copyts", "-f", "framemd5", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg framemd5 {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let mut streams: Vec<Vec<(i64, u64, String)>> = Vec::new();
    let text = String::from_utf8_lossy(&out.stdout);
    // Time bases per stream from the header ("#tb 0: 1/1000").
    let mut time_bases: Vec<(i64, i64)> = Vec::new();
    for line in text.lines() {
        if let Some(tb) = line.strip_prefix("#tb ") {
            let (_, frac) = tb.split_once(": ").unwrap();
            let (n, d) = frac.split_once('/').unwrap();
            time_bases.push((n.trim().parse().unwrap(), d.trim().parse().unwrap()));
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let stream: usize = f[0].parse().unwrap();
        let (n, d) = time_bases[stream];
        let pts_ms = (f[2].parse::<i64>().unwrap() * n * 1000).div_euclid(d);
        while streams.len() <= stream {
            streams.push(Vec::new());
        }
        streams[stream].push((pts_ms, f[4].parse().unwrap(), f[5].to_string()));
    }
    streams
}

/// FFmpeg decodes the whole file and says nothing.
fn ffmpeg_decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg").args(["-v", "error", "-i"]).arg(path).args(["-f", "null", "-"]).output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg decoding {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ffprobe(path: &Path, entries: &str) -> String {
    ffprobe_streams(path, None, entries)
}

/// `entries` of the streams `select` picks ("a": audio), or of the file.
fn ffprobe_streams(path: &Path, select: Option<&str>, entries: &str) -> String {
    let mut command = Command::new("ffprobe");
    command.args(["-v", "error"]);
    if let Some(streams) = select {
        command.args(["-select_streams", streams]);
    }
    let out = command.args(["-show_entries", entries, "-of", "csv=p=0"]).arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A demuxed track as the muxer takes it: durations from the sample table, the first
/// sample's presentation time as `media_start`.
fn samples_of<'a>(file: &'a [u8], track: &Track) -> (Vec<Sample<'a>>, i64) {
    let samples = track
        .samples
        .iter()
        .map(|s| Sample {
            duration: s.duration,
            keyframe: s.keyframe,
            data: &file[s.offset as usize..][..s.size as usize],
        })
        .collect();
    (samples, -track.samples[0].pts)
}

fn media_of(track: &Track) -> WebmMedia {
    match (track.kind, track.fourcc.as_str()) {
        (TrackKind::Video, "V_VP9" | "vp09") => {
            WebmMedia::Video { codec: WebmCodec::Vp9, width: track.width, height: track.height }
        }
        (TrackKind::Video, "V_AV1" | "av01") => WebmMedia::Video {
            codec: WebmCodec::Av1 { av1c: track.description.clone().unwrap() },
            width: track.width,
            height: track.height,
        },
        (TrackKind::Audio, "A_OPUS") => WebmMedia::Audio {
            codec: WebmCodec::Opus { opus_head: track.description.clone().unwrap() },
            sample_rate: track.sample_rate,
            channels: track.channels,
        },
        (TrackKind::Audio, "A_VORBIS") => WebmMedia::Audio {
            codec: WebmCodec::Vorbis { headers: track.description.clone().unwrap() },
            sample_rate: track.sample_rate,
            channels: track.channels,
        },
        other => panic!("no WebM codec for {other:?}"),
    }
}

fn remux(file: &[u8], movie: &Movie) -> Vec<u8> {
    let media: Vec<WebmMedia> = movie.tracks.iter().map(media_of).collect();
    let parts: Vec<(Vec<Sample<'_>>, i64)> = movie.tracks.iter().map(|t| samples_of(file, t)).collect();
    let tracks: Vec<WebmTrack<'_>> = media
        .iter()
        .zip(&movie.tracks)
        .zip(&parts)
        .map(|((media, t), (samples, media_start))| WebmTrack {
            media,
            timescale: t.timescale,
            samples,
            composition_offsets: &[],
            media_start: *media_start,
            end_padding_ns: t.end_padding_ns,
        })
        .collect();
    mux(&tracks, &MuxLimits::default()).unwrap()
}

/// Every sample of `a` and `b`: same bytes, time, duration (the last one too) and key flag.
fn same_samples(name: &str, a_file: &[u8], a: &Movie, b_file: &[u8], b: &Movie) -> usize {
    assert_eq!(a.tracks.len(), b.tracks.len(), "{name}: tracks");
    let mut n = 0;
    for (ta, tb) in a.tracks.iter().zip(&b.tracks) {
        assert_eq!(
            (ta.kind, ta.codec.as_deref(), ta.width, ta.height, ta.sample_rate, ta.channels, &ta.description),
            (tb.kind, tb.codec.as_deref(), tb.width, tb.height, tb.sample_rate, tb.channels, &tb.description),
            "{name}: track header"
        );
        assert_eq!(ta.samples.len(), tb.samples.len(), "{name}: sample count");
        for (i, (sa, sb)) in ta.samples.iter().zip(&tb.samples).enumerate() {
            let at = format!("{name} track {} sample {i}", ta.id);
            assert_eq!(
                (sa.pts, sa.duration, sa.keyframe),
                (sb.pts, sb.duration, sb.keyframe),
                "{at}: time, duration, key"
            );
            assert_eq!(
                &a_file[sa.offset as usize..][..sa.size as usize],
                &b_file[sb.offset as usize..][..sb.size as usize],
                "{at}: bytes"
            );
            n += 1;
        }
    }
    n
}

/// Reads the EBML element at `at`: (id, payload start, payload end).
fn element(file: &[u8], at: usize) -> (u32, usize, usize) {
    let vint = |at: usize| {
        let len = file[at].leading_zeros() as usize + 1;
        let v = file[at..at + len].iter().fold(0u64, |v, &b| v << 8 | u64::from(b));
        (v, len)
    };
    let (id, id_len) = vint(at);
    let (size, size_len) = vint(at + id_len);
    let size = size & ((1u64 << (7 * size_len)) - 1);
    (id as u32, at + id_len + size_len, at + id_len + size_len + size as usize)
}

fn children(file: &[u8], from: usize, to: usize) -> Vec<(u32, usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let e = element(file, at);
        out.push(e);
        at = e.2;
    }
    out
}

fn uint(file: &[u8], e: (u32, usize, usize)) -> u64 {
    file[e.1..e.2].iter().fold(0u64, |v, &b| v << 8 | u64::from(b))
}

/// The SeekHead points at Info, Tracks and Cues; every CuePoint at a Cluster whose first
/// block is a key frame of the cued track at the cued time. Returns the cue count.
fn check_index(file: &[u8]) -> usize {
    let top = children(file, 0, file.len());
    let segment = top.iter().find(|e| e.0 == 0x1853_8067).copied().unwrap();
    let base = segment.1;
    let level1 = children(file, segment.1, segment.2);
    assert_eq!(level1[0].0, 0x114D_9B74, "the SeekHead comes first");
    for seek in children(file, level1[0].1, level1[0].2) {
        let fields = children(file, seek.1, seek.2);
        let id = uint(file, fields[0]) as u32;
        let pos = uint(file, fields[1]) as usize;
        assert_eq!(element(file, base + pos).0, id, "SeekHead entry for {id:#x} points at it");
    }
    check_cues(file, base, &level1)
}

/// Every CuePoint of the Cues among `level1` (the Segment's children; its data starts at
/// `base`) points at a Cluster that opens with the cued key frame. Returns the cue count.
fn check_cues(file: &[u8], base: usize, level1: &[(u32, usize, usize)]) -> usize {
    let cues = level1.iter().find(|e| e.0 == 0x1C53_BB6B).copied().expect("a Cues element");
    let points = children(file, cues.1, cues.2);
    for point in &points {
        let fields = children(file, point.1, point.2);
        let time = uint(file, fields[0]);
        let positions = children(file, fields[1].1, fields[1].2);
        let track = uint(file, positions[0]);
        let cluster = element(file, base + uint(file, positions[1]) as usize);
        assert_eq!(cluster.0, 0x1F43_B675, "a CuePoint points at a Cluster");
        let parts = children(file, cluster.1, cluster.2);
        assert_eq!((parts[0].0, uint(file, parts[0])), (0xE7, time), "cluster time is the cue time");
        // A SimpleBlock (its key flag), or the last block of a track in a BlockGroup (key
        // when it has no ReferenceBlock).
        let (block, key) = match parts[1].0 {
            0xA3 => (parts[1], file[parts[1].1 + 3] & 0x80 != 0),
            0xA0 => {
                let inner = children(file, parts[1].1, parts[1].2);
                (inner.iter().copied().find(|e| e.0 == 0xA1).unwrap(), inner.iter().all(|e| e.0 != 0xFB))
            }
            other => panic!("a cluster opens with element {other:#x}"),
        };
        assert_eq!(
            (u64::from(file[block.1] & 0x7F), file[block.1 + 1..block.1 + 3] == [0, 0], key),
            (track, true, true),
            "the cue's key frame opens the cluster"
        );
    }
    points.len()
}

fn check_against_ffmpeg(name: &str, source: &Path, out: &Path) {
    if !has_ffmpeg() {
        eprintln!("SKIPPED ffmpeg checks of {name}: ffmpeg/ffprobe not installed");
        return;
    }
    let theirs = ffmpeg_packets(source);
    let ours = ffmpeg_packets(out);
    assert_eq!(theirs.len(), ours.len(), "{name}: streams");
    for (s, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(a.len(), b.len(), "{name} stream {s}: packets");
        for (i, (pa, pb)) in a.iter().zip(b).enumerate() {
            assert_eq!((pa.1, &pa.2), (pb.1, &pb.2), "{name} stream {s} packet {i}: size and MD5");
            assert!((pa.0 - pb.0).abs() <= 1, "{name} stream {s} packet {i}: pts {} ms vs {} ms", pa.0, pb.0);
        }
    }
    ffmpeg_decodes_cleanly(out);
}

#[test]
fn vp9_opus_fixture_round_trips_exactly() {
    let path = common::fixtures().join("clip-vp9-opus.webm");
    let file = common::read(&path);
    let movie = demux(&file, &DemuxLimits::default()).unwrap();
    // The last Opus packet is trimmed by DiscardPadding: 648 samples at 48 kHz.
    assert_eq!(movie.tracks[1].end_padding_ns, 13_500_000);
    let out = remux(&file, &movie);
    let again = demux(&out, &DemuxLimits::default()).unwrap();
    assert_eq!(again.tracks[1].end_padding_ns, 13_500_000, "the padding is carried");
    let n = same_samples("clip-vp9-opus.webm", &file, &movie, &out, &again);
    let cues = check_index(&out);
    assert_eq!(cues, movie.tracks[0].samples.iter().filter(|s| s.keyframe).count(), "a cue per video key frame");
    let written = temp_file("clip-vp9-opus.webm", &out);
    check_against_ffmpeg("clip-vp9-opus.webm", &path, &written);
    if has_ffmpeg() {
        assert_eq!(
            ffprobe(&written, "stream=codec_name,width,height,sample_rate,channels"),
            ffprobe(&path, "stream=codec_name,width,height,sample_rate,channels")
        );
        let (a, b): (f64, f64) =
            (ffprobe(&path, "format=duration").parse().unwrap(), ffprobe(&written, "format=duration").parse().unwrap());
        // The same length: the last packet is trimmed as in the source (block times are
        // milliseconds, so within one).
        assert!((a - b).abs() <= 0.001, "duration {a} s vs {b} s");
        let padding = |p: &Path| {
            let values = ffprobe_streams(p, Some("a"), "packet_side_data=discard_padding");
            values.split_whitespace().filter(|v| *v != "0").collect::<Vec<_>>().join(",")
        };
        assert_eq!(padding(&written), "648", "FFmpeg reads the padding off the last packet");
        assert_eq!(padding(&written), padding(&path));
        // Opus pre-skip carried: FFmpeg reports the same start time (negative by the delay).
        assert_eq!(ffprobe(&written, "stream=start_time"), ffprobe(&path, "stream=start_time"));
    }
    eprintln!(
        "clip-vp9-opus.webm: {n} samples identical after a round trip, {cues} cues, {} -> {} bytes",
        file.len(),
        out.len()
    );
}

#[test]
fn av1_from_rav1e_round_trips_and_ffmpeg_agrees() {
    use mediaslim::video::av1::{Av1VideoOptions, gif_to_av1};
    let gif = common::read(&common::fixtures().join("dispose_bgnd.gif"));
    let mp4 =
        gif_to_av1(gif, &Av1VideoOptions { speed: 10, ..Av1VideoOptions::default() }, &mut |_, _| {}).unwrap().bytes;
    let movie = mediaslim::video::mp4::demux(&mp4, &DemuxLimits::default()).unwrap();
    let out = remux(&mp4, &movie);
    let again = demux(&out, &DemuxLimits::default()).unwrap();
    let n = same_samples("av1", &mp4, &movie, &out, &again);
    check_index(&out);
    let src = temp_file("av1.mp4", &mp4);
    let written = temp_file("av1.webm", &out);
    check_against_ffmpeg("av1", &src, &written);
    if has_ffmpeg() {
        assert_eq!(
            ffprobe(&written, "stream=codec_name,width,height"),
            ffprobe(&src, "stream=codec_name,width,height")
        );
        assert_eq!(ffprobe(&written, "format=format_name").trim_matches('"'), "matroska,webm");
    }
    eprintln!("AV1 (rav1e): {n} samples identical");
}

#[test]
fn corpus_webm_round_trips() {
    let Some(dir) = common::corpus("video") else {
        eprintln!("SKIPPED corpus: no ../shared/corpus/video here");
        return;
    };
    let path = dir.join("test.webm");
    let file = common::read(&path);
    let movie = demux(&file, &DemuxLimits::default()).unwrap();
    let out = remux(&file, &movie);
    let again = demux(&out, &DemuxLimits::default()).unwrap();
    let n = same_samples("test.webm", &file, &movie, &out, &again);
    check_index(&out);
    check_against_ffmpeg("test.webm", &path, &temp_file("test.webm", &out));
    eprintln!("corpus test.webm: {n} samples identical");
}

#[test]
fn long_audio_only_track_gets_clusters_every_5_s() {
    // 12 s of 20 ms "Opus" packets (the muxer does not look inside them).
    let head = [b"OpusHead".as_slice(), &[1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0]].concat();
    let media = WebmMedia::Audio { codec: WebmCodec::Opus { opus_head: head }, sample_rate: 48000, channels: 2 };
    let packets: Vec<Vec<u8>> = (0..600u32).map(|i| vec![(i % 251) as u8; 3 + (i % 7) as usize]).collect();
    let samples: Vec<Sample<'_>> = packets.iter().map(|p| Sample { duration: 960, keyframe: true, data: p }).collect();
    // Pre-skip 312 samples (6.5 ms), as a demuxer reports it in 48 kHz ticks.
    let track = WebmTrack {
        media: &media,
        timescale: 48000,
        samples: &samples,
        composition_offsets: &[],
        media_start: 312,
        end_padding_ns: 0,
    };
    let out = mux(&[track], &MuxLimits::default()).unwrap();
    let movie = demux(&out, &DemuxLimits::default()).unwrap();
    let t = &movie.tracks[0];
    assert_eq!(t.samples.len(), 600);
    assert_eq!(t.samples[1].pts - t.samples[0].pts, 20);
    assert_eq!(t.samples[599].duration, 20, "the last packet keeps its length");
    assert_eq!(t.samples[0].pts, -7, "pre-skip 6.5 ms, to the millisecond");
    assert!(t.samples.iter().zip(&packets).all(|(s, p)| out[s.offset as usize..][..s.size as usize] == p[..]));
    let cues = check_index(&out);
    assert_eq!(cues, 3, "clusters at 0, 5 and 10 s, each cued");
}

/// Opus from the WebM fixture into an MP4 (`Opus` sample entry + `dOps`), with the VP9 video:
/// FFmpeg reads the very same Opus packets back (MD5 each) and decodes the file cleanly.
#[test]
fn opus_copied_into_mp4_bit_exact() {
    use mediaslim::video::mp4::{AudioTrack, MuxTrack, TrackMedia, VideoCodec, VideoTrack, mux_tracks};
    let path = common::fixtures().join("clip-vp9-opus.webm");
    let file = common::read(&path);
    let movie = demux(&file, &DemuxLimits::default()).unwrap();
    let (video, audio) = (&movie.tracks[0], &movie.tracks[1]);
    let head = audio.description.clone().unwrap();
    let pre_skip = i64::from(u16::from_le_bytes([head[10], head[11]]));
    // VP9 profile 0, level 1, 8-bit 4:2:0, BT.709-unspecified colour.
    let vpcc = vec![1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 0];
    let video_media = TrackMedia::Video {
        track: VideoTrack {
            codec: VideoCodec::Vp9 { vpcc },
            width: video.width,
            height: video.height,
            timescale: 1000,
        },
        rotation: 0,
    };
    // Opus in MP4 counts in 48 kHz samples: every packet is a whole number of 2.5 ms frames.
    let audio_media = TrackMedia::Audio(AudioTrack {
        config: head,
        sample_rate: 48_000,
        channels: audio.channels,
        timescale: 48_000,
    });
    let (video_samples, _) = samples_of(&file, video);
    let (mut audio_samples, _) = samples_of(&file, audio);
    audio_samples.iter_mut().for_each(|s| s.duration *= 48);
    let tracks = [
        MuxTrack {
            media: &video_media,
            samples: &video_samples,
            composition_offsets: &[],
            media_start: 0,
            end_padding_ns: 0,
        },
        MuxTrack {
            media: &audio_media,
            samples: &audio_samples,
            composition_offsets: &[],
            media_start: pre_skip,
            end_padding_ns: audio.end_padding_ns,
        },
    ];
    let out = mux_tracks(&tracks, &MuxLimits::default()).unwrap();
    if !has_ffmpeg() {
        eprintln!("SKIPPED opus_copied_into_mp4_bit_exact: ffmpeg/ffprobe not installed");
        return;
    }
    let written = temp_file("opus.mp4", &out);
    assert_eq!(ffprobe(&written, "stream=codec_name,channels,sample_rate").replace('\n', " "), "vp9 opus,48000,1");
    let (theirs, ours) = (ffmpeg_packets(&path), ffmpeg_packets(&written));
    let hashes = |packets: &Vec<(i64, u64, String)>| packets.iter().map(|p| p.2.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&theirs[1]), hashes(&ours[1]), "every Opus packet bit-exact");
    assert_eq!(hashes(&theirs[0]), hashes(&ours[0]), "every VP9 frame bit-exact");
    ffmpeg_decodes_cleanly(&written);
    // The WebM's DiscardPadding became the MP4 edit's end: the audio presents 13.5 ms less
    // than the same samples without it (the movie clock counts milliseconds).
    let unpadded = [tracks[0], MuxTrack { end_padding_ns: 0, ..tracks[1] }];
    let unpadded = temp_file("opus-unpadded.mp4", &mux_tracks(&unpadded, &MuxLimits::default()).unwrap());
    let audio_duration = |p: &Path| ffprobe_streams(p, Some("a"), "stream=duration").parse::<f64>().unwrap();
    let trimmed = audio_duration(&unpadded) - audio_duration(&written);
    assert!((trimmed - 0.0135).abs() <= 0.001, "the edit list trims {trimmed} s");
    let again = mediaslim::video::mp4::demux(&out, &DemuxLimits::default()).unwrap();
    assert!(
        again.tracks[1].end_padding_ns.abs_diff(13_500_000) < 1_000_000,
        "read back: {}",
        again.tracks[1].end_padding_ns
    );
    // `dOps` reads back as the source's OpusHead (what a copy out of this MP4 carries on).
    assert_eq!(again.tracks[1].description.as_ref(), audio.description.as_ref(), "OpusHead from dOps");
    eprintln!("Opus into MP4: {} packets bit-exact", ours[1].len());
}

/// GIF -> AV1 WebM with rav1e (the Node path of `gifToVideo({ container: 'webm' })`): FFmpeg
/// reads an AV1 WebM with every frame, at the GIF's times, and decodes it cleanly.
#[test]
fn gif_to_av1_webm() {
    use mediaslim::video::VideoContainer;
    use mediaslim::video::av1::{Av1VideoOptions, gif_to_av1};
    let gif = common::read(&common::fixtures().join("dispose_bgnd.gif"));
    let options = Av1VideoOptions { container: VideoContainer::Webm, ..Av1VideoOptions::default() };
    assert_eq!(Av1VideoOptions::from_json(r#"{"container":"webm"}"#).unwrap(), options);
    let video = gif_to_av1(gif, &options, &mut |_, _| {}).unwrap();
    let movie = demux(&video.bytes, &DemuxLimits::default()).unwrap();
    let t = &movie.tracks[0];
    assert_eq!((t.fourcc.as_str(), t.samples.len() as u32), ("V_AV1", video.frames));
    let total: u64 = t.samples.iter().map(|s| u64::from(s.duration)).sum();
    assert_eq!(total, video.duration_ms, "every frame keeps its GIF time");
    check_index(&video.bytes);
    if !has_ffmpeg() {
        eprintln!("SKIPPED ffmpeg checks of the GIF WebM: ffmpeg/ffprobe not installed");
        return;
    }
    let written = temp_file("gif.webm", &video.bytes);
    assert_eq!(ffprobe(&written, "stream=codec_name"), "av1");
    let packets = ffmpeg_packets(&written);
    let times: Vec<i64> = packets[0].iter().map(|p| p.0).collect();
    let expected: Vec<i64> = t.samples.iter().map(|s| s.pts).collect();
    assert_eq!(times, expected);
    ffmpeg_decodes_cleanly(&written);
    eprintln!("GIF -> AV1 WebM: {} frames, {} ms, {} bytes", video.frames, video.duration_ms, video.bytes.len());
}

/// A WebM made for a stream (`ClusterWriter`, a group of pictures at a time, as a transcode
/// writes to `output`): the same samples as the source, bit-exact with the same times, the
/// Opus end padding kept; laid out as written once (Segment of unknown size, Cues last, every
/// cue at a cluster opening with its key frame), with the duration the writer was given.
#[test]
fn streamed_webm_has_every_sample_and_its_duration() {
    let path = common::fixtures().join("clip-vp9-opus.webm");
    let file = common::read(&path);
    let movie = demux(&file, &DemuxLimits::default()).unwrap();
    let (video, audio) = (&movie.tracks[0], &movie.tracks[1]);
    let tracks: Vec<WebmStreamTrack> = movie
        .tracks
        .iter()
        .map(|t| WebmStreamTrack {
            media: media_of(t),
            timescale: t.timescale,
            media_start: -t.samples[0].pts,
            end_padding_ns: t.end_padding_ns,
        })
        .collect();
    let source_seconds: f64 = ffprobe_or(&path, 0.0);
    let duration = (source_seconds > 0.0).then_some(source_seconds);
    let (mut writer, mut out) = ClusterWriter::new(tracks, duration, MuxLimits::default()).unwrap();
    let (video_samples, _) = samples_of(&file, video);
    let (audio_samples, _) = samples_of(&file, audio);
    // Runs as a transcode makes them: a group of pictures, and the audio before its end.
    let keys: Vec<usize> = video.samples.iter().enumerate().filter(|(_, s)| s.keyframe).map(|(i, _)| i).collect();
    assert!(keys.len() >= 2, "the fixture has several groups of pictures");
    let mut audio_next = 0;
    for (g, &start) in keys.iter().enumerate() {
        let end = keys.get(g + 1).copied().unwrap_or(video.samples.len());
        let until =
            keys.get(g + 1).map_or(f64::INFINITY, |&k| video.samples[k].pts as f64 / f64::from(video.timescale));
        let audio_end = audio_next
            + audio.samples[audio_next..]
                .iter()
                .take_while(|s| (s.dts as f64 / f64::from(audio.timescale)) < until)
                .count();
        let runs = [
            FragmentRun { samples: &video_samples[start..end], composition_offsets: &[] },
            FragmentRun { samples: &audio_samples[audio_next..audio_end], composition_offsets: &[] },
        ];
        let bytes = writer.clusters(&runs, g + 1 == keys.len()).unwrap();
        out.extend_from_slice(&bytes);
        audio_next = audio_end;
    }
    assert_eq!(audio_next, audio.samples.len());
    out.extend_from_slice(&writer.finish().unwrap());
    assert_eq!(writer.bytes_written(), out.len() as u64, "bytes_written counts every byte handed out");

    // Written once: the Segment's size is unknown, the Cues come last.
    let segment = element(&out, children(&out, 0, 40)[0].2);
    assert_eq!(segment.0, 0x1853_8067);
    assert_eq!(out[segment.1 - 8..segment.1], [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "unknown size");
    let level1 = children(&out, segment.1, out.len());
    assert_eq!(level1.last().unwrap().0, 0x1C53_BB6B, "the Cues end the file");
    let cues = check_cues(&out, segment.1, &level1);
    assert_eq!(cues, keys.len(), "a cue per video key frame");

    let again = demux(&out, &DemuxLimits::default()).unwrap();
    let n = same_samples("streamed", &file, &movie, &out, &again);
    assert_eq!(again.tracks[1].end_padding_ns, 13_500_000, "the padding is carried");
    let written = temp_file("streamed.webm", &out);
    check_against_ffmpeg("streamed", &path, &written);
    if has_ffmpeg() {
        let ours: f64 = ffprobe(&written, "format=duration").parse().unwrap();
        assert!((ours - source_seconds).abs() <= 0.001, "duration {ours} s, the source {source_seconds} s");
        let padding = ffprobe_streams(&written, Some("a"), "packet_side_data=discard_padding");
        assert_eq!(padding.split_whitespace().filter(|v| *v != "0").collect::<Vec<_>>(), ["648"]);
    }
    // Misuse is an error, not a panic.
    assert_eq!(writer.finish().unwrap_err().code(), "INVALID_OPTION", "finished once");
    assert_eq!(writer.clusters(&[FragmentRun::default(); 2], false).unwrap_err().code(), "INVALID_OPTION");
    eprintln!("streamed WebM: {n} samples identical, {cues} cues, {} bytes in {} runs", out.len(), keys.len());
}

/// The source's duration by ffprobe, or `default` without FFmpeg.
fn ffprobe_or(path: &Path, default: f64) -> f64 {
    if has_ffmpeg() { ffprobe(path, "format=duration").parse().unwrap_or(default) } else { default }
}
