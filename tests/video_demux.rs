//! The MP4 demuxer against FFmpeg's reading of the same files (`ffprobe -show_streams
//! -show_packets`): per track the codec, size, timescale, rotation, and per sample the
//! offset, size, decode and presentation times (edit list applied) and key frame flag.
//! Then hostile indexes: cut files, lying sizes, absurd counts, all refused fast.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mediaslim::video::mp4::{DemuxLimits, TrackKind, demux};
use serde_json::Value;

fn ffprobe(path: &Path) -> Option<Value> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-show_packets", "-of", "json"])
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn num(v: &Value, key: &str) -> i64 {
    match &v[key] {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("{key}: {s}")),
        Value::Number(n) => n.as_i64().unwrap(),
        other => panic!("{key}: {other:?}"),
    }
}

/// Compares every track and sample of `path` with ffprobe; returns the sample count checked.
fn matches_ffprobe(path: &Path) -> usize {
    let Some(probe) = ffprobe(path) else {
        eprintln!("SKIPPED {}: ffprobe not found (install Debian ffmpeg)", path.display());
        return 0;
    };
    let file = common::read(path);
    let movie = demux(&file, &DemuxLimits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let streams = probe["streams"].as_array().unwrap();
    let packets = probe["packets"].as_array().unwrap();
    assert_eq!(movie.tracks.len(), streams.len(), "{name}: track count");
    let mut checked = 0;
    for (i, (track, stream)) in movie.tracks.iter().zip(streams).enumerate() {
        let what = format!("{name} track {i}");
        let kind = stream["codec_type"].as_str().unwrap();
        assert_eq!(track.kind, if kind == "video" { TrackKind::Video } else { TrackKind::Audio }, "{what}");
        let time_base = stream["time_base"].as_str().unwrap();
        assert_eq!(time_base, format!("1/{}", track.timescale), "{what}: timescale");
        let codec = track.codec.as_deref().unwrap();
        match stream["codec_name"].as_str().unwrap() {
            "h264" => {
                assert!(codec.starts_with("avc1."), "{what}: {codec}");
                // avcC byte 1 is profile_idc: High 100 = 0x64, Main 77 = 0x4d.
                let profile = stream["profile"].as_str().unwrap();
                let want = match profile {
                    "High" => "avc1.64",
                    "Main" => "avc1.4d",
                    "Constrained Baseline" | "Baseline" => "avc1.42",
                    other => panic!("{what}: profile {other}"),
                };
                assert!(codec.starts_with(want), "{what}: {codec} for {profile}");
                assert_eq!(track.description.as_ref().unwrap().first(), Some(&1), "{what}: avcC version");
            }
            "aac" => {
                assert_eq!(codec, "mp4a.40.2", "{what}");
                assert_eq!(track.sample_rate as i64, num(stream, "sample_rate"), "{what}: rate");
                assert_eq!(i64::from(track.channels), num(stream, "channels"), "{what}: channels");
                assert!(track.description.as_ref().unwrap().len() >= 2, "{what}: AudioSpecificConfig");
            }
            other => panic!("{what}: unexpected codec {other}"),
        }
        if track.kind == TrackKind::Video {
            assert_eq!(
                (i64::from(track.width), i64::from(track.height)),
                (num(stream, "width"), num(stream, "height")),
                "{what}: size"
            );
            // ffprobe gives the display matrix's counter-clockwise angle; ours is clockwise.
            let ccw = stream["side_data_list"]
                .as_array()
                .and_then(|l| l.iter().find_map(|d| d["rotation"].as_i64()))
                .unwrap_or(0);
            assert_eq!(i64::from(track.rotation), (360 - ccw).rem_euclid(360), "{what}: rotation");
        }
        let theirs: Vec<&Value> = packets.iter().filter(|p| num(p, "stream_index") == i as i64).collect();
        assert_eq!(track.samples.len(), theirs.len(), "{what}: sample count");
        for (n, (s, p)) in track.samples.iter().zip(&theirs).enumerate() {
            let at = format!("{what} sample {n}");
            assert_eq!(s.offset as i64, num(p, "pos"), "{at}: offset");
            assert_eq!(i64::from(s.size), num(p, "size"), "{at}: size");
            assert!((s.pts - num(p, "pts")).abs() <= 1, "{at}: pts {} vs {}", s.pts, num(p, "pts"));
            assert!((s.dts - num(p, "dts")).abs() <= 1, "{at}: dts {} vs {}", s.dts, num(p, "dts"));
            assert_eq!(s.keyframe, p["flags"].as_str().unwrap().starts_with('K'), "{at}: key frame");
            // Samples read by offset are exactly the bytes FFmpeg reads.
            assert!(s.offset as usize + s.size as usize <= file.len());
        }
        checked += theirs.len();
    }
    eprintln!("{name}: {} tracks, {checked} samples match ffprobe", movie.tracks.len());
    checked
}

#[test]
fn fixture_clip_with_b_frames_and_aac_matches_ffprobe() {
    let path = common::fixtures().join("clip-h264-aac.mp4");
    let movie = demux(&common::read(&path), &DemuxLimits::default()).unwrap();
    let video = &movie.tracks[0];
    assert_eq!((video.width, video.height, video.rotation, video.samples.len()), (320, 240, 0, 60));
    assert!(video.samples.iter().any(|s| s.pts != s.dts), "B-frames reorder presentation");
    assert_eq!(video.samples.iter().filter(|s| s.keyframe).count(), 2, "a key frame every 30");
    assert_eq!(video.keyframe_at_or_before(video.timescale as i64), Some(30), "the key frame at 1 s");
    assert_eq!(video.keyframe_at_or_before(video.timescale as i64 - 1), Some(0));
    assert_eq!(movie.tracks[1].edit_start, 1024, "AAC priming skipped by the edit list");
    assert_eq!(matches_ffprobe(&path), 60 + 88);
}

#[test]
fn rotated_fixture_reports_its_rotation() {
    let path = common::fixtures().join("clip-rotated-cw90.mp4");
    let movie = demux(&common::read(&path), &DemuxLimits::default()).unwrap();
    assert_eq!(movie.tracks[0].rotation, 90);
    assert_eq!(movie.tracks[0].codec.as_deref().map(|c| &c[..5]), Some("avc1."));
    matches_ffprobe(&path);
}

#[test]
fn corpus_clips_match_ffprobe() {
    let Some(dir) = common::corpus("video") else {
        eprintln!("SKIPPED corpus clips: no ../shared/corpus/video here");
        return;
    };
    let mut total = 0;
    for name in ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4", "test.mp4"] {
        total += matches_ffprobe(&dir.join(name));
    }
    assert!(total > 0 || ffprobe(&dir.join("test.mp4")).is_none());
}

