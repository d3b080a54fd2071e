//! Animated GIF frames for video: frame count, timing and compositing checked against
//! FFmpeg's GIF decoder (an independent implementation) on the fixture and corpus GIFs, then
//! resizing, even sizes and the budgets that refuse bombs before decoding.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mediaslim::video::gif::{GifFrames, GifFramesOptions};

fn has_ffmpeg() -> bool {
    let ok = Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: ffprobe/ffmpeg not found (scripts/setup.sh installs Debian's ffmpeg)");
    }
    ok
}

/// FFmpeg's frame durations in ms (its GIF demuxer applies the same 100 ms rule to short delays).
fn ffprobe_durations(path: &Path) -> Vec<u32> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "packet=duration_time", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| (l.trim().parse::<f64>().unwrap() * 1000.0).round() as u32)
        .collect()
}

/// FFmpeg's composited frames, RGBA.
fn ffmpeg_frames(path: &Path, w: u32, h: u32) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact((w * h * 4) as usize).map(<[u8]>::to_vec).collect()
}

fn all_frames(bytes: Vec<u8>, options: &GifFramesOptions) -> (GifFrames, Vec<mediaslim::video::gif::GifFrame>) {
    let mut frames = GifFrames::open(bytes, options).unwrap();
    let mut out = Vec::new();
    while let Some(f) = frames.next_frame().unwrap() {
        out.push(f);
    }
    (frames, out)
}

const NATIVE: GifFramesOptions = GifFramesOptions {
    max_width: None,
    max_height: None,
    even: false,
    background: [255, 255, 255],
    max_frames: 10_000,
    max_pixels: 100_000_000,
};

/// Our frames against FFmpeg's: same count and durations; where FFmpeg's pixel is opaque, the
/// same colour; where it is fully transparent, our background. One known difference: a frame
/// disposed "to background" leaves its rectangle transparent in browsers (and here), where
/// FFmpeg paints the palette's background colour, `ffmpeg_background`. Returns the frame
/// count and the pixels that differ only that way.
fn matches_ffmpeg(path: &Path, ffmpeg_background: Option<[u8; 3]>) -> (usize, usize) {
    let (gif, frames) = all_frames(common::read(path), &NATIVE);
    let name = path.display();
    let durations: Vec<u32> = frames.iter().map(|f| f.duration_ms).collect();
    assert_eq!(durations, ffprobe_durations(path), "{name}: durations");
    let mut t = 0;
    for f in &frames {
        assert_eq!(f.timestamp_ms, t, "{name}: frame {} timestamp", f.index);
        t += u64::from(f.duration_ms);
    }
    let reference = ffmpeg_frames(path, gif.width, gif.height);
    assert_eq!(frames.len(), reference.len(), "{name}: frame count");
    assert_eq!(frames.len() as u32, gif.frame_count, "{name}: declared count");
    let mut disposed = 0;
    for (ours, theirs) in frames.iter().zip(&reference) {
        let mut differing = 0usize;
        for (a, b) in ours.image.pixels.chunks_exact(4).zip(theirs.chunks_exact(4)) {
            let want = match b[3] {
                255 => [b[0], b[1], b[2]],
                0 => NATIVE.background,
                _ => continue, // GIF has no partial alpha
            };
            if ffmpeg_background.is_some_and(|bg| b[..3] == bg) && a[..3] == NATIVE.background {
                disposed += 1;
            } else if a[..3] != want || a[3] != 255 {
                differing += 1;
            }
        }
        assert_eq!(differing, 0, "{name}: frame {} has {differing} pixels unlike FFmpeg's", ours.index);
    }
    (frames.len(), disposed)
}

#[test]
fn fixture_frames_time_and_composite_like_ffmpeg() {
    if !has_ffmpeg() {
        return;
    }
    assert_eq!(matches_ffmpeg(&common::fixtures().join("dispose_prev.gif"), None), (5, 0));
    // Frames 1-3 are disposed to background: their rectangles turn transparent (white here).
    let (n, disposed) = matches_ffmpeg(&common::fixtures().join("dispose_bgnd.gif"), Some([30, 144, 255]));
    assert_eq!(n, 5);
    assert!(disposed > 1000, "{disposed} pixels of disposed rectangles");
    let (_, frames) = all_frames(common::read(&common::fixtures().join("dispose_bgnd.gif")), &NATIVE);
    assert_eq!(frames.iter().map(|f| f.duration_ms).collect::<Vec<_>>(), [1000; 5]);
}

