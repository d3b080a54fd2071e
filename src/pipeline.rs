//! One declarative job: decode once -> orient -> colour-correct -> resize -> encode,
//! with "never bigger" applied to the result.

use std::borrow::Cow;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::decode::{self, color::ProfileOutcome};
use crate::encode::{self, ChromaSubsampling, EncodeOptions, Metadata, OutputFormat};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::limits::{DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_PIXELS, Limits};
use crate::quality::search::{Encoded, Goal, Search};
use crate::resize::{Fit, Kernel, ResizeRequest};
use crate::sniff::Format;

/// What a search may do beyond finding a quality.
#[derive(Debug, Clone, Copy)]
struct SearchFlags {
    /// Score fixed-quality encodes too (`score: true`).
    score_all: bool,
    /// The caller set JPEG chroma subsampling: keep it.
    keep_chroma: bool,
}

/// The output format a caller asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum TargetFormat {
    /// The input's own format (GIF and BMP inputs become PNG).
    #[default]
    Original,
    Jpeg,
    Png,
    Webp,
    Avif,
    /// The smallest of the `accept`ed formats that meets the `target` score.
    Auto,
}

/// A format the client can decode, for `format: "auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum AcceptFormat {
    Jpeg,
    Png,
    Webp,
    Avif,
}

/// Which AV1 encoder makes AVIF output. The JS layer chooses; the core itself always runs
/// its own encoder (libaom in wasm, rav1e in native builds; it only checks the value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub enum AvifEncoder {
    /// The browser's AV1 encoder (WebCodecs) when it has one and the job is a plain AVIF
    /// output; libaom in wasm otherwise.
    #[default]
    Auto,
    /// The browser's AV1 encoder; falls back to libaom in wasm, with a warning saying why.
    Webcodecs,
    /// libaom compiled to wasm: slower than the browser's, fewer bytes at the same score.
    Wasm,
}

/// `quality`: an encoder setting 1-100, or `"auto"`: the smallest output meeting `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Fixed(u8),
    Auto,
}