/// Minimal boxes for hostile indexes.
fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

/// A one-track file whose `stbl` holds `stbl_children`.
fn file_with_stbl(stbl_children: &[u8]) -> Vec<u8> {
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    let tkhd = vec![0u8; 84];
    let mut mdhd = vec![0u8; 24];
    mdhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 13]);
    let mut entry = vec![0u8; 78];
    entry[24..26].copy_from_slice(&16u16.to_be_bytes());
    entry[26..28].copy_from_slice(&16u16.to_be_bytes());
    entry.extend(mp4_box(b"avcC", &[1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0]));
    let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
    stsd.extend(mp4_box(b"avc1", &entry));
    let mut stbl = mp4_box(b"stsd", &stsd);
    stbl.extend_from_slice(stbl_children);
    let minf = mp4_box(b"minf", &mp4_box(b"stbl", &stbl));
    let mut mdia = mp4_box(b"mdhd", &mdhd);
    mdia.extend(mp4_box(b"hdlr", &hdlr));
    mdia.extend(minf);
    let mut trak = mp4_box(b"tkhd", &tkhd);
    trak.extend(mp4_box(b"mdia", &mdia));
    let mut moov = mp4_box(b"mvhd", &mvhd);
    moov.extend(mp4_box(b"trak", &trak));
    let mut file = mp4_box(b"ftyp", b"isom\0\0\0\0");
    file.extend(mp4_box(b"moov", &moov));
    file.extend(mp4_box(b"mdat", &[0; 64]));
    file
}

fn full(kind: &[u8; 4], words: &[u32]) -> Vec<u8> {
    let mut p = vec![0u8; 4];
    words.iter().for_each(|w| p.extend_from_slice(&w.to_be_bytes()));
    mp4_box(kind, &p)
}

