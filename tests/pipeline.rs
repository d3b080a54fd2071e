//! The whole pipeline natively: formats round-trip, sizes are right, never bigger holds.

mod common;

use mediaslim::{Limits, OptimizeOptions, Quality, TargetFormat, decode, optimize};

fn run(input: &[u8], options: &OptimizeOptions) -> mediaslim::Optimized {
    optimize(input, options, &|| 0.0).unwrap()
}

#[test]
fn each_format_round_trips_with_the_asked_size() {
    let photo = common::read(&common::fixtures().join("skimage-rocket.jpg"));
    for format in [TargetFormat::Jpeg, TargetFormat::Png, TargetFormat::Webp, TargetFormat::Avif] {
        let out = run(&photo, &OptimizeOptions { width: Some(96), format, ..Default::default() });
        assert_eq!(out.width, 96);
        assert!(!out.kept_original);
        // AVIF has no decoder in the core; the node and browser suites decode it independently.
        if format != TargetFormat::Avif {
            let back = decode(&out.bytes, &Limits::default()).unwrap();
            assert_eq!((back.image.width, back.image.height), (out.width, out.height), "{format:?}");
        } else {
            assert_eq!(&out.bytes[4..12], b"ftypavif");
        }
    }
}

#[test]
fn lossless_outputs_are_exact() {
    let png = common::read(&common::fixtures().join("transparent.png"));
    let source = decode(&png, &Limits::default()).unwrap().image;
    for format in [TargetFormat::Png, TargetFormat::Webp] {
        let options = OptimizeOptions { format, lossless: Some(true), never_bigger: false, ..Default::default() };
        let out = run(&png, &options);
        let back = decode(&out.bytes, &Limits::default()).unwrap().image;
        assert_eq!(back.layout, source.layout, "{format:?}");
        // oxipng may change colours under alpha 0 (invisible); compare visible pixels.
        for (a, b) in back.pixels.chunks_exact(4).zip(source.pixels.chunks_exact(4)) {
            assert_eq!(a[3], b[3], "{format:?} alpha");
            if a[3] != 0 {
                assert_eq!(a, b, "{format:?} colour");
            }
        }
    }
}

#[test]
fn never_bigger_returns_the_input() {
    let jpeg = common::read(&common::fixtures().join("hopper.jpg"));
    // Re-encoding a small, already-compressed JPEG at quality 95 makes it bigger.
    let out = run(&jpeg, &OptimizeOptions { quality: Some(Quality::Fixed(95)), ..Default::default() });
    assert!(out.kept_original);
    // The input minus its comment segment (metadata is stripped losslessly, pixels untouched).
    let stripped = mediaslim::metadata::strip(&jpeg, mediaslim::Format::Jpeg).unwrap();
    assert!(stripped.len() < jpeg.len(), "hopper.jpg carries a COM segment");
    assert!(out.bytes == stripped, "kept bytes are the stripped input");
    let kept =
        run(&jpeg, &OptimizeOptions { quality: Some(Quality::Fixed(95)), keep_metadata: true, ..Default::default() });
    assert!(kept.kept_original && kept.bytes == jpeg, "with keepMetadata the input is returned whole");
    let forced =
        run(&jpeg, &OptimizeOptions { quality: Some(Quality::Fixed(95)), never_bigger: false, ..Default::default() });
    assert!(!forced.kept_original);
    assert!(forced.bytes.len() >= jpeg.len());
    // A resize is a different picture: never replaced by the input.
    let resized =
        run(&jpeg, &OptimizeOptions { quality: Some(Quality::Fixed(95)), width: Some(64), ..Default::default() });
    assert!(!resized.kept_original);
}

#[test]
fn an_owned_input_is_freed_and_a_kept_original_comes_back_as_its_byte_ranges() {
    // What the wasm entry points do: the core no longer holds the file, so it says which bytes
    // of the caller's copy to return, and those are exactly what the borrowed path returns.
    for (name, keep_metadata) in [("hopper.jpg", false), ("hopper.jpg", true), ("hopper.png", false)] {
        let input = common::read(&common::fixtures().join(name));
        let options = OptimizeOptions {
            quality: Some(Quality::Fixed(100)),
            keep_metadata,
            effort: Some(0),
            ..Default::default()
        };
        let borrowed = mediaslim::optimize(input.as_slice(), &options, &|| 0.0).unwrap();
        assert!(borrowed.kept_original && borrowed.original_ranges.is_none(), "{name}");
        let owned = mediaslim::optimize(input.clone(), &options, &|| 0.0).unwrap();
        assert!(owned.kept_original && owned.bytes.is_empty(), "{name}");
        let ranges = owned.original_ranges.expect("the ranges of the kept input");
        assert!(ranges.windows(2).all(|w| w[0].end < w[1].start), "{name}: in order, adjacent ones merged: {ranges:?}");
        assert_eq!(
            mediaslim::metadata::assemble(&input, &ranges),
            borrowed.bytes,
            "{name} keepMetadata {keep_metadata}"
        );
        assert_eq!(owned.original_bytes, input.len());
    }
}

