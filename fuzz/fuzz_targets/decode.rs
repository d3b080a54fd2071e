//! Every decoder path (JPEG, PNG/APNG, GIF, WebP, BMP) through `decode` with a 4 MP budget
//! (so legitimately large headers are refused instead of exhausting the fuzzer's memory),
//! then the stages that read more untrusted data: the ICC profile (qcms) via the sRGB
//! conversion, and the placeholder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::pipeline::Source;
use mediaslim::{Limits, placeholder};

const LIMITS: Limits = Limits { max_pixels: 4_000_000, max_input_bytes: 16 << 20 };

fuzz_target!(|data: &[u8]| {
    match mediaslim::decode(data, &LIMITS) {
        Ok(d) => {
            let img = &d.image;
            assert!(img.width > 0 && img.height > 0);
            assert!(u64::from(img.width) * u64::from(img.height) <= LIMITS.max_pixels);
            assert_eq!(img.pixels.len(), img.width as usize * img.height as usize * img.layout.channels());
            assert!((1..=8).contains(&d.orientation));
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    }
    let Ok(source) = Source::decode(data, &LIMITS, &|| 0.0) else { panic!("decoded once, not twice") };
    let (srgb, _) = source.srgb_image();
    assert_eq!(srgb.pixels.len(), srgb.width as usize * srgb.height as usize * srgb.layout.channels());
    if let Err(e) = placeholder(&source) {
        assert!(!e.to_string().is_empty());
    }
});
