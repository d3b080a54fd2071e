//! EXIF orientation 1-8 comes out upright: each rotated/flipped file decodes to the same
//! pixels as its orientation-1 twin (within JPEG noise).

mod common;

use mediaslim::{Limits, OptimizeOptions, decode, optimize};

fn assert_upright(reference: &str, dir: &std::path::Path, names: &[String], tolerance: f64) {
    let want = decode(&common::read(&dir.join(reference)), &Limits::default()).unwrap().image;
    for name in names {
        let got = decode(&common::read(&dir.join(name)), &Limits::default()).unwrap();
        assert_eq!((got.image.width, got.image.height), (want.width, want.height), "{name}: not upright");
        let diff = common::mean_abs_diff(&got.image, &want);
        eprintln!("{name}: orientation {} -> mean abs diff {diff:.2}", got.orientation);
        assert!(diff < tolerance, "{name}: differs from {reference} by {diff}");
    }
}

#[test]
fn fixture_orientations_2_to_8_come_out_upright() {
    let names: Vec<String> = (2..=8).map(|n| format!("hopper_orientation_{n}.jpg")).collect();
    assert_upright("hopper.jpg", &common::fixtures(), &names, 6.0);
}

#[test]
fn corpus_landscape_and_portrait_1_to_8_come_out_upright() {
    let Some(dir) = common::corpus("orientation") else { return };
    for kind in ["Landscape", "Portrait"] {
        let names: Vec<String> = (2..=8).map(|n| format!("{kind}_{n}.jpg")).collect();
        assert_upright(&format!("{kind}_1.jpg"), &dir, &names, 6.0);
    }
}

#[test]
fn a_wrong_rotation_would_be_caught() {
    // The tolerance above is meaningful: the unrotated stored pixels differ a lot.
    let dir = common::fixtures();
    let upright = decode(&common::read(&dir.join("hopper.jpg")), &Limits::default()).unwrap().image;
    let flipped = decode(&common::read(&dir.join("hopper_orientation_3.jpg")), &Limits::default()).unwrap();
    let mut stored = flipped.image.clone();
    // Undo our 180° rotation to get the stored pixels back.
    stored.pixels = stored.pixels.chunks_exact(3).rev().flatten().copied().collect();
    assert!(common::mean_abs_diff(&stored, &upright) > 20.0);
}

#[test]
fn outputs_carry_no_orientation_tag() {
    let input = common::read(&common::fixtures().join("hopper_orientation_6.jpg"));
    for keep_metadata in [false, true] {
        let options = OptimizeOptions { keep_metadata, never_bigger: false, ..Default::default() };
        let out = optimize(&input, &options, &|| 0.0).unwrap();
        let again = decode(&out.bytes, &Limits::default()).unwrap();
        assert_eq!(again.orientation, 1, "keep_metadata={keep_metadata}");
        assert_eq!(again.exif.is_some(), keep_metadata, "EXIF kept only when asked");
    }
}

#[test]
fn webp_exif_orientation_is_applied() {
    // libwebp-written EXIF chunks keep JPEG's "Exif\0\0" prefix before the TIFF header.
    let Some(dir) = common::corpus("formats") else { return };
    let names: Vec<String> = (2..=8).map(|n| format!("hopper_orientation_{n}.webp")).collect();
    assert_upright("hopper.webp", &dir, &names, 8.0);
}
