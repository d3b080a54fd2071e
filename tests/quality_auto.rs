//! `quality: "auto"`, `maxBytes` and `format: "auto"`: every output is decoded again here with
//! the `image` crate and scored with the `ssimulacra2` crate against a lossless render of the
//! same resize, so the test does not trust the score the pipeline reports.

mod common;

use mediaslim::quality::linear_rgb;
use mediaslim::{AcceptFormat, Image, OptimizeOptions, Optimized, PixelLayout, Quality, TargetFormat, TargetScore};

fn run(input: &[u8], options: &OptimizeOptions) -> mediaslim::Result<Optimized> {
    mediaslim::optimize(input, options, &|| 0.0)
}

/// Decodes with the `image` crate (not the pipeline's decode module) to RGBA8.
fn decode_rgba(bytes: &[u8]) -> Image {
    let img = image::load_from_memory(bytes).expect("output decodes").to_rgba8();
    let (w, h) = img.dimensions();
    Image::new(w, h, PixelLayout::Rgba8, img.into_raw())
}

/// SSIMULACRA2 of `out` against the lossless PNG of the same resize of `input`, flattened
/// onto white (all fixtures here are opaque or scored as the pipeline's JPEG reference).
fn independent_score(input: &[u8], width: u32, out: &[u8]) -> f64 {
    let lossless =
        OptimizeOptions { width: Some(width), format: TargetFormat::Png, never_bigger: false, ..Default::default() };
    let reference = decode_rgba(&run(input, &lossless).unwrap().bytes).flatten([255, 255, 255]);
    let distorted = decode_rgba(out).flatten([255, 255, 255]);
    assert_eq!((reference.width, reference.height), (distorted.width, distorted.height));
    ssimulacra2::compute_frame_ssimulacra2(linear_rgb(&reference), linear_rgb(&distorted)).unwrap()
}

fn auto(width: u32, format: TargetFormat, target: f64) -> OptimizeOptions {
    OptimizeOptions {
        width: Some(width),
        format,
        quality: Some(Quality::Auto),
        target: Some(TargetScore(target)),
        never_bigger: false,
        ..Default::default()
    }
}

#[test]
fn auto_quality_meets_each_target_and_bytes_rise_with_it() {
    for name in ["skimage-rocket.jpg", "flower2.jpg"] {
        let input = common::read(&common::fixtures().join(name));
        for format in [TargetFormat::Jpeg, TargetFormat::Webp, TargetFormat::Png] {
            let mut last = 0;
            for target in [70.0, 80.0, 90.0] {
                let out = run(&input, &auto(320, format, target)).unwrap();
                let score = independent_score(&input, 320, &out.bytes);
                let reported = out.score.expect("auto reports a score");
                assert!(
                    (score - reported).abs() < 0.5,
                    "{name} {format:?} {target}: reported {reported}, recomputed {score}"
                );
                let unreachable = out.warnings.iter().any(|w| w.contains("not reached"));
                assert!(
                    score >= target - 0.01 || unreachable && out.quality == Some(100),
                    "{name} {format:?} target {target}: scored {score} at {:?}",
                    out.quality
                );
                assert!((1..=15).contains(&out.encodes), "{name} {format:?} {target}: {} encodes", out.encodes);
                assert!(
                    out.bytes.len() >= last,
                    "{name} {format:?}: bytes fell from {last} to {} at {target}",
                    out.bytes.len()
                );
                last = out.bytes.len();
            }
        }
    }
}

#[test]
fn auto_quality_is_smaller_than_a_fixed_quality_that_scores_as_well() {
    // The point of auto: a fixed q90 is what people pick to be safe; auto at its score is smaller
    // or equal, never bigger.
    let input = common::read(&common::fixtures().join("skimage-rocket.jpg"));
    let fixed = OptimizeOptions {
        width: Some(480),
        format: TargetFormat::Jpeg,
        quality: Some(Quality::Fixed(90)),
        score: true,
        never_bigger: false,
        ..Default::default()
    };
    let fixed = run(&input, &fixed).unwrap();
    let auto = run(&input, &auto(480, TargetFormat::Jpeg, fixed.score.unwrap())).unwrap();
    assert!(auto.bytes.len() <= fixed.bytes.len(), "auto {} > fixed {}", auto.bytes.len(), fixed.bytes.len());
}

#[test]
fn lossy_png_is_used_only_when_it_meets_the_target() {
    let input = common::read(&common::fixtures().join("hopper.png"));
    let lossless =
        run(&input, &OptimizeOptions { format: TargetFormat::Png, never_bigger: false, ..Default::default() }).unwrap();
    let medium = run(&input, &auto(128, TargetFormat::Png, 70.0)).unwrap();
    let width = medium.width;
    assert!(!medium.lossless && medium.bytes.len() < lossless.bytes.len());
    assert!(independent_score(&input, width, &medium.bytes) >= 70.0);
    // A palette PNG has a PLTE chunk.
    assert!(medium.bytes.windows(4).any(|w| w == b"PLTE"));
    let max = run(&input, &auto(128, TargetFormat::Png, 99.0)).unwrap();
    assert!(independent_score(&input, width, &max.bytes) >= 99.0);
}

