//! GIF -> AV1 MP4 through rav1e, validated by FFmpeg (ffprobe for the stream, dav1d to decode
//! it back): codec, size, frame count, per-frame times, and pixels close to the GIF's.
#![cfg(feature = "avif")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mediaslim::video::av1::{Av1VideoOptions, gif_to_av1};
use mediaslim::video::gif::{GifFrames, GifFramesOptions};

fn has_ffprobe() -> bool {
    let ok = Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: ffprobe not found (scripts/setup.sh installs Debian's ffmpeg)");
    }
    ok
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("video_av1");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn ffprobe(path: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", entries, "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Encodes, then checks what FFmpeg sees; returns (GIF bytes, MP4 bytes, seconds).
/// `max_mean_diff`: per channel, against the GIF's frame. 4:2:0 alone costs up to ~5.5 on
/// the fixture's one-pixel saturated red/yellow lines (measured at quality 100).
fn encode_and_probe(gif_path: &Path, options: &Av1VideoOptions, max_mean_diff: f64) -> (usize, usize, f64) {
    let input = common::read(gif_path);
    let gif_len = input.len();
    let reference = {
        let opts = GifFramesOptions {
            max_width: options.max_width,
            max_height: options.max_height,
            ..GifFramesOptions::default()
        };
        let mut g = GifFrames::open(input.clone(), &opts).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = g.next_frame().unwrap() {
            frames.push(f);
        }
        frames
    };
    let started = Instant::now();
    let mut calls = 0;
    let video = gif_to_av1(input, options, &mut |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(calls, reference.len(), "progress after every frame");
    assert_eq!(video.frames as usize, reference.len());
    assert!(video.codec.starts_with("av01.0."), "{}", video.codec);
    let name = gif_path.file_stem().unwrap().to_string_lossy().to_string();
    let mp4 = temp_file(&format!("{name}.mp4"), &video.bytes);

    // codec_name, width, height, nb_read_frames
    let stream = ffprobe(&mp4, "stream=codec_name,width,height,nb_read_frames");
    assert_eq!(stream, format!("av1,{},{},{}", video.width, video.height, reference.len()), "{name}");
    // Every frame at the GIF's time.
    let times: Vec<u64> = ffprobe(&mp4, "frame=pts_time")
        .lines()
        .map(|l| (l.trim_end_matches(',').parse::<f64>().unwrap() * 1000.0).round() as u64)
        .collect();
    let want: Vec<u64> = reference.iter().map(|f| f.timestamp_ms).collect();
    assert_eq!(times, want, "{name}: frame times");
    // Key frames where rav1e put them, at least every `key_frame_interval` frames.
    let keys: Vec<usize> =
        ffprobe(&mp4, "packet=flags").lines().enumerate().filter(|(_, l)| l.starts_with('K')).map(|(i, _)| i).collect();
    assert_eq!(keys.first(), Some(&0), "{name}: starts with a key frame");
    let gaps_ok = keys.windows(2).all(|w| w[1] - w[0] <= options.key_frame_interval as usize)
        && reference.len() - keys.last().unwrap() <= options.key_frame_interval as usize;
    assert!(gaps_ok, "{name}: key frames at {keys:?}");
    let duration: f64 = ffprobe(&mp4, "format=duration").parse().unwrap();
    assert!(
        (duration * 1000.0 - video.duration_ms as f64).abs() < 1.0,
        "{name}: {duration} s vs {} ms",
        video.duration_ms
    );

    // dav1d's decode is close to the GIF's frames (lossy, so a mean difference).
    let decoded = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&mp4)
        .args(["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert!(decoded.status.success());
    let size = (video.width * video.height * 4) as usize;
    assert_eq!(decoded.stdout.len(), size * reference.len());
    for (f, got) in reference.iter().zip(decoded.stdout.chunks_exact(size)) {
        let diff: u64 = f
            .image
            .pixels
            .iter()
            .zip(got)
            .enumerate()
            .filter(|(i, _)| i % 4 != 3)
            .map(|(_, (a, b))| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / (video.width * video.height * 3) as f64;
        assert!(mean < max_mean_diff, "{name}: frame {} differs by {mean:.2} per channel", f.index);
    }
    eprintln!(
        "{name}: GIF {gif_len} B -> AV1 MP4 {} B ({}x{}, {} frames, {} ms) in {seconds:.2} s, {}",
        video.bytes.len(),
        video.width,
        video.height,
        video.frames,
        video.duration_ms,
        video.codec
    );
    (gif_len, video.bytes.len(), seconds)
}

#[test]
fn fixture_gif_becomes_an_av1_mp4_that_ffmpeg_plays_right() {
    if !has_ffprobe() {
        return;
    }
    // quality 90: 6.2 at most per channel here (8.5 at the default 60, whose loss on these
    // tiny saturated lines is real but says nothing about the pipeline).
    encode_and_probe(
        &common::fixtures().join("dispose_bgnd.gif"),
        &Av1VideoOptions { quality: 90, ..Av1VideoOptions::default() },
        7.0,
    );
}

#[test]
fn corpus_gifs_become_av1_mp4s() {
    let Some(dir) = common::corpus("formats") else {
        eprintln!("SKIPPED: no ../shared/corpus here");
        return;
    };
    if !has_ffprobe() {
        return;
    }
    // chi.gif: 31 frames of 320x240; iss634.gif: 42 frames of 245x245 (odd: 244x244 out),
    // key frames forced every 10 frames.
    encode_and_probe(&dir.join("chi.gif"), &Av1VideoOptions::default(), 6.0);
    encode_and_probe(
        &dir.join("iss634.gif"),
        &Av1VideoOptions { key_frame_interval: 10, ..Av1VideoOptions::default() },
        6.0,
    );
}

#[test]
fn bad_inputs_and_options_are_typed_errors() {
    let png = common::read(&common::fixtures().join("hopper.png"));
    assert_eq!(gif_to_av1(png, &Av1VideoOptions::default(), &mut |_, _| {}).unwrap_err().code(), "UNSUPPORTED_FORMAT");
    let gif = common::read(&common::fixtures().join("dispose_bgnd.gif"));
    let cut = gif[..gif.len() / 2].to_vec();
    assert_eq!(gif_to_av1(cut, &Av1VideoOptions::default(), &mut |_, _| {}).unwrap_err().code(), "CORRUPT_INPUT");
    assert_eq!(Av1VideoOptions::from_json(r#"{"quality": 0}"#).unwrap_err().code(), "INVALID_OPTION");
    assert_eq!(Av1VideoOptions::from_json(r#"{"codec": "h264"}"#).unwrap_err().code(), "INVALID_OPTION");
}
