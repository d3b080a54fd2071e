//! Colour profiles: pixels tagged with a non-sRGB ICC profile are converted to sRGB, so
//! outputs without the profile show the same colours (the web's default space is sRGB).

use qcms::{DataType, Intent, Profile, Transform};

use crate::image::{Image, PixelLayout};

/// What became of an input's ICC profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileOutcome {
    /// Already sRGB: nothing to do, nothing to keep.
    Srgb,
    /// The pixels were converted to sRGB; the profile is no longer needed.
    Converted,
    /// The profile could not be applied (reason given); keep it with the pixels.
    NotApplied(String),
}

/// Converts `image` from the colour space of `icc` to sRGB, in place.
pub fn convert_to_srgb(image: &mut Image, icc: &[u8]) -> ProfileOutcome {
    if looks_like_srgb(icc) {
        return ProfileOutcome::Srgb;
    }
    let Some(source) = Profile::new_from_slice(icc, false) else {
        return ProfileOutcome::NotApplied("the ICC profile could not be parsed".into());
    };
    let data_type = match image.layout {
        PixelLayout::Rgb8 => DataType::RGB8,
        PixelLayout::Rgba8 => DataType::RGBA8,
    };
    let mut srgb = Profile::new_sRGB();
    srgb.precache_output_transform();
    let Some(transform) = Transform::new(&source, &srgb, data_type, Intent::Perceptual) else {
        return ProfileOutcome::NotApplied("the ICC profile is not an RGB profile qcms can apply".into());
    };
    transform.apply(&mut image.pixels);
    ProfileOutcome::Converted
}

/// sRGB profiles name themselves in their description tag ("sRGB IEC61966-2.1",
/// "sRGB built-in", ...); converting them would cost time and change nothing.
fn looks_like_srgb(icc: &[u8]) -> bool {
    // The tag table starts after the 128-byte header.
    icc.get(128..).is_some_and(|tags| tags.windows(4).any(|w| w == b"sRGB"))
}
