//! Every file we can find either decodes or returns a typed error: never a panic, never slow.

mod common;

use std::panic;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mediaslim::{Limits, OptimizeOptions, decode, optimize, probe};

const CODES: &[&str] = &["UNSUPPORTED_FORMAT", "CORRUPT_INPUT", "TOO_LARGE", "INVALID_OPTION", "ENCODE_FAILED"];

fn all_inputs() -> Vec<PathBuf> {
    let mut files = common::files_in(&common::fixtures());
    for sub in ["formats", "formats/apng", "formats/avif", "malformed", "photos"] {
        if let Some(dir) = common::corpus(sub) {
            files.extend(common::files_in(&dir));
        }
    }
    files.retain(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "mjs")));
    files
}

#[test]
fn every_input_decodes_or_fails_with_a_typed_error() {
    let files = all_inputs();
    assert!(files.len() >= 30, "expected fixtures at least, found {}", files.len());
    let (mut decoded, mut refused, mut panics, mut slow) = (0, 0, Vec::new(), Vec::new());
    for path in &files {
        let bytes = common::read(path);
        let start = Instant::now();
        let result =
            panic::catch_unwind(|| (probe(&bytes, &Limits::default()).map(|_| ()), decode(&bytes, &Limits::default())));
        let took = start.elapsed();
        match result {
            Err(_) => panics.push(path.display().to_string()),
            Ok((_, Ok(d))) => {
                decoded += 1;
                let expected = d.image.width as usize * d.image.height as usize * d.image.layout.channels();
                assert_eq!(d.image.pixels.len(), expected, "{}", path.display());
            }
            Ok((_, Err(e))) => {
                refused += 1;
                assert!(CODES.contains(&e.code()), "{}: unknown code {}", path.display(), e.code());
                assert!(!e.to_string().is_empty());
            }
        }
        // Generous for unoptimized test builds of big photos; hostile files must not hang.
        if took > Duration::from_secs(10) {
            slow.push(format!("{} ({took:?})", path.display()));
        }
    }
    eprintln!("{} files: {decoded} decoded, {refused} refused with typed errors", files.len());
    assert!(panics.is_empty(), "panicked on: {panics:#?}");
    assert!(slow.is_empty(), "too slow: {slow:#?}");
}

#[test]
fn typical_inputs_decode() {
    for name in [
        "hopper.jpg",
        "progressive.jpg",
        "pil_sample_cmyk.jpg",
        "hopper_gray.jpg",
        "hopper.png",
        "tiff_16bit_RGBa_target.png",
        "p_16.png",
        "transparent.png",
        "hopper.gif",
        "hopper.webp",
        "lossless.webp",
        "alpha-lossless.webp",
        "transparent.webp",
        "hopper.bmp",
        "display-p3.jpg",
    ] {
        let bytes = common::read(&common::fixtures().join(name));
        let d = decode(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(d.image.width > 0 && d.image.height > 0, "{name}");
    }
}

#[test]
fn bad_inputs_have_the_right_codes() {
    let cases = [
        ("truncated_jpeg.jpg", "CORRUPT_INPUT"),
        ("broken.png", "CORRUPT_INPUT"),
        ("zip-renamed.jpg", "UNSUPPORTED_FORMAT"),
        ("random.bin", "UNSUPPORTED_FORMAT"),
        ("bomb-100000x100000.png", "TOO_LARGE"),
    ];
    for (name, code) in cases {
        let bytes = common::read(&common::fixtures().join(name));
        let err = optimize(&bytes, &OptimizeOptions::default(), &|| 0.0).unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
    }
    let zip = optimize(common::read(&common::fixtures().join("zip-renamed.jpg")), &OptimizeOptions::default(), &|| 0.0)
        .unwrap_err();
    assert!(zip.to_string().contains("ZIP"), "{zip}");
    assert_eq!(optimize(&[], &OptimizeOptions::default(), &|| 0.0).unwrap_err().code(), "UNSUPPORTED_FORMAT");
}

#[test]
fn cmyk_matches_the_rgb_version_of_the_same_photo() {
    let dir = common::fixtures();
    let cmyk = decode(&common::read(&dir.join("pil_sample_cmyk.jpg")), &Limits::default()).unwrap();
    assert!(cmyk.was_cmyk);
    let rgb = decode(&common::read(&dir.join("pil_sample_rgb.jpg")), &Limits::default()).unwrap();
    let diff = common::mean_abs_diff(&cmyk.image, &rgb.image);
    eprintln!("CMYK vs RGB sample: mean abs diff {diff:.2}");
    assert!(diff < 20.0, "CMYK decode differs from the RGB version by {diff}");
}