impl<'de> Deserialize<'de> for Quality {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quality;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number from 1 to 100 or \"auto\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Quality, E> {
                u8::try_from(v)
                    .map(Quality::Fixed)
                    .map_err(|_| E::custom(format!("got {v}; must be a whole number from 1 to 100 or \"auto\"")))
            }
            // serde-wasm-bindgen hands JS integers over as i64.
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Quality, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("got {v}; must be a whole number from 1 to 100 or \"auto\""))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Quality, E> {
                if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                    return Ok(Quality::Fixed(v as u8));
                }
                Err(E::custom(format!("got {v}; must be a whole number from 1 to 100 or \"auto\"")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Quality, E> {
                match v {
                    "auto" => Ok(Quality::Auto),
                    _ => Err(E::custom(format!("got {v:?}; must be a whole number from 1 to 100 or \"auto\""))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The SSIMULACRA2 score `quality: "auto"` aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetScore(pub f64);

impl TargetScore {
    /// `"high"`: no visible difference at a normal viewing distance for most photos.
    pub const HIGH: TargetScore = TargetScore(80.0);
    pub const MEDIUM: TargetScore = TargetScore(70.0);
    /// `"max"`: visually lossless.
    pub const MAX: TargetScore = TargetScore(90.0);
}

impl<'de> Deserialize<'de> for TargetScore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        const ALLOWED: &str = "\"medium\" (70), \"high\" (80), \"max\" (90) or a score from 30 to 100";
        impl serde::de::Visitor<'_> for V {
            type Value = TargetScore;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(ALLOWED)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<TargetScore, E> {
                if (30.0..=100.0).contains(&v) {
                    return Ok(TargetScore(v));
                }
                Err(E::custom(format!("got {v}; must be {ALLOWED}")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<TargetScore, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<TargetScore, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<TargetScore, E> {
                match v {
                    "medium" => Ok(TargetScore::MEDIUM),
                    "high" => Ok(TargetScore::HIGH),
                    "max" => Ok(TargetScore::MAX),
                    _ => Err(E::custom(format!("got {v:?}; must be {ALLOWED}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Everything `optimize` accepts. Unknown fields are errors, so typos do not pass silently.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct OptimizeOptions {
    /// Target width in pixels; alone, the height follows the aspect ratio.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub width: Option<u32>,
    /// Target height in pixels; alone, the width follows the aspect ratio.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub height: Option<u32>,
    /// How the image fits `width` x `height` (default `inside`).
    pub fit: Fit,
    /// Resampling filter (default `lanczos3`).
    pub kernel: Kernel,
    /// Allow making the image larger than its source (default false).
    pub upscale: bool,
    /// Output format (default `original`); `auto` picks the smallest of `accept` that meets
    /// `target`.
    pub format: TargetFormat,
    /// Formats the client decodes, for `format: "auto"` (default `webp`, `jpeg`, `png`; add
    /// `avif` when the wait for several AVIF encodes is worth its smaller bytes).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub accept: Option<Vec<AcceptFormat>>,
    /// 1-100 for lossy formats (JPEG, WebP, AVIF; default 80 for JPEG and WebP, 60 for
    /// AVIF), or `"auto"`: the smallest output whose SSIMULACRA2 score meets `target`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | \"auto\""))]
    pub quality: Option<Quality>,
    /// The score `quality: "auto"` aims for: `"medium"` (70), `"high"` (80, default),
    /// `"max"` (90) or a number.
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "\"medium\" | \"high\" | \"max\" | number"))]
    pub target: Option<TargetScore>,
    /// A byte budget: quality is lowered (to 40 at most) and then dimensions reduced until
    /// the output fits; an error when even a tiny image cannot.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub max_bytes: Option<u64>,
    /// 0 (fastest) to 10 (smallest output); default 4.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub effort: Option<u8>,
    /// AVIF alpha quality 1-100 (default: same as quality).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub alpha_quality: Option<u8>,
    /// AVIF: `auto` (default: the browser's WebCodecs AV1 encoder when available, else
    /// libaom in wasm), `webcodecs` or `wasm`.
    pub avif_encoder: AvifEncoder,
    /// WebP: lossless (true) or lossy (false). Default: lossy, except that a lossless WebP
    /// re-encoded as `original` stays lossless.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub lossless: Option<bool>,
    /// WebP lossy: sharper RGB->YUV conversion (slower; fewer colour fringes on edges).
    pub sharp_yuv: bool,
    /// Chroma subsampling, `4:2:0` or `4:4:4`. JPEG: 4:2:0 by default (`quality: 'auto'`
    /// picks per image unless this is set). AVIF from the wasm encoder: 4:2:0 below quality
    /// 90, 4:4:4 from 90, unless this is set; the WebCodecs path chooses its own.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub chroma_subsampling: Option<ChromaSubsampling>,
    /// Background `#rrggbb` or `#rrggbbaa` for JPEG flattening and `contain` padding.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub background: Option<String>,
    /// Also report the SSIMULACRA2 score of the output against the resized source.
    pub score: bool,
    /// Keep EXIF (orientation reset) and the original ICC profile (default false: strip,
    /// converting non-sRGB pixels to sRGB).
    pub keep_metadata: bool,
    /// Return the input when the output (same format, same size) is not smaller (default true).
    pub never_bigger: bool,
    /// Largest decoded or output image allowed, in pixels (default 100 000 000).
    pub max_pixels: u64,
    /// Largest input allowed, in bytes (default 256 MiB).
    pub max_input_bytes: u64,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        OptimizeOptions {
            width: None,
            height: None,
            fit: Fit::Inside,
            kernel: Kernel::Lanczos3,
            upscale: false,
            format: TargetFormat::Original,
            accept: None,
            quality: None,
            target: None,
            max_bytes: None,
            effort: None,
            alpha_quality: None,
            avif_encoder: AvifEncoder::Auto,
            lossless: None,
            sharp_yuv: false,
            chroma_subsampling: None,
            background: None,
            score: false,
            keep_metadata: false,
            never_bigger: true,
            max_pixels: DEFAULT_MAX_PIXELS,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

impl OptimizeOptions {
    /// Parses options from JSON, naming the offending field on error
    /// (`fit`: unknown variant `round`, expected one of `inside`, ...). JSON rather than a
    /// live JS object so that unknown fields (typos) are refused, not ignored.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::error::parse_options(json).map_err(Self::option_error)
    }

    /// [`Self::from_json`] for one parsed item of `optimizeMany`'s array.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn from_value(value: &wasm_bindgen::JsValue) -> Result<Self> {
        crate::error::options_from_value(value).map_err(Self::option_error)
    }

    fn option_error((path, mut detail): (String, String)) -> Error {
        let name = if path == "." { "options".to_string() } else { path };
        // Say what is allowed in words, not Rust type names ("expected u32").
        if let (Some(allowed), Some(at)) = (allowed_values(&name), detail.find(", expected ")) {
            detail = format!("{}; must be {allowed}", &detail[..at]);
        } else if let Some(allowed) = allowed_values(&name).filter(|_| detail.contains("null")) {
            detail = format!("got null, NaN or Infinity; must be {allowed}");
        }
        Error::option(name, detail)
    }

    pub fn limits(&self) -> Limits {
        Limits { max_pixels: self.max_pixels, max_input_bytes: self.max_input_bytes }
    }

    fn validate(&self) -> Result<()> {
        let in_range = |name: &str, v: Option<u8>, lo: u8, hi: u8| match v {
            Some(v) if !(lo..=hi).contains(&v) => {
                Err(Error::option(name, format!("must be a whole number from {lo} to {hi}, got {v}")))
            }
            _ => Ok(()),
        };
        let fixed_quality = match self.quality {
            Some(Quality::Fixed(q)) => Some(q),
            _ => None,
        };
        in_range("quality", fixed_quality, 1, 100)?;
        if self.max_bytes == Some(0) {
            return Err(Error::option("maxBytes", "must be a positive number of bytes"));
        }
        if self.accept.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::option("accept", "must list at least one of \"avif\", \"webp\", \"jpeg\", \"png\""));
        }
        in_range("alphaQuality", self.alpha_quality, 1, 100)?;
        in_range("effort", self.effort, 0, encode::MAX_EFFORT)?;
        if self.max_pixels == 0 || self.max_input_bytes == 0 {
            return Err(Error::option("maxPixels", "limits must be positive"));
        }
        Ok(())
    }

    fn background(&self) -> Result<[u8; 4]> {
        match &self.background {
            None => Ok([255, 255, 255, 0]),
            Some(s) => parse_hex_color(s).ok_or_else(|| {
                Error::option("background", format!("must be a colour like \"#ffffff\" or \"#ffffff00\", got {s:?}"))
            }),
        }
    }
}

/// Allowed values of numeric options, for error messages.
fn allowed_values(option: &str) -> Option<&'static str> {
    Some(match option {
        "width" | "height" => "a whole number of pixels from 1 to 65535",
        "quality" => "a whole number from 1 to 100 or \"auto\"",
        "alphaQuality" => "a whole number from 1 to 100",
        "maxBytes" => "a positive whole number of bytes",
        "effort" => "a whole number from 0 to 10",
        "maxPixels" | "maxInputBytes" => "a positive whole number",
        "upscale" | "keepMetadata" | "neverBigger" | "lossless" | "sharpYuv" => "true or false",
        "background" => "a colour like \"#ffffff\" or \"#ffffff00\"",
        _ => return None,
    })
}

fn parse_hex_color(s: &str) -> Option<[u8; 4]> {
    let hex = s.strip_prefix('#')?;
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    match hex.len() {
        6 => Some([byte(0)?, byte(2)?, byte(4)?, 255]),
        8 => Some([byte(0)?, byte(2)?, byte(4)?, byte(6)?]),
        _ => None,
    }
}

/// Milliseconds spent per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Timings {
    pub decode: f64,
    pub resize: f64,
    pub encode: f64,
}

/// The result of `optimize`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Optimized {
    /// The encoded image (or the input itself when `keptOriginal`).
    #[serde(with = "serde_bytes")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint8Array"))]
    pub bytes: Vec<u8>,
    /// `jpeg`, `png`, `webp` or `avif`.
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    /// Size of the input in bytes.
    pub original_bytes: usize,
    /// The encoded output was not smaller than the input, so the input was returned.
    pub kept_original: bool,
    /// The encoder quality used (lossy outputs), e.g. the one `quality: "auto"` found.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// Whether the output is lossless (PNG without a palette reduction, lossless WebP).
    pub lossless: bool,
    /// Encodes made for this output (1 unless a quality search or a byte budget ran).
    pub encodes: u32,
    /// SSIMULACRA2 of the output against the resized source, with `score: true` or
    /// `quality: "auto"`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Things the caller should know (an option a format ignores, a profile not applied).
    pub warnings: Vec<String>,
    pub timings: Timings,
    /// With `kept_original` from an owned input (`Source::decode`): the input's byte ranges to return
    /// (`bytes` is empty). js/ cuts them from its copy of the input.
    #[serde(skip)]
    pub original_ranges: Option<Vec<Range<usize>>>,
}

/// Runs one job. `now_ms` is a monotonic clock (the core has none of its own on wasm). An
/// owned input is freed once decoded (see `Source::decode`).
pub fn optimize<'a>(
    input: impl Into<Cow<'a, [u8]>>,
    options: &OptimizeOptions,
    now_ms: &dyn Fn() -> f64,
) -> Result<Optimized> {
    options.validate()?;
    Source::decode(input, &options.limits(), now_ms)?.render(options, now_ms)
}

/// Decodes once and renders every set of options (a responsive ladder: widths x formats).
/// One output failing (an option it alone has wrong) does not fail the others.
pub fn optimize_many<'a>(
    input: impl Into<Cow<'a, [u8]>>,
    options: &[OptimizeOptions],
    now_ms: &dyn Fn() -> f64,
) -> Result<Vec<Result<Optimized>>> {
    let limits = options.iter().fold(Limits::default(), |l, o| Limits {
        max_pixels: l.max_pixels.min(o.max_pixels),
        max_input_bytes: l.max_input_bytes.min(o.max_input_bytes),
    });
    let source = Source::decode(input, &limits, now_ms)?;
    Ok(options.iter().map(|o| o.validate().and_then(|()| source.render(o, now_ms))).collect())
}

/// SSIMULACRA2 of `distorted` against `reference` (both encoded images). The reference is
/// resized to the distorted image's size first, so an output can be compared with its source.
pub fn compare(reference: &[u8], distorted: &[u8], limits: &Limits) -> Result<f64> {
    let now = || 0.0;
    let reference = Source::decode(reference, limits, &now)?;
    let distorted = Source::decode(distorted, limits, &now)?;
    let (want, _) = distorted.srgb_image();
    let (have, _) = reference.srgb_image();
    let request = ResizeRequest {
        width: Some(want.width),
        height: Some(want.height),
        fit: Fit::Fill,
        kernel: Kernel::Lanczos3,
        upscale: true,
        background: [0; 4],
    };
    let plan = request.plan(have.width, have.height)?;
    let resized = crate::resize::resize(have, &plan, &request, limits)?;
    crate::quality::ssimulacra2(&resized, want)
}

/// What `Source::pixels` hands to an encoder outside the core.
pub struct Pixels {
    /// RGB8, or RGBA8 when the source has an alpha channel.
    pub image: Image,
    /// EXIF to write (orientation reset), with `keepMetadata`.
    pub exif: Option<Vec<u8>>,
    pub warnings: Vec<String>,
    /// Decode and resize times (encode is 0: it happens elsewhere).
    pub timings: Timings,
}

/// The state `render` encodes from, made by `Source::prepare`.
struct Prepared<'s> {
    background: [u8; 4],
    warnings: Vec<String>,
    target: OutputFormat,
    icc_to_write: Option<Vec<u8>>,
    /// The colour-converted, unresized source (a byte budget resizes it again).
    image: &'s Image,
    request: ResizeRequest,
    source_size: (u32, u32),
    resized: std::borrow::Cow<'s, Image>,
    t1: f64,
    t2: f64,
}

/// A decoded input, ready to render any number of outputs from the same pixels.
pub struct Source<'a> {
    /// The input file while the caller holds it; `None` when it was handed over owned (the
    /// wasm entry points): `decode` frees it so that it does not sit next to the pixels.
    input: Option<&'a [u8]>,
    original: Original,
    decoded: decode::Decoded,
    limits: Limits,
    decode_ms: f64,
    /// The pixels converted to sRGB, made on first need and shared by later outputs.
    srgb: std::cell::OnceCell<(crate::image::Image, ProfileOutcome)>,
}

