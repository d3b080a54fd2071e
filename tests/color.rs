//! A non-sRGB profile is converted to sRGB (or kept), never dropped with wrong colours.

mod common;

use mediaslim::{Limits, OptimizeOptions, TargetFormat, decode, optimize};

fn png_of(input: &[u8], options: OptimizeOptions) -> mediaslim::decode::Decoded {
    let options = OptimizeOptions { format: TargetFormat::Png, never_bigger: false, ..options };
    let out = optimize(input, &options, &|| 0.0).unwrap();
    decode(&out.bytes, &Limits::default()).unwrap()
}

#[test]
fn display_p3_pixels_are_converted_to_srgb() {
    let dir = common::fixtures();
    // display-p3.jpg is flower2.jpg converted into Display P3 by libvips (q95, 4:4:4).
    let p3 = common::read(&dir.join("display-p3.jpg"));
    let reference = png_of(&common::read(&dir.join("flower2.jpg")), OptimizeOptions::default());

    let converted = png_of(&p3, OptimizeOptions::default());
    assert!(converted.icc_profile.is_none(), "stripped output must not need a profile");
    let diff_converted = common::mean_abs_diff(&converted.image, &reference.image);

    // What a tool that drops the profile shows: the raw P3 numbers read as sRGB.
    let raw = decode(&p3, &Limits::default()).unwrap();
    let diff_dropped = common::mean_abs_diff(&raw.image, &reference.image);
    eprintln!("vs sRGB original: converted {diff_converted:.2}, profile dropped {diff_dropped:.2}");
    assert!(diff_converted < 2.5, "converted colours differ by {diff_converted}");
    assert!(diff_dropped > diff_converted * 2.0, "the test image must show the difference");
}

#[test]
fn keep_metadata_keeps_the_profile_and_the_pixels() {
    let p3 = common::read(&common::fixtures().join("display-p3.jpg"));
    let kept = png_of(&p3, OptimizeOptions { keep_metadata: true, ..Default::default() });
    let source = decode(&p3, &Limits::default()).unwrap();
    assert_eq!(kept.icc_profile, source.icc_profile, "profile kept byte for byte");
    assert!(common::mean_abs_diff(&kept.image, &source.image) < 0.01, "pixels untouched when the profile is kept");
}