#[test]
fn hostile_indexes_are_refused_fast() {
    let started = Instant::now();
    let limits = DemuxLimits::default();
    let ok_tables = [full(b"stts", &[1, 1, 10]), full(b"stsc", &[1, 1, 1, 1]), full(b"stco", &[1, 200])].concat();
    // The honest version parses: one 10-byte sample at offset 200.
    let honest = file_with_stbl(&[full(b"stsz", &[10, 1]), ok_tables.clone()].concat());
    let movie = demux(&honest, &limits).unwrap();
    assert_eq!((movie.tracks[0].samples[0].offset, movie.tracks[0].samples[0].size), (200, 10));

    let code = |file: &[u8]| demux(file, &limits).map(|_| "ok").unwrap_or_else(|e| e.code());
    // Four billion samples of one uniform size in a 20-byte box: refused by count.
    assert_eq!(code(&file_with_stbl(&[full(b"stsz", &[10, u32::MAX]), ok_tables.clone()].concat())), "TOO_LARGE");
    // A size table that claims more entries than it holds.
    assert_eq!(
        code(&file_with_stbl(&[full(b"stsz", &[0, 1_000_000, 5]), ok_tables.clone()].concat())),
        "CORRUPT_INPUT"
    );
    // stts / stsc / stco counts far past their boxes.
    for (bad, i) in [
        (full(b"stts", &[u32::MAX, 1, 10]), 0),
        (full(b"stsc", &[u32::MAX, 1, 1, 1]), 1),
        (full(b"stco", &[u32::MAX, 200]), 2),
    ] {
        let mut tables = vec![full(b"stts", &[1, 1, 10]), full(b"stsc", &[1, 1, 1, 1]), full(b"stco", &[1, 200])];
        tables[i] = bad;
        assert_eq!(
            code(&file_with_stbl(&[full(b"stsz", &[10, 1]), tables.concat()].concat())),
            "CORRUPT_INPUT",
            "table {i}"
        );
    }
    // A chunk with a billion samples per chunk but one sample: stops at the count.
    let many_per_chunk =
        [full(b"stts", &[1, 1, 10]), full(b"stsc", &[1, 1, 1_000_000_000, 1]), full(b"stco", &[1, 200])].concat();
    assert_eq!(code(&file_with_stbl(&[full(b"stsz", &[10, 1]), many_per_chunk].concat())), "ok");
    // A sample past the end of the file.
    let past = [full(b"stts", &[1, 1, 10]), full(b"stsc", &[1, 1, 1, 1]), full(b"stco", &[1, 1 << 30])].concat();
    assert_eq!(code(&file_with_stbl(&[full(b"stsz", &[10, 1]), past].concat())), "CORRUPT_INPUT");
    // A box whose size is smaller than its header (a walker that trusted it would loop).
    let mut looping = honest.clone();
    let at = looping.windows(4).position(|w| w == b"stsz").unwrap() - 4;
    looping[at..at + 4].copy_from_slice(&0u32.to_be_bytes()[..]);
    looping[at + 3] = 4;
    assert_eq!(code(&looping), "CORRUPT_INPUT");
    // Not an MP4 at all.
    assert_eq!(code(b"\x89PNG\r\n\x1a\n0000000000"), "UNSUPPORTED_FORMAT");

    // Every truncation of the fixture is an error or a shorter index, never a panic.
    let clip = common::read(&common::fixtures().join("clip-h264-aac.mp4"));
    for len in (0..clip.len()).step_by(61) {
        let _ = demux(&clip[..len], &limits);
    }
    // And every byte of its index flipped.
    let moov_end = 3440;
    for i in (0..moov_end).step_by(3) {
        let mut bad = clip.clone();
        bad[i] ^= 0xFF;
        let _ = demux(&bad, &limits);
    }
    let ms = started.elapsed().as_millis();
    assert!(ms < 5000, "hostile inputs took {ms} ms");
}

#[test]
fn fragmented_copy_of_the_fixture_matches_ffprobe() {
    let dir = std::env::temp_dir().join(format!("mediaslim-demux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("fragmented.mp4");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(common::fixtures().join("clip-h264-aac.mp4"))
        .args(["-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof"])
        .arg(&out)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED fragmented MP4: ffmpeg not found");
        return;
    }
    let movie = demux(&common::read(&out), &DemuxLimits::default()).unwrap();
    assert!(movie.fragmented);
    assert_eq!(matches_ffprobe(&out), 60 + 88);
    std::fs::remove_dir_all(&dir).unwrap();
}