#[test]
fn webp_is_lossy_by_default_and_smaller_than_lossless() {
    let photo = common::read(&common::fixtures().join("flower2.jpg"));
    let lossy = run(&photo, &OptimizeOptions { format: TargetFormat::Webp, never_bigger: false, ..Default::default() });
    let lossless = run(
        &photo,
        &OptimizeOptions {
            format: TargetFormat::Webp,
            lossless: Some(true),
            never_bigger: false,
            ..Default::default()
        },
    );
    assert_eq!(&lossy.bytes[12..16], b"VP8 ");
    assert_eq!(&lossless.bytes[12..16], b"VP8L");
    assert!(lossy.bytes.len() * 3 < lossless.bytes.len(), "{} vs {}", lossy.bytes.len(), lossless.bytes.len());
    let back = decode(&lossy.bytes, &Limits::default()).unwrap().image;
    let source = decode(&photo, &Limits::default()).unwrap().image;
    let diff = common::mean_abs_diff(&back, &source);
    assert!(diff < 4.0, "lossy WebP q80 mean error {diff}");
}

#[test]
fn scores_rise_with_quality_and_compare_agrees() {
    let photo = common::read(&common::fixtures().join("flower2.jpg"));
    let scored = |quality| {
        let o = OptimizeOptions {
            quality: Some(Quality::Fixed(quality)),
            score: true,
            never_bigger: false,
            ..Default::default()
        };
        run(&photo, &o)
    };
    let (low, high) = (scored(20), scored(90));
    let (sl, sh) = (low.score.unwrap(), high.score.unwrap());
    assert!(sl < sh && sh > 80.0 && sl < 70.0, "q20 {sl}, q90 {sh}");
    // compare() on the bytes gives the same score the pipeline reported.
    let again = mediaslim::compare(&photo, &high.bytes, &Limits::default()).unwrap();
    assert!((again - sh).abs() < 0.5, "{again} vs {sh}");
    // A resized output is compared with the source resized to match: the same number the
    // pipeline reports for it. (Small 4:2:0 JPEGs of colourful photos score low: 4:4:4 helps.)
    let small = |chroma| {
        let o = OptimizeOptions {
            width: Some(100),
            quality: Some(Quality::Fixed(90)),
            score: true,
            chroma_subsampling: Some(chroma),
            ..Default::default()
        };
        run(&photo, &o)
    };
    let s420 = small(mediaslim::encode::ChromaSubsampling::Yuv420);
    let s = mediaslim::compare(&photo, &s420.bytes, &Limits::default()).unwrap();
    assert!((s - s420.score.unwrap()).abs() < 0.01, "{s} vs {:?}", s420.score);
    let s444 = small(mediaslim::encode::ChromaSubsampling::Yuv444).score.unwrap();
    assert!(s444 > s + 5.0, "4:4:4 {s444} vs 4:2:0 {s}");
}

/// `Source::pixels` (what the WebCodecs AVIF path encodes) hands out exactly the pixels the
/// core's own encoders get: a lossless PNG of the same job decodes to them.
#[test]
fn pixels_are_what_the_encoders_get() {
    let photo = common::read(&common::fixtures().join("display-p3.jpg"));
    let png = common::read(&common::fixtures().join("transparent.png"));
    for (input, width) in [(&photo, 97), (&png, 61)] {
        let options = OptimizeOptions { width: Some(width), format: TargetFormat::Png, ..Default::default() };
        let source = mediaslim::Source::decode(input, &Limits::default(), &|| 0.0).unwrap();
        let pixels =
            source.pixels(&OptimizeOptions { format: TargetFormat::Avif, ..options.clone() }, &|| 0.0).unwrap();
        let out = run(input, &options);
        let back = decode(&out.bytes, &Limits::default()).unwrap().image;
        assert_eq!((pixels.image.width, pixels.image.height), (out.width, out.height));
        // oxipng may change colours under alpha 0 (invisible): compare visible pixels.
        let (a, b) = (pixels.image.to_rgba(), back.to_rgba());
        let differ =
            a.pixels.chunks_exact(4).zip(b.pixels.chunks_exact(4)).filter(|(p, q)| p != q && p[3] != 0).count();
        assert_eq!(differ, 0, "width {width}: {differ} visible pixels differ");
        assert!(pixels.exif.is_none());
    }
    let bad = OptimizeOptions { quality: Some(Quality::Fixed(0)), ..Default::default() };
    let source = mediaslim::Source::decode(&png, &Limits::default(), &|| 0.0).unwrap();
    assert_eq!(source.pixels(&bad, &|| 0.0).err().map(|e| e.code()), Some("INVALID_OPTION"));
}