/// What outputs need of the input file besides its pixels, read while decoding.
struct Original {
    len: usize,
    lossless_webp: bool,
    /// The file without its metadata, as byte ranges of it (`metadata::kept_ranges`); `None`
    /// when it cannot be stripped losslessly.
    stripped: Option<Vec<Range<usize>>>,
}

impl<'a> Source<'a> {
    /// Decodes `input`. A borrowed input is kept for outputs that return the original
    /// (`neverBigger`); an owned one (the wasm entry points') is freed here, since a big PNG's
    /// file is about as large as its pixels: such an output then carries the original's byte
    /// ranges in `original_ranges` and no bytes, for the caller to cut from its own copy.
    pub fn decode(input: impl Into<Cow<'a, [u8]>>, limits: &Limits, now_ms: &dyn Fn() -> f64) -> Result<Self> {
        let t0 = now_ms();
        let input = input.into();
        let decoded = decode::decode(&input, limits)?;
        let original = Original {
            len: input.len(),
            lossless_webp: decoded.format == Format::Webp && decode::webp::is_lossless(&input),
            stripped: crate::metadata::kept_ranges(&input, decoded.format),
        };
        let input = match input {
            Cow::Borrowed(bytes) => Some(bytes),
            Cow::Owned(file) => {
                drop(file);
                None
            }
        };
        let decode_ms = now_ms() - t0;
        Ok(Source { input, original, decoded, limits: *limits, decode_ms, srgb: std::cell::OnceCell::new() })
    }

