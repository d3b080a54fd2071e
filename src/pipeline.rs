//! One declarative job: decode once -> orient -> colour-correct -> resize -> encode,
//! with "never bigger" applied to the result.

use serde::{Deserialize, Serialize};

use crate::decode::{self, color::ProfileOutcome};
use crate::encode::{self, ChromaSubsampling, EncodeOptions, Metadata, OutputFormat};
use crate::error::{Error, Result};
use crate::limits::{DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_PIXELS, Limits};
use crate::resize::{Fit, Kernel, ResizeRequest};
use crate::sniff::Format;

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
    /// Output format (default `original`).
    pub format: TargetFormat,
    /// 1-100 for lossy formats (JPEG, WebP, AVIF); default 80 for JPEG and WebP, 60 for AVIF.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub quality: Option<u8>,
    /// 0 (fastest) to 10 (smallest output); default 4.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub effort: Option<u8>,
    /// AVIF alpha quality 1-100 (default: same as quality).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub alpha_quality: Option<u8>,
    /// WebP: lossless (true) or lossy (false). Default: lossy, except that a lossless WebP
    /// re-encoded as `original` stays lossless.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub lossless: Option<bool>,
    /// WebP lossy: sharper RGB->YUV conversion (slower; fewer colour fringes on edges).
    pub sharp_yuv: bool,
    /// JPEG chroma subsampling, `4:2:0` (default) or `4:4:4`.
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
            quality: None,
            effort: None,
            alpha_quality: None,
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
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let name = if path == "." { "options".to_string() } else { path };
            let detail = e.into_inner().to_string();
            // serde_json appends " at line 1 column 17": noise for an options object.
            let mut detail = detail.split(" at line ").next().unwrap_or_default().to_string();
            // Say what is allowed in words, not Rust type names ("expected u32").
            if let (Some(allowed), Some(at)) = (allowed_values(&name), detail.find(", expected ")) {
                detail = format!("{}; must be {allowed}", &detail[..at]);
            } else if let Some(allowed) = allowed_values(&name).filter(|_| detail.contains("null")) {
                detail = format!("got null, NaN or Infinity; must be {allowed}");
            }
            Error::option(name, detail)
        })
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
        in_range("quality", self.quality, 1, 100)?;
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
        "quality" | "alphaQuality" => "a whole number from 1 to 100",
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
    /// SSIMULACRA2 of the output against the resized source, when `score: true`.
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Things the caller should know (an option a format ignores, a profile not applied).
    pub warnings: Vec<String>,
    pub timings: Timings,
}

/// Runs one job. `now_ms` is a monotonic clock (the core has none of its own on wasm).
pub fn optimize(input: &[u8], options: &OptimizeOptions, now_ms: &dyn Fn() -> f64) -> Result<Optimized> {
    options.validate()?;
    Source::decode(input, &options.limits(), now_ms)?.render(options, now_ms)
}

/// Decodes once and renders every set of options (a responsive ladder: widths x formats).
/// One output failing (an option it alone has wrong) does not fail the others.
pub fn optimize_many(
    input: &[u8],
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

/// A decoded input, ready to render any number of outputs from the same pixels.
pub struct Source<'a> {
    input: &'a [u8],
    decoded: decode::Decoded,
    limits: Limits,
    decode_ms: f64,
    /// The pixels converted to sRGB, made on first need and shared by later outputs.
    srgb: std::cell::OnceCell<(crate::image::Image, ProfileOutcome)>,
}

impl<'a> Source<'a> {
    pub fn decode(input: &'a [u8], limits: &Limits, now_ms: &dyn Fn() -> f64) -> Result<Self> {
        let t0 = now_ms();
        let decoded = decode::decode(input, limits)?;
        Ok(Source { input, decoded, limits: *limits, decode_ms: now_ms() - t0, srgb: std::cell::OnceCell::new() })
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

    pub fn render(&self, options: &OptimizeOptions, now_ms: &dyn Fn() -> f64) -> Result<Optimized> {
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

        let lossless = match (target, options.lossless) {
            (OutputFormat::Webp, Some(l)) => l,
            (OutputFormat::Webp, None) => {
                options.format == TargetFormat::Original && decode::webp::is_lossless(self.input)
            }
            (OutputFormat::Png, _) | (_, None | Some(false)) => false,
            (_, Some(true)) => {
                return Err(Error::option(
                    "lossless",
                    format!("{} has no lossless mode here: use format \"webp\" or \"png\"", target.name()),
                ));
            }
        };
        if options.quality.is_some() && !encode::is_lossy(target, lossless) {
            warnings.push(format!("quality is ignored: {} output is lossless", target.name()));
        }
        if target == OutputFormat::Jpeg && resized.has_alpha_channel() && resized.has_transparency() {
            warnings.push("JPEG has no transparency: transparent pixels were flattened onto the background".into());
        }
        let encode_options = EncodeOptions {
            quality: options.quality,
            effort: options.effort.unwrap_or(encode::DEFAULT_EFFORT),
            chroma_subsampling: options.chroma_subsampling.unwrap_or(ChromaSubsampling::Yuv420),
            alpha_quality: options.alpha_quality,
            background: [background[0], background[1], background[2]],
            lossless,
            sharp_yuv: options.sharp_yuv,
            metadata: Metadata {
                icc_profile: icc_to_write,
                exif: if options.keep_metadata { decoded.exif.clone() } else { None },
            },
        };
        let bytes = encode::encode(&resized, target, &encode_options)?;
        let t3 = now_ms();

        let timings = Timings { decode: self.decode_ms, resize: t2 - t1, encode: t3 - t2 };
        let mut out = Optimized {
            bytes,
            format: target.name(),
            width: resized.width,
            height: resized.height,
            original_bytes: self.input.len(),
            kept_original: false,
            score: None,
            warnings,
            timings,
        };
        // Keeping the input is honest only when it shows the same picture: same format, no
        // resize. (An EXIF-rotated input still displays upright in every current browser.)
        let same_shape = same_format(decoded.format, target) && plan.is_identity(source_size);
        if options.never_bigger
            && same_shape
            && let Some(original) = keepable_original(self.input, &(decoded.format, decoded.orientation), options)
            && out.bytes.len() >= original.len()
        {
            out.bytes = original;
            out.kept_original = true;
        }
        if options.score {
            if target == OutputFormat::Avif {
                out.warnings.push("score: the core has no AVIF decoder to score AVIF output with".into());
            } else {
                let back = decode::decode(&out.bytes, &self.limits)?;
                out.score = Some(crate::quality::ssimulacra2(&resized, &back.image)?);
            }
        }
        Ok(out)
    }
}

/// The input as "never bigger" may return it: whole with `keepMetadata`, else with its
/// metadata stripped losslessly. An EXIF-rotated input cannot lose its EXIF (it would show
/// sideways), so without `keepMetadata` it is never returned.
fn keepable_original(input: &[u8], (format, orientation): &(Format, u8), options: &OptimizeOptions) -> Option<Vec<u8>> {
    if options.keep_metadata {
        return Some(input.to_vec());
    }
    if *orientation != 1 {
        return None;
    }
    crate::metadata::strip(input, *format)
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
    fn background_colours_parse() {
        assert_eq!(parse_hex_color("#ff8000"), Some([255, 128, 0, 255]));
        assert_eq!(parse_hex_color("#ff800080"), Some([255, 128, 0, 128]));
        assert_eq!(parse_hex_color("ff8000"), None);
        assert_eq!(parse_hex_color("#ff80"), None);
    }
}
