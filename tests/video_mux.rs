//! The MP4 muxer read back by an independent parser (the `mp4` crate): sample count,
//! durations, key frames, dimensions and every sample's bytes; and by our box walker for the
//! layout (fast start) and the codec records.

use mediaslim::video::mp4::boxes::children;
use mediaslim::video::mp4::{MuxLimits, Sample, VideoCodec, VideoTrack, mux};

/// A plausible avcC: version 1, Baseline 3.0, 4-byte lengths, one SPS and one PPS.
fn avcc() -> Vec<u8> {
    let sps = [0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5];
    let pps = [0x68, 0xCE, 0x3C, 0x80];
    let mut r = vec![1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1];
    r.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    r.extend_from_slice(&sps);
    r.push(1);
    r.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    r.extend_from_slice(&pps);
    r
}

/// Frames of distinct sizes and contents, durations like a GIF's (varying), a key frame every 4.
fn frames() -> Vec<(u32, bool, Vec<u8>)> {
    (0..11u32)
        .map(|i| {
            (if i % 3 == 0 { 100 } else { 40 + i }, i % 4 == 0, (0..(50 + i * 37)).map(|b| (b * 7 + i) as u8).collect())
        })
        .collect()
}

fn top_level(file: &[u8]) -> Vec<String> {
    children(file, 0, file.len()).unwrap().iter().map(|b| b.name()).collect()
}

#[test]
fn h264_track_reads_back_exactly_with_the_mp4_crate() {
    let frames = frames();
    let samples: Vec<Sample> = frames.iter().map(|(d, k, data)| Sample { duration: *d, keyframe: *k, data }).collect();
    let track = VideoTrack { codec: VideoCodec::Avc { avcc: avcc() }, width: 320, height: 240, timescale: 1000 };
    let file = mux(&track, &samples, &MuxLimits::default()).unwrap();
    assert_eq!(top_level(&file), ["ftyp", "moov", "mdat"], "fast start");

    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&file), file.len() as u64).unwrap();
    let total: u64 = frames.iter().map(|f| u64::from(f.0)).sum();
    assert_eq!(reader.timescale(), 1000);
    assert_eq!(reader.duration().as_millis() as u64, total);
    let t = reader.tracks().get(&1).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));
    assert_eq!(t.box_type().unwrap().to_string(), "avc1");
    assert_eq!(t.sequence_parameter_set().unwrap(), &avcc()[8..17]);
    assert_eq!(t.timescale(), 1000);
    assert_eq!(t.duration().as_millis() as u64, total);
    assert_eq!(reader.sample_count(1).unwrap(), frames.len() as u32);
    let mut start = 0u64;
    for (i, (duration, key, data)) in frames.iter().enumerate() {
        let s = reader.read_sample(1, i as u32 + 1).unwrap().unwrap();
        assert_eq!(s.bytes.as_ref(), data.as_slice(), "sample {i} bytes");
        assert_eq!(s.duration, *duration, "sample {i} duration");
        assert_eq!(s.start_time, start, "sample {i} start");
        assert_eq!(s.is_sync, *key, "sample {i} key frame");
        start += u64::from(*duration);
    }
}

#[test]
fn av1_track_has_an_av01_entry_with_its_av1c_and_exact_samples() {
    let frames = frames();
    let samples: Vec<Sample> =
        frames.iter().map(|(d, _, data)| Sample { duration: *d, keyframe: true, data }).collect();
    let av1c = vec![0x81, 0x04, 0x0C, 0x00, 0x0A, 0x0B, 0x00, 0x00, 0x00, 0x24];
    let track = VideoTrack { codec: VideoCodec::Av1 { av1c: av1c.clone() }, width: 100, height: 50, timescale: 90_000 };
    let file = mux(&track, &samples, &MuxLimits::default()).unwrap();
    assert_eq!(top_level(&file), ["ftyp", "moov", "mdat"]);
    assert!(file[8..32].windows(4).any(|w| w == b"av01"), "av01 brand in ftyp");
    let at = file.windows(4).position(|w| w == b"av1C").unwrap();
    assert_eq!(&file[at + 4..at + 4 + av1c.len()], av1c.as_slice());
    assert_eq!(u32::from_be_bytes(file[at - 4..at].try_into().unwrap()) as usize, av1c.len() + 8);

    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&file), file.len() as u64).unwrap();
    let t = reader.tracks().get(&1).unwrap();
    assert_eq!((t.width(), t.height()), (100, 50), "tkhd size");
    assert_eq!(reader.sample_count(1).unwrap(), frames.len() as u32);
    for (i, (duration, _, data)) in frames.iter().enumerate() {
        let s = reader.read_sample(1, i as u32 + 1).unwrap().unwrap();
        assert_eq!((s.bytes.as_ref(), s.duration, s.is_sync), (data.as_slice(), *duration, true), "sample {i}");
    }
    // No stss when every sample is a key frame.
    assert!(!file.windows(4).any(|w| w == b"stss"));
}