#[test]
fn max_bytes_lowers_quality_then_dimensions_and_fails_clearly_when_impossible() {
    let input = common::read(&common::fixtures().join("skimage-rocket.jpg"));
    let base =
        OptimizeOptions { width: Some(640), format: TargetFormat::Jpeg, never_bigger: false, ..Default::default() };
    let full = run(&input, &base).unwrap();

    let budget = full.bytes.len() * 7 / 10;
    let fitted = run(&input, &OptimizeOptions { max_bytes: Some(budget as u64), ..base.clone() }).unwrap();
    assert!(fitted.bytes.len() <= budget);
    assert_eq!((fitted.width, fitted.height), (full.width, full.height), "quality alone should fit 70%");
    assert!(
        fitted.quality.unwrap() < 80 && fitted.warnings.iter().any(|w| w.contains("quality lowered")),
        "{fitted:?}"
    );

    let tiny = run(&input, &OptimizeOptions { max_bytes: Some(4000), ..base.clone() }).unwrap();
    assert!(tiny.bytes.len() <= 4000 && tiny.width < full.width, "{} bytes at {}", tiny.bytes.len(), tiny.width);
    assert!(tiny.warnings.iter().any(|w| w.contains("resized to")), "{:?}", tiny.warnings);
    assert_eq!(decode_rgba(&tiny.bytes).width, tiny.width);

    let png =
        run(&input, &OptimizeOptions { max_bytes: Some(60_000), format: TargetFormat::Png, ..base.clone() }).unwrap();
    assert!(png.bytes.len() <= 60_000);

    let e = run(&input, &OptimizeOptions { max_bytes: Some(60), ..base }).unwrap_err();
    assert_eq!(e.code(), "INVALID_OPTION");
    assert!(e.to_string().contains("maxBytes") && e.to_string().contains("60 bytes"), "{e}");
}

#[test]
fn auto_format_picks_the_smallest_accepted_format_that_meets_the_target() {
    let photo = common::read(&common::fixtures().join("flower2.jpg"));
    let options =
        OptimizeOptions { width: Some(320), format: TargetFormat::Auto, never_bigger: false, ..Default::default() };
    let out = run(&photo, &options).unwrap();
    assert!(out.format == "webp" || out.format == "jpeg", "{}", out.format);
    assert!(independent_score(&photo, 320, &out.bytes) >= TargetScore::HIGH.0 - 0.01);
    for (accept, want) in [(AcceptFormat::Jpeg, "jpeg"), (AcceptFormat::Png, "png")] {
        let only = run(&photo, &OptimizeOptions { accept: Some(vec![accept]), ..options.clone() }).unwrap();
        assert_eq!(only.format, want);
        assert!(only.bytes.len() >= out.bytes.len(), "{want} {} < auto {}", only.bytes.len(), out.bytes.len());
    }

    // Transparency: JPEG is never picked.
    let transparent = common::read(&common::fixtures().join("transparent.png"));
    let out = run(&transparent, &OptimizeOptions { format: TargetFormat::Auto, ..Default::default() }).unwrap();
    assert_ne!(out.format, "jpeg");
    assert!(decode_rgba(&out.bytes).pixels.chunks_exact(4).any(|p| p[3] == 0), "transparency kept");

    // A graphic with four flat colours: lossless wins.
    let (w, h) = (240u32, 160u32);
    let mut px = Vec::new();
    for y in 0..h {
        for x in 0..w {
            px.extend_from_slice(match (x / 60 + y / 40) % 4 {
                0 => &[230, 57, 70],
                1 => &[29, 53, 87],
                2 => &[241, 250, 238],
                _ => &[69, 123, 157],
            });
        }
    }
    let chart =
        mediaslim::encode(&Image::new(w, h, PixelLayout::Rgb8, px), mediaslim::OutputFormat::Png, &Default::default())
            .unwrap();
    let out = run(&chart, &OptimizeOptions { format: TargetFormat::Auto, never_bigger: false, ..Default::default() })
        .unwrap();
    assert!(
        out.lossless || out.score.unwrap() >= 99.0,
        "{} lossless={} score={:?}",
        out.format,
        out.lossless,
        out.score
    );
}

