//! Header-only paths on untrusted bytes: sniff, probe, and the chunk walkers that run
//! without a decoder (metadata stripping for "never bigger", the WebP lossless check).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::{Format, Limits};

fuzz_target!(|data: &[u8]| {
    let format = mediaslim::sniff(data);
    match mediaslim::probe(data, &Limits::default()) {
        Ok(info) => {
            assert_eq!(format.as_ref().ok().map(|f| f.name()), Some(info.format));
            assert!((1..=8).contains(&info.orientation), "orientation {}", info.orientation);
            assert!(info.frame_count >= 1);
            let swapped = (info.width, info.height) == (info.stored_height, info.stored_width);
            let same = (info.width, info.height) == (info.stored_width, info.stored_height);
            assert!(swapped || same);
        }
        Err(e) => assert!(!e.to_string().is_empty() && !e.code().is_empty()),
    }
    // Run every walker on every input, whatever its magic says: they must not trust it.
    for f in [Format::Jpeg, Format::Png, Format::Webp, Format::Gif, Format::Bmp, Format::Avif] {
        if let Some(stripped) = mediaslim::metadata::strip(data, f) {
            assert!(stripped.len() <= data.len(), "stripping made {} bytes from {}", stripped.len(), data.len());
        }
    }
    let _ = mediaslim::decode::webp::is_lossless(data);
});