#[test]
fn corpus_animated_gifs_match_ffmpeg() {
    let Some(dir) = common::corpus("formats") else {
        eprintln!("SKIPPED: no ../shared/corpus here");
        return;
    };
    if !has_ffmpeg() {
        return;
    }
    let mut checked = Vec::new();
    for name in [
        "chi.gif",
        "iss634.gif",
        "dispose_none.gif",
        "dispose_prev.gif",
        "different_transparency.gif",
        "dispose_bgnd_transparency.gif",
        "transparent_dispose.gif",
        "missing_background.gif",
        "palette_not_needed_for_second_frame.gif",
        "duplicate_number_of_loops.gif",
    ] {
        let path = dir.join(name);
        if path.is_file() {
            checked.push((name, matches_ffmpeg(&path, None).0));
        }
    }
    eprintln!("frames identical to FFmpeg's: {checked:?}");
    assert!(checked.iter().any(|(n, f)| *n == "iss634.gif" && *f == 42));
}

#[test]
fn frames_fit_the_box_with_even_sides_and_flatten_transparency() {
    let bytes = common::read(&common::fixtures().join("dispose_bgnd.gif"));
    let options = GifFramesOptions { max_width: Some(75), background: [10, 20, 30], ..GifFramesOptions::default() };
    let (gif, frames) = all_frames(bytes, &options);
    assert_eq!((gif.source_width, gif.source_height), (100, 100));
    assert_eq!((gif.width, gif.height), (74, 74), "75 rounded down to even");
    for f in &frames {
        assert_eq!((f.image.width, f.image.height, f.image.pixels.len()), (74, 74, 74 * 74 * 4));
        assert!(f.image.pixels.chunks_exact(4).all(|p| p[3] == 255), "opaque");
    }
    let hopper = common::read(&common::fixtures().join("hopper.gif"));
    let (single, one) = all_frames(hopper, &GifFramesOptions::default());
    assert_eq!((single.frame_count, one.len(), one[0].duration_ms), (1, 1, 100), "a still GIF is one frame of 100 ms");
}

/// A GIF of `frames` 1x1 frames on a `w` x `h` screen (2-colour palette, valid LZW).
fn frame_bomb(w: u16, h: u16, frames: u32) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&w.to_le_bytes());
    g.extend_from_slice(&h.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    g.push(0x3B);
    g
}

#[test]
fn bombs_and_broken_gifs_fail_fast_with_typed_errors() {
    let started = Instant::now();
    // 200 frames on a 4000x4000 screen: 3.2 gigapixels to composite.
    let e = GifFrames::open(frame_bomb(4000, 4000, 200), &GifFramesOptions::default()).unwrap_err();
    assert_eq!(e.code(), "TOO_LARGE", "{e}");
    assert!(e.to_string().contains("200 frames of 4000 x 4000"), "{e}");
    let e = GifFrames::open(frame_bomb(2, 2, 20_000), &GifFramesOptions::default()).unwrap_err();
    assert_eq!(e.code(), "TOO_LARGE");
    assert!(e.to_string().contains("20000 frames exceeds the limit of 10000"), "{e}");
    assert!(started.elapsed().as_millis() < 500, "refused from the block structure: {:?}", started.elapsed());
    // A small valid bomb decodes: the builder makes real GIFs.
    let (_, ok) = all_frames(frame_bomb(4, 2, 3), &GifFramesOptions::default());
    assert_eq!(ok.len(), 3);

    let full = common::read(&common::fixtures().join("dispose_bgnd.gif"));
    // (Cut after the last frame's image data, only the trailer is missing: that still plays.)
    for cut in [8, 12, full.len() / 2, full.len() - 12] {
        let result = GifFrames::open(full[..cut].to_vec(), &GifFramesOptions::default()).and_then(|mut g| {
            while g.next_frame()?.is_some() {}
            Ok(())
        });
        let e = result.unwrap_err();
        assert_eq!(e.code(), "CORRUPT_INPUT", "cut at {cut}: {e}");
    }
    let png = common::read(&common::fixtures().join("hopper.png"));
    assert_eq!(GifFrames::open(png, &GifFramesOptions::default()).unwrap_err().code(), "UNSUPPORTED_FORMAT");
    let e = GifFramesOptions::from_json(r#"{"maxWidht": 10}"#).unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTION");
}