    /// The input as "never bigger" may return it, as byte ranges: whole with `keepMetadata`,
    /// else with its metadata stripped losslessly. An EXIF-rotated input cannot lose its EXIF
    /// (it would show sideways), so without `keepMetadata` it is never returned.
    fn keepable_original(&self, options: &OptimizeOptions) -> Option<Vec<Range<usize>>> {
        if options.keep_metadata {
            return Some(std::iter::once(0..self.original.len).collect());
        }
        if self.decoded.orientation != 1 {
            return None;
        }
        self.original.stripped.clone()
    }

    /// Upright pixels as the web shows them: sRGB (when the profile could be applied).
    pub fn srgb_image(&self) -> (&crate::image::Image, Option<&ProfileOutcome>) {
        match (&self.decoded.icc_profile, self.decoded.was_cmyk) {
            (Some(icc), false) => {
                let (image, outcome) = self.srgb.get_or_init(|| {
                    let mut image = self.decoded.image.clone();
                    let outcome = decode::color::convert_to_srgb(&mut image, icc);
                    (image, outcome)
                });
                (image, Some(outcome))
            }
            _ => (&self.decoded.image, None),
        }
    }

    /// The stages before encoding: orientation is already applied; colour to sRGB (unless the
    /// profile is kept), then the resize. Shared by `render` and `pixels`.
    fn prepare(&self, options: &OptimizeOptions, now_ms: &dyn Fn() -> f64) -> Result<Prepared<'_>> {
        let background = options.background()?;
        let mut warnings = Vec::new();
        let decoded = &self.decoded;
        if decoded.frame_count > 1 {
            warnings.push(format!(
                "animated input ({} frames): only the first frame was kept (animation needs the video pipeline)",
                decoded.frame_count
            ));
        }
        let target = output_format(options.format, decoded.format, &mut warnings);