/// ffprobe's packets of `file` as (stream, pts, dts, size, key) lines, and the streams' codec,
/// size and rotation.
fn ffprobe_packets(file: &std::path::Path) -> Option<(Vec<String>, String)> {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("ffprobe").args(["-v", "error"]).args(args).arg(file).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
    };
    let packets = run(&["-show_entries", "packet=stream_index,pts,dts,size,flags", "-of", "csv=p=0"])?;
    let mut lines: Vec<String> = packets.lines().map(str::to_string).collect();
    lines.sort(); // per stream, independent of how the tracks are interleaved
    let streams = run(&[
        "-show_entries",
        "stream=codec_name,width,height,channels,sample_rate:stream_side_data=rotation",
        "-of",
        "csv=p=0",
    ])?;
    Some((lines, streams))
}

/// Demux the fixture, mux its samples again (video with B-frame offsets, AAC with its priming
/// edit, a rotation): FFmpeg must read the same packets (times, sizes, key frames) back.
#[test]
fn video_and_aac_copied_through_demux_and_mux_read_back_identically() {
    use mediaslim::video::mp4::{AudioTrack, DemuxLimits, MuxTrack, TrackKind, TrackMedia, demux, mux_tracks};
    let src_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip-rotated-cw90.mp4");
    let clip_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip-h264-aac.mp4");
    let dir = std::env::temp_dir().join(format!("mediaslim-mux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (path, rotation) in [(clip_path, 0u16), (src_path, 90)] {
        let file = std::fs::read(&path).unwrap();
        let movie = demux(&file, &DemuxLimits::default()).unwrap();
        let mut medias = Vec::new();
        for t in &movie.tracks {
            medias.push(match t.kind {
                TrackKind::Video => TrackMedia::Video {
                    track: VideoTrack {
                        codec: VideoCodec::Avc { avcc: t.description.clone().unwrap() },
                        width: t.width,
                        height: t.height,
                        timescale: t.timescale,
                    },
                    rotation: t.rotation,
                },
                TrackKind::Audio => TrackMedia::Audio(AudioTrack {
                    config: t.description.clone().unwrap(),
                    sample_rate: t.sample_rate,
                    channels: t.channels,
                    timescale: t.timescale,
                }),
            });
        }
        assert_eq!(movie.tracks[0].rotation, rotation);
        let samples: Vec<Vec<Sample>> = movie
            .tracks
            .iter()
            .map(|t| {
                t.samples
                    .iter()
                    .map(|s| Sample {
                        duration: s.duration,
                        keyframe: s.keyframe,
                        data: &file[s.offset as usize..][..s.size as usize],
                    })
                    .collect()
            })
            .collect();
        let offsets: Vec<Vec<i32>> =
            movie.tracks.iter().map(|t| t.samples.iter().map(|s| (s.pts - s.dts) as i32).collect()).collect();
        let tracks: Vec<MuxTrack> = movie
            .tracks
            .iter()
            .enumerate()
            .map(|(i, t)| MuxTrack {
                media: &medias[i],
                samples: &samples[i],
                composition_offsets: &offsets[i],
                media_start: t.edit_start,
                end_padding_ns: t.end_padding_ns,
            })
            .collect();
        let out = mux_tracks(&tracks, &MuxLimits::default()).unwrap();
        assert_eq!(top_level(&out), ["ftyp", "moov", "mdat"]);
        // Our own demuxer reads the same samples back, bytes included.
        let again = demux(&out, &DemuxLimits::default()).unwrap();
        for (a, b) in movie.tracks.iter().zip(&again.tracks) {
            assert_eq!(
                (a.codec.clone(), a.rotation, a.edit_start, a.samples.len()),
                (b.codec.clone(), b.rotation, b.edit_start, b.samples.len())
            );
            for (x, y) in a.samples.iter().zip(&b.samples) {
                assert_eq!((x.pts, x.dts, x.keyframe), (y.pts, y.dts, y.keyframe));
                assert_eq!(&file[x.offset as usize..][..x.size as usize], &out[y.offset as usize..][..y.size as usize]);
            }
        }
        let copy = dir.join("copy.mp4");
        std::fs::write(&copy, &out).unwrap();
        let (Some(theirs), Some(ours)) = (ffprobe_packets(&path), ffprobe_packets(&copy)) else {
            eprintln!("SKIPPED ffprobe comparison: ffprobe not found");
            return;
        };
        assert_eq!(theirs.1, ours.1, "streams (codec, size, audio format, rotation)");
        assert_eq!(theirs.0, ours.0, "every packet's time, size and key flag");
        // And FFmpeg decodes all of it without complaint.
        let decoded = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&copy)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(decoded.status.success() && decoded.stderr.is_empty(), "{}", String::from_utf8_lossy(&decoded.stderr));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