#[test]
fn auto_options_parse_and_explain_themselves() {
    let o = OptimizeOptions::from_json(
        r#"{"quality":"auto","target":"max","maxBytes":100000,"format":"auto","accept":["webp","jpeg"]}"#,
    )
    .unwrap();
    assert_eq!(o.quality, Some(Quality::Auto));
    assert_eq!(o.target, Some(TargetScore::MAX));
    assert_eq!(o.max_bytes, Some(100_000));
    assert_eq!(o.accept, Some(vec![AcceptFormat::Webp, AcceptFormat::Jpeg]));
    assert_eq!(OptimizeOptions::from_json(r#"{"target":75.5}"#).unwrap().target, Some(TargetScore(75.5)));
    for (json, needle) in [
        (r#"{"quality":"best"}"#, "\"auto\""),
        (r#"{"quality":1.5}"#, "whole number"),
        (r#"{"target":"ultra"}"#, "\"high\""),
        (r#"{"target":5}"#, "from 30 to 100"),
        (r#"{"accept":["gif"]}"#, "accept"),
    ] {
        let e = OptimizeOptions::from_json(json).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTION");
        assert!(e.to_string().contains(needle), "{json}: {e}");
    }
    let input = common::read(&common::fixtures().join("hopper.jpg"));
    let e = run(&input, &OptimizeOptions { accept: Some(vec![]), format: TargetFormat::Auto, ..Default::default() })
        .unwrap_err();
    assert!(e.to_string().contains("accept"), "{e}");
}

/// AVIF has no decoder in the core: its score comes from rav1e's reconstruction. The node
/// suite decodes the same outputs with libavif (sharp) and re-scores them.
#[cfg(feature = "avif")]
#[test]
fn auto_quality_reaches_the_target_for_avif_too() {
    let input = common::read(&common::fixtures().join("skimage-rocket.jpg"));
    let mut last = 0;
    for target in [70.0, 85.0] {
        let out = run(&input, &auto(160, TargetFormat::Avif, target)).unwrap();
        assert_eq!(&out.bytes[4..12], b"ftypavif");
        assert!(out.score.unwrap() >= target, "{target}: {:?}", out.score);
        assert!(out.bytes.len() > last);
        last = out.bytes.len();
    }
    let with_avif = OptimizeOptions {
        width: Some(160),
        format: TargetFormat::Auto,
        accept: Some(vec![AcceptFormat::Avif, AcceptFormat::Jpeg]),
        ..Default::default()
    };
    let out = run(&input, &with_avif).unwrap();
    assert!(out.score.unwrap() >= 80.0 && (out.format == "avif" || out.format == "jpeg"));
}

/// The chroma subsampling of a baseline/progressive JPEG: the luma component's sampling
/// factors in the SOF segment (0x22 = 4:2:0, 0x11 = 4:4:4).
fn jpeg_luma_sampling(jpeg: &[u8]) -> u8 {
    let mut i = 2;
    while i + 4 < jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "marker at {i}");
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if matches!(marker, 0xC0 | 0xC1 | 0xC2) {
            return jpeg[i + 11]; // FF Cx, length(2), precision(1), height(2), width(2), count(1), id(1), sampling
        }
        i += 2 + len;
    }
    panic!("no SOF segment");
}

/// A photo-like gradient under thin red and blue strokes (coloured text, fabric): detail that
/// lives in chroma, which 4:2:0 halves. At target 80, 4:2:0 needs q98 (33 KB) where 4:4:4
/// needs q83 (20 KB): the mvtb-flowers1 case in miniature.
fn chroma_detail_png() -> Vec<u8> {
    let (w, h) = (320u32, 240u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let base = [(60 + x * 120 / w) as u8, (90 + y * 100 / h) as u8, 110];
        match (x / 2 + y / 7) % 16 {
            0 => image::Rgb([150, 100, 90]),
            2 => image::Rgb([90, 110, 160]),
            _ => image::Rgb(base),
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[test]
fn auto_jpeg_tries_4_4_4_where_chroma_detail_needs_it_and_keeps_a_fixed_choice() {
    let input = chroma_detail_png();
    let mut chosen = auto(320, TargetFormat::Jpeg, 80.0);
    let out = run(&input, &chosen).unwrap();
    let score = independent_score(&input, 320, &out.bytes);
    assert!(score >= 80.0 - 0.01, "auto meets 80: {score}");

    chosen.chroma_subsampling = Some(mediaslim::encode::ChromaSubsampling::Yuv420);
    let subsampled = run(&input, &chosen).unwrap();
    assert_eq!(jpeg_luma_sampling(&subsampled.bytes), 0x22, "an explicit 4:2:0 is kept");
    chosen.chroma_subsampling = Some(mediaslim::encode::ChromaSubsampling::Yuv444);
    let full = run(&input, &chosen).unwrap();
    assert_eq!(jpeg_luma_sampling(&full.bytes), 0x11, "an explicit 4:4:4 is kept");

    // Unset, the search picks the smaller of the two that meets the target.
    let smaller = full.bytes.len().min(subsampled.bytes.len());
    assert_eq!(
        out.bytes.len(),
        smaller,
        "auto: {} B; 4:2:0 {} B (q{:?}), 4:4:4 {} B (q{:?})",
        out.bytes.len(),
        subsampled.bytes.len(),
        subsampled.quality,
        full.bytes.len(),
        full.quality
    );
    assert!(
        full.bytes.len() < subsampled.bytes.len(),
        "on this image 4:4:4 wins: {} vs {} B",
        full.bytes.len(),
        subsampled.bytes.len()
    );
    assert_eq!(jpeg_luma_sampling(&out.bytes), 0x11);
}