        // Colour: converted to sRGB unless the profile is kept (and the container can hold it).
        let keep_icc = options.keep_metadata && target.supports_icc();
        let mut icc_to_write = None;
        let mut image = &decoded.image;
        if let Some(icc) = &decoded.icc_profile {
            if decoded.was_cmyk {
                warnings.push(
                    "CMYK source: its ICC profile describes CMYK, not the converted RGB; it was not applied".into(),
                );
            } else if keep_icc {
                icc_to_write = Some(icc.clone());
            } else {
                if options.keep_metadata {
                    warnings.push(format!(
                        "{} output cannot carry an ICC profile: the pixels were converted to sRGB instead",
                        target.name()
                    ));
                }
                let (srgb, outcome) = self.srgb_image();
                image = srgb;
                match outcome {
                    Some(ProfileOutcome::NotApplied(why)) if target.supports_icc() => {
                        warnings.push(format!("{why}; the profile was kept in the output so colours stay right"));
                        icc_to_write = Some(icc.clone());
                    }
                    Some(ProfileOutcome::NotApplied(why)) => {
                        warnings.push(format!("{why}; {} cannot carry it, so colours may differ", target.name()));
                    }
                    _ => {}
                }
            }
        }
        let t1 = now_ms();

        let request = ResizeRequest {
            width: options.width,
            height: options.height,
            fit: options.fit,
            kernel: options.kernel,
            upscale: options.upscale,
            background,
        };
        let source_size = (image.width, image.height);
        let plan = request.plan(source_size.0, source_size.1)?;
        let resized = crate::resize::resize(image, &plan, &request, &self.limits)?;
        let t2 = now_ms();
        Ok(Prepared { background, warnings, target, icc_to_write, image, request, source_size, resized, t1, t2 })
    }

    /// The pixels an output for `options` is encoded from (decoded, upright, sRGB, resized),
    /// with the EXIF to keep and the warnings of those stages: for encoders outside the core
    /// (a browser's WebCodecs AV1 encoder).
    pub fn pixels(&self, options: &OptimizeOptions, now_ms: &dyn Fn() -> f64) -> Result<Pixels> {
        options.validate()?;
        let p = self.prepare(options, now_ms)?;
        Ok(Pixels {
            image: p.resized.into_owned(),
            exif: if options.keep_metadata { self.decoded.exif.clone() } else { None },
            warnings: p.warnings,
            timings: Timings { decode: self.decode_ms, resize: p.t2 - p.t1, encode: 0.0 },
        })
    }

    pub fn render(&self, options: &OptimizeOptions, now_ms: &dyn Fn() -> f64) -> Result<Optimized> {
        let decoded = &self.decoded;
        let Prepared { background, mut warnings, target, icc_to_write, image, request, source_size, resized, t1, t2 } =
            self.prepare(options, now_ms)?;

        let lossless = match (target, options.lossless) {
            (OutputFormat::Webp, Some(l)) => l,
            (OutputFormat::Webp, None) => options.format == TargetFormat::Original && self.original.lossless_webp,
            (OutputFormat::Png, _) | (_, None | Some(false)) => false,
            (_, Some(true)) => {
                return Err(Error::option(
                    "lossless",
                    format!("{} has no lossless mode here: use format \"webp\" or \"png\"", target.name()),
                ));
            }
        };
        let auto_format = options.format == TargetFormat::Auto;
        let goal = match options.quality {
            _ if auto_format => Goal::Score(options.target.unwrap_or(TargetScore::HIGH).0),
            Some(Quality::Auto) => Goal::Score(options.target.unwrap_or(TargetScore::HIGH).0),
            Some(Quality::Fixed(q)) => Goal::Quality(Some(q)),
            None => Goal::Quality(None),
        };
        if (options.score || matches!(goal, Goal::Score(_))) && !crate::quality::CAN_SCORE {
            return Err(Error::not_built("SSIMULACRA2 scoring", "score"));
        }
        if let (true, Some(Quality::Fixed(q))) = (auto_format, options.quality) {
            warnings.push(format!(
                "quality {q} is ignored with format \"auto\": formats are compared at the target score instead"
            ));
        }
        if options.target.is_some() && matches!(goal, Goal::Quality(_)) {
            warnings.push("target is used only with quality \"auto\" or format \"auto\"".into());
        }
        if let Goal::Quality(Some(_)) = goal
            && !encode::is_lossy(target, lossless)
        {
            warnings.push(format!("quality is ignored: {} output is lossless", target.name()));
        }
        let encode_options = EncodeOptions {
            quality: None,
            effort: options.effort.unwrap_or(encode::DEFAULT_EFFORT),
            chroma_subsampling: options.chroma_subsampling.unwrap_or(ChromaSubsampling::Yuv420),
            avif_chroma: options.chroma_subsampling,
            alpha_quality: options.alpha_quality,
            background: [background[0], background[1], background[2]],
            lossless,
            sharp_yuv: options.sharp_yuv,
            metadata: Metadata {
                icc_profile: icc_to_write,
                exif: if options.keep_metadata { decoded.exif.clone() } else { None },
            },
        };
        let max_bytes = options.max_bytes.map(|b| usize::try_from(b).unwrap_or(usize::MAX));
        let formats = if auto_format { self.auto_formats(options, &resized)? } else { vec![target] };

        // Encode; with a byte budget that quality alone cannot meet, shrink and try again.
        let search_flags = SearchFlags { score_all: options.score, keep_chroma: options.chroma_subsampling.is_some() };
        let mut resized = resized;
        let mut encodes = 0;
        let mut encoded = self.encode_best(
            &resized,
            &formats,
            lossless,
            goal,
            max_bytes,
            &encode_options,
            search_flags,
            &mut encodes,
        )?;
        if let Some(max) = max_bytes {
            let budget_note = |e: &Encoded| match (e.quality, e.colors) {
                (Some(q), _) => format!("quality {q}"),
                (_, Some(c)) => format!("{c} colours"),
                _ => "lossless".to_string(),
            };
            let first_fit = encoded.bytes.len() <= max;
            for _ in 0..6 {
                if encoded.bytes.len() <= max || resized.width <= 16 || resized.height <= 16 {
                    break;
                }
                // Bytes scale roughly with pixels: aim 10% under the budget.
                let scale = ((max as f64 / encoded.bytes.len() as f64).sqrt() * 0.9).min(0.9);
                let w = ((f64::from(resized.width) * scale) as u32).max(16);
                let h = ((f64::from(resized.height) * scale) as u32).max(16);
                let smaller =
                    ResizeRequest { width: Some(w), height: Some(h), fit: Fit::Fill, upscale: false, ..request };
                let plan = smaller.plan(source_size.0, source_size.1)?;
                resized = crate::resize::resize(image, &plan, &smaller, &self.limits)?;
                encoded = self.encode_best(
                    &resized,
                    &[encoded.format],
                    encoded.lossless,
                    goal,
                    Some(max),
                    &encode_options,
                    search_flags,
                    &mut encodes,
                )?;
            }
            if encoded.bytes.len() > max {
                return Err(Error::option(
                    "maxBytes",
                    format!(
                        "cannot fit {max} bytes: the smallest {} output made ({}x{}, {}) is {} bytes",
                        encoded.format.name(),
                        resized.width,
                        resized.height,
                        budget_note(&encoded),
                        encoded.bytes.len()
                    ),
                ));
            }
            if !first_fit {
                warnings.push(format!(
                    "maxBytes: resized to {}x{} ({}) to fit {max} bytes",
                    resized.width,
                    resized.height,
                    budget_note(&encoded)
                ));
            } else if let Goal::Score(target) = goal
                && encoded.score.is_some_and(|s| s < target)
            {
                warnings.push(format!(
                    "maxBytes: {} to fit {max} bytes, below the target score {target} (got {:.1})",
                    budget_note(&encoded),
                    encoded.score.unwrap_or_default()
                ));
            } else if let (Goal::Quality(asked), Some(q)) = (goal, encoded.quality)
                && asked.unwrap_or(encode::default_quality(encoded.format)) != q
            {
                warnings.push(format!("maxBytes: quality lowered to {q} to fit {max} bytes"));
            }
        }
        if let Goal::Score(target) = goal
            && encoded.score.is_some_and(|s| s < target)
            && max_bytes.is_none_or(|m| encoded.bytes.len() <= m && encoded.quality == Some(100))
        {
            warnings.push(format!(
                "target score {target} not reached: the best {} output scores {:.1}",
                encoded.format.name(),
                encoded.score.unwrap_or_default()
            ));
        }
        let target = encoded.format;
        if target == OutputFormat::Jpeg && resized.has_alpha_channel() && resized.has_transparency() {
            warnings.push("JPEG has no transparency: transparent pixels were flattened onto the background".into());
        }
        let t3 = now_ms();

        let timings = Timings { decode: self.decode_ms, resize: t2 - t1, encode: t3 - t2 };
        let mut out = Optimized {
            bytes: encoded.bytes,
            format: target.name(),
            width: resized.width,
            height: resized.height,
            original_bytes: self.original.len,
            kept_original: false,
            original_ranges: None,
            quality: encoded.quality,
            lossless: encoded.lossless,
            encodes,
            score: encoded.score,
            warnings,
            timings,
        };
        // Keeping the input is honest only when it shows the same picture: same format, no
        // resize. (An EXIF-rotated input still displays upright in every current browser.)
        let same_shape = same_format(decoded.format, target) && (resized.width, resized.height) == source_size;
        if options.never_bigger
            && same_shape
            && let Some(ranges) = self.keepable_original(options)
            && out.bytes.len() >= ranges.iter().map(|r| r.len()).sum()
        {
            match self.input {
                Some(input) => out.bytes = crate::metadata::assemble(input, &ranges),
                None => {
                    out.bytes = Vec::new();
                    out.original_ranges = Some(ranges);
                }
            }
            out.kept_original = true;
            out.quality = None;
            out.lossless = decoded.format == Format::Png;
            out.score = None;
        }
        if (options.score || matches!(goal, Goal::Score(_))) && out.score.is_none() {
            if Search::can_score(target) {
                let scorer = Search::new(&resized, &encode_options, self.limits);
                out.score = Some(scorer.score(target, &out.bytes)?);
            } else {
                out.warnings.push("score: AVIF is scored while encoding, which needs the full (AVIF) module".into());
            }
        }
        Ok(out)
    }

    /// Encodes `image` in each of `formats` for `goal` and keeps the smallest that meets it
    /// (or, when none does, the best-scoring one).
    #[allow(clippy::too_many_arguments)]
    fn encode_best(
        &self,
        image: &Image,
        formats: &[OutputFormat],
        lossless: bool,
        goal: Goal,
        max_bytes: Option<usize>,
        options: &EncodeOptions,
        flags: SearchFlags,
        encodes: &mut u32,
    ) -> Result<Encoded> {
        let mut search =
            Search::new(image, options, self.limits).score_every_encode(flags.score_all).keep_chroma(flags.keep_chroma);
        let auto = formats.len() > 1;
        let mut best: Option<Encoded> = None;
        for &format in formats {
            // Graphics (few colours) often compress best losslessly: let lossless WebP compete.
            let lossless_too = auto && format == OutputFormat::Webp && few_colors(image);
            let budget = if auto { None } else { max_bytes };
            let mut trials = vec![search.run(format, lossless && !auto, goal, budget)?];
            if lossless_too {
                trials.push(search.lossless(OutputFormat::Webp)?);
            }
            for trial in trials {
                let meets = |e: &Encoded| match goal {
                    Goal::Score(t) => e.score.is_some_and(|s| s >= t),
                    Goal::Quality(_) => true,
                };
                let better = match &best {
                    None => true,
                    Some(b) => match (meets(&trial), meets(b)) {
                        (true, false) => true,
                        (false, true) => false,
                        (true, true) => trial.bytes.len() < b.bytes.len(),
                        (false, false) => trial.score > b.score,
                    },
                };
                if better {
                    best = Some(trial);
                }
            }
        }
        let mut best = best.ok_or_else(|| Error::option("accept", "no format to encode"))?;
        if auto && let Some(max) = max_bytes.filter(|&m| best.bytes.len() > m) {
            best = search.run(best.format, best.lossless, Goal::Quality(best.quality), Some(max))?;
            if matches!(goal, Goal::Score(_)) && best.score.is_none() && Search::can_score(best.format) {
                best.score = Some(search.score(best.format, &best.bytes)?);
            }
        }
        *encodes += search.encodes;
        Ok(best)
    }

    /// The formats `format: "auto"` compares: those accepted that can be scored here, without
    /// JPEG for images with real transparency.
    fn auto_formats(&self, options: &OptimizeOptions, image: &Image) -> Result<Vec<OutputFormat>> {
        let accept = options.accept.clone().unwrap_or_else(|| {
            // AVIF only when asked for: its search costs several AVIF encodes, each slow in wasm.
            vec![AcceptFormat::Webp, AcceptFormat::Jpeg, AcceptFormat::Png]
        });
        let transparent = image.has_transparency();
        let photo_alternative =
            accept.contains(&AcceptFormat::Webp) || accept.contains(&AcceptFormat::Jpeg) && !transparent;
        let graphic = photo_alternative.then(|| few_colors(image));
        let mut formats = Vec::new();
        for a in accept {
            let format = match a {
                AcceptFormat::Jpeg => OutputFormat::Jpeg,
                AcceptFormat::Png => OutputFormat::Png,
                AcceptFormat::Webp => OutputFormat::Webp,
                AcceptFormat::Avif => OutputFormat::Avif,
            };
            if format == OutputFormat::Jpeg && transparent || formats.contains(&format) {
                continue;
            }
            // A palette cannot meet a photo's target smaller than WebP or JPEG can: skip the
            // search (the slow part of auto) unless PNG is all the client takes.
            if format == OutputFormat::Png && graphic == Some(false) {
                continue;
            }
            if !Search::can_score(format) {
                // A build without the AVIF encoder: js/ reruns the job in the module that has
                // it rather than leave AVIF out of the comparison.
                return Err(Error::not_built("the AVIF encoder", "avif"));
            }
            formats.push(format);
        }
        if formats.is_empty() {
            // Only JPEG was accepted for a transparent image: flatten rather than fail.
            formats.push(OutputFormat::Jpeg);
        }
        Ok(formats)
    }
}

