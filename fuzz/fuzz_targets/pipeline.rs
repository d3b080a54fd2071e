//! The whole pipeline with fuzzed options. Input layout: one byte `n`, then `n` bytes that
//! build an options object (as JSON, through the same parser the JS layer uses), then the
//! image. A seed of `0x00` + an image file runs that image with default options. Sizes stay
//! small and the pixel budget tight so each run takes milliseconds, not seconds.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mediaslim::{OptimizeOptions, optimize};
use serde_json::{Map, Value, json};

#[derive(Arbitrary, Debug)]
struct Opts {
    width: Option<u16>,
    height: Option<u16>,
    fit: Option<u8>,
    kernel: Option<u8>,
    upscale: Option<bool>,
    format: Option<u8>,
    accept: Option<Vec<u8>>,
    quality: Option<u8>,
    target: Option<u8>,
    max_bytes: Option<u32>,
    effort: Option<u8>,
    alpha_quality: Option<u8>,
    lossless: Option<bool>,
    sharp_yuv: Option<bool>,
    chroma: Option<bool>,
    background: Option<u32>,
    score: Option<bool>,
    keep_metadata: Option<bool>,
    never_bigger: Option<bool>,
    max_pixels: Option<u32>,
    /// Raw text appended to the JSON object as a field (exercises the error paths).
    junk: Option<String>,
}

fn pick<'a>(i: u8, from: &[&'a str]) -> &'a str {
    from[usize::from(i) % from.len()]
}

impl Opts {
    fn to_json(&self) -> String {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        // Output sizes up to 511 px: enough for every resize path, cheap enough to fuzz.
        if let Some(w) = self.width {
            put("width", json!(w % 512));
        }
        if let Some(h) = self.height {
            put("height", json!(h % 512));
        }
        if let Some(f) = self.fit {
            put("fit", json!(pick(f, &["inside", "cover", "contain", "fill", "round"])));
        }
        if let Some(k) = self.kernel {
            put("kernel", json!(pick(k, &["lanczos3", "mitchell", "linear", "nearest"])));
        }
        if let Some(u) = self.upscale {
            put("upscale", json!(u));
        }
        // No AVIF here: the fuzz build has no AVIF encoder (it would be refused anyway).
        if let Some(f) = self.format {
            put("format", json!(pick(f, &["original", "jpeg", "png", "webp", "auto", "avif"])));
        }
        if let Some(a) = &self.accept {
            let list: Vec<_> = a.iter().take(5).map(|&i| pick(i, &["jpeg", "png", "webp", "avif"])).collect();
            put("accept", json!(list));
        }
        if let Some(q) = self.quality {
            // Mostly fixed qualities; "auto" (a search of several encodes) now and then.
            put("quality", if q >= 250 { json!("auto") } else { json!(q % 102) });
        }
        if let Some(t) = self.target {
            put("target", match t % 5 {
                0 => json!("medium"),
                1 => json!("high"),
                2 => json!("max"),
                _ => json!(f64::from(t % 80) + 25.0),
            });
        }
        if let Some(b) = self.max_bytes {
            put("maxBytes", json!(b % 200_000));
        }
        if let Some(e) = self.effort {
            // Effort >= 7 makes oxipng and libwebp slow; the high levels are still reached.
            put("effort", json!(if e >= 250 { e % 12 } else { e % 7 }));
        }
        if let Some(q) = self.alpha_quality {
            put("alphaQuality", json!(q % 102));
        }
        if let Some(l) = self.lossless {
            put("lossless", json!(l));
        }
        if let Some(s) = self.sharp_yuv {
            put("sharpYuv", json!(s));
        }
        if let Some(c) = self.chroma {
            put("chromaSubsampling", json!(if c { "4:4:4" } else { "4:2:0" }));
        }
        if let Some(b) = self.background {
            let s = if b & 1 == 0 { format!("#{:06x}", b >> 8) } else { format!("#{b:08x}") };
            put("background", json!(s));
        }
        if let Some(s) = self.score {
            put("score", json!(s));
        }
        if let Some(k) = self.keep_metadata {
            put("keepMetadata", json!(k));
        }
        if let Some(n) = self.never_bigger {
            put("neverBigger", json!(n));
        }
        // Never above 1 MP: the pixel budget the fuzzer may allocate for.
        put("maxPixels", json!(self.max_pixels.map_or(1_000_000, |p| u64::from(p) % 1_000_001)));
        let mut s = Value::Object(m).to_string();
        if let Some(junk) = &self.junk
            && junk.len() < 64
        {
            s.pop();
            s.push_str(junk);
            s.push('}');
        }
        s
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let (head, image) = rest.split_at(usize::from(n).min(rest.len()));
    // An exhausted Unstructured yields None for every option: defaults.
    let Ok(opts) = Opts::arbitrary(&mut Unstructured::new(head)) else { return };
    let json = opts.to_json();
    // To turn a find into a regression fixture (tests/fixtures/fuzz/<name>.json + image):
    // MEDIASLIM_FUZZ_DUMP=dir cargo +nightly fuzz run pipeline <artifact>
    if let Ok(dir) = std::env::var("MEDIASLIM_FUZZ_DUMP") {
        let _ = std::fs::write(format!("{dir}/case.json"), &json);
        let _ = std::fs::write(format!("{dir}/case.bin"), image);
    }
    let options = match OptimizeOptions::from_json(&json) {
        Ok(o) => o,
        Err(e) => {
            assert_eq!(e.code(), "INVALID_OPTION", "{json}: {e}");
            return;
        }
    };
    if options.max_pixels > 1_000_000 || options.width.is_some_and(|w| w > 511) || options.height.is_some_and(|h| h > 511) {
        return; // junk overrode a bound: not what this target measures
    }
    match optimize(image, &options, &|| 0.0) {
        Ok(out) => {
            assert!(!out.bytes.is_empty(), "{json}");
            assert!(out.width > 0 && out.height > 0, "{json}");
            if let Some(max) = options.max_bytes {
                assert!(out.bytes.len() as u64 <= max, "{json}: {} bytes over maxBytes", out.bytes.len());
            }
            if options.never_bigger && out.kept_original {
                assert!(out.bytes.len() <= image.len());
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "{json}"),
    }
});