/// Whether an image has at most 1024 distinct colours (a logo, a chart, a screenshot of text):
/// such images often compress best losslessly. Photos exit after a few thousand pixels.
fn few_colors(image: &Image) -> bool {
    let channels = image.layout.channels();
    let mut seen = std::collections::HashSet::new();
    for p in image.pixels.chunks_exact(channels) {
        let key = u32::from_le_bytes([p[0], p[1], p[2], if channels == 4 { p[3] } else { 255 }]);
        if seen.insert(key) && seen.len() > 1024 {
            return false;
        }
    }
    true
}

fn same_format(source: Format, target: OutputFormat) -> bool {
    matches!(
        (source, target),
        (Format::Jpeg, OutputFormat::Jpeg) | (Format::Png, OutputFormat::Png) | (Format::Webp, OutputFormat::Webp)
    )
}

fn output_format(target: TargetFormat, source: Format, warnings: &mut Vec<String>) -> OutputFormat {
    match target {
        TargetFormat::Jpeg => OutputFormat::Jpeg,
        TargetFormat::Png => OutputFormat::Png,
        TargetFormat::Webp => OutputFormat::Webp,
        TargetFormat::Avif => OutputFormat::Avif,
        // Stands in until the search picks one: every format it can pick carries ICC.
        TargetFormat::Auto => OutputFormat::Webp,
        TargetFormat::Original => match source {
            Format::Jpeg => OutputFormat::Jpeg,
            Format::Png => OutputFormat::Png,
            Format::Webp => OutputFormat::Webp,
            Format::Avif => OutputFormat::Avif,
            Format::Gif | Format::Bmp => {
                warnings.push(format!("{} input is re-encoded as PNG", source.name().to_uppercase()));
                OutputFormat::Png
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_errors_name_the_option_and_the_allowed_values() {
        let e = OptimizeOptions::from_json(r#"{"fit":"round"}"#).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTION");
        assert!(e.to_string().contains("`fit`") && e.to_string().contains("cover"), "{e}");
        let e = OptimizeOptions::from_json(r#"{"widht":100}"#).unwrap_err();
        assert!(e.to_string().contains("widht") && e.to_string().contains("width"), "{e}");
        let e = OptimizeOptions::from_json(r#"{"width":-1}"#).unwrap_err();
        assert!(e.to_string().contains("`width`"), "{e}");
        let o = OptimizeOptions::from_json(r#"{"quality":0}"#).unwrap();
        assert!(o.validate().unwrap_err().to_string().contains("from 1 to 100"));
        assert_eq!(OptimizeOptions::from_json("{}").unwrap(), OptimizeOptions::default());
    }

    #[test]
    fn options_errors_name_the_failing_field_among_good_ones() {
        let name = |json: &str| match OptimizeOptions::from_json(json).unwrap_err() {
            Error::InvalidOption { name, detail } => format!("{name}: {detail}"),
            e => panic!("{e}"),
        };
        assert_eq!(
            name(r#"{"width":100,"quality":"x","fit":"cover"}"#),
            r#"quality: got "x"; must be a whole number from 1 to 100 or "auto""#
        );
        assert!(name(r#"{"format":"webp","accept":["webp","tiff"]}"#).starts_with("accept[1]: unknown variant `tiff`"));
        assert!(name(r#"{"upscale":true,"effort":3.5}"#).starts_with("effort: invalid type: floating point `3.5`"));
        assert!(name(r#""webp""#).starts_with("options: invalid type: string"));
    }

    #[test]
    fn background_colours_parse() {
        assert_eq!(parse_hex_color("#ff8000"), Some([255, 128, 0, 255]));
        assert_eq!(parse_hex_color("#ff800080"), Some([255, 128, 0, 128]));
        assert_eq!(parse_hex_color("ff8000"), None);
        assert_eq!(parse_hex_color("#ff80"), None);
    }
}
