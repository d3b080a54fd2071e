//! The wasm-bindgen adapter: JS values in, the pipeline, JS values out. Nothing else.
//! Errors cross as plain `{ code, message }` objects that js/ turns into MediaslimError.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::limits::Limits;
use crate::pipeline::{self, OptimizeOptions, Optimized};
use crate::{Placeholder, ProbeInfo};

#[wasm_bindgen]
extern "C" {
    // Present in browsers, workers, Node >= 16, Deno and Bun.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(e: Error) -> JsValue {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"code".into(), &e.code().into());
    let _ = js_sys::Reflect::set(&obj, &"message".into(), &e.to_string().into());
    obj.into()
}

/// Decodes, resizes and re-encodes `input` as `options_json` (an OptimizeOptions as JSON) say.
#[wasm_bindgen]
pub fn optimize(input: &[u8], options_json: &str) -> Result<Ts<Optimized>, JsValue> {
    let options = OptimizeOptions::from_json(options_json).map_err(js_error)?;
    let out = pipeline::optimize(input, &options, &performance_now).map_err(js_error)?;
    Ts::from_rust(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Decodes once and renders each options object of `options_json_array` (a JSON array).
/// Returns one `{ ok: true, value }` or `{ ok: false, code, message }` per entry.
#[wasm_bindgen(js_name = optimizeMany)]
pub fn optimize_many(input: &[u8], options_json_array: &str) -> Result<js_sys::Array, JsValue> {
    let list: Vec<serde_json::Value> = serde_json::from_str(options_json_array)
        .map_err(|e| js_error(Error::option("outputs", format!("must be an array of option objects: {e}"))))?;
    let options = list
        .iter()
        .map(|v| OptimizeOptions::from_json(&v.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(js_error)?;
    let results = pipeline::optimize_many(input, &options, &performance_now).map_err(js_error)?;
    let out = js_sys::Array::new();
    for result in results {
        let entry = js_sys::Object::new();
        match result {
            Ok(o) => {
                let value = Ts::from_rust(&o).map_err(|e| JsValue::from_str(&e.to_string()))?;
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &true.into());
                let _ = js_sys::Reflect::set(&entry, &"value".into(), &value.into());
            }
            Err(e) => {
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &false.into());
                let _ = js_sys::Reflect::set(&entry, &"code".into(), &e.code().into());
                let _ = js_sys::Reflect::set(&entry, &"message".into(), &e.to_string().into());
            }
        }
        out.push(&entry);
    }
    Ok(out)
}

/// SSIMULACRA2 of `distorted` against `reference` (resized to match first).
#[wasm_bindgen]
pub fn compare(reference: &[u8], distorted: &[u8]) -> Result<f64, JsValue> {
    pipeline::compare(reference, distorted, &Limits::default()).map_err(js_error)
}

/// A ThumbHash placeholder, its preview PNG and the average colour.
#[wasm_bindgen]
pub fn placeholder(input: &[u8]) -> Result<Ts<Placeholder>, JsValue> {
    let source = pipeline::Source::decode(input, &Limits::default(), &performance_now).map_err(js_error)?;
    let p = crate::placeholder::placeholder(&source).map_err(js_error)?;
    Ts::from_rust(&p).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Reads format, size, orientation, alpha and animation from headers only.
#[wasm_bindgen]
pub fn probe(input: &[u8]) -> Result<Ts<ProbeInfo>, JsValue> {
    let info = crate::decode::probe(input, &Limits::default()).map_err(js_error)?;
    Ts::from_rust(&info).map_err(|e| JsValue::from_str(&e.to_string()))
}

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &key.into(), value);
}

/// The pixels `optimize` would encode for `options_json` (decoded, upright, sRGB, resized),
/// for an encoder outside the core (WebCodecs AV1): `{ width, height, rgba (4 channels,
/// straight alpha), hasAlpha (some pixel not opaque), exif?, warnings, timings }`.
#[wasm_bindgen]
pub fn render(input: &[u8], options_json: &str) -> Result<JsValue, JsValue> {
    let options = OptimizeOptions::from_json(options_json).map_err(js_error)?;
    let source = pipeline::Source::decode(input, &options.limits(), &performance_now).map_err(js_error)?;
    let pixels = source.pixels(&options, &performance_now).map_err(js_error)?;
    let image = pixels.image;
    let obj = js_sys::Object::new();
    set(&obj, "width", &image.width.into());
    set(&obj, "height", &image.height.into());
    set(&obj, "hasAlpha", &image.has_transparency().into());
    let rgba = image.to_rgba();
    set(&obj, "rgba", &js_sys::Uint8Array::from(rgba.pixels.as_slice()).into());
    if let Some(exif) = &pixels.exif {
        set(&obj, "exif", &js_sys::Uint8Array::from(exif.as_slice()).into());
    }
    let warnings: js_sys::Array = pixels.warnings.iter().map(|w| JsValue::from_str(w)).collect();
    set(&obj, "warnings", &warnings.into());
    let timings = js_sys::Object::new();
    set(&timings, "decode", &pixels.timings.decode.into());
    set(&timings, "resize", &pixels.timings.resize.into());
    set(&obj, "timings", &timings.into());
    Ok(obj.into())
}

/// SSIMULACRA2 of two `width` x `height` RGBA buffers (straight alpha), e.g. `render`'s
/// pixels and a browser's decode of an encoded output. Opaque pairs are scored as RGB.
#[wasm_bindgen(js_name = scorePixels)]
pub fn score_pixels(reference: &[u8], distorted: &[u8], width: u32, height: u32) -> Result<f64, JsValue> {
    use crate::image::{Image, PixelLayout};
    let n = width as usize * height as usize * 4;
    if reference.len() != n || distorted.len() != n {
        return Err(js_error(Error::option(
            "pixels",
            format!("{width}x{height} RGBA needs {n} bytes, got {} and {}", reference.len(), distorted.len()),
        )));
    }
    let a = Image::new(width, height, PixelLayout::Rgba8, reference.to_vec());
    let b = Image::new(width, height, PixelLayout::Rgba8, distorted.to_vec());
    let (a, b) = if a.has_transparency() || b.has_transparency() { (a, b) } else { (a.flatten([0; 3]), b.flatten([0; 3])) };
    crate::quality::ssimulacra2(&a, &b).map_err(js_error)
}

/// An AVIF file around AV1 key frames from a browser's WebCodecs `VideoEncoder` (each as
/// its chunk's bytes; temporal delimiters are removed). `color_space_json` is the encoder's
/// `decoderConfig.colorSpace` as JSON (members it lacks come from the bitstream); `alpha`
/// is a frame whose luma is the alpha channel; `exif` is written as an Exif item.
#[wasm_bindgen(js_name = avifFromAv1)]
pub fn avif_from_av1(
    color: &[u8],
    alpha: Option<Vec<u8>>,
    width: u32,
    height: u32,
    color_space_json: Option<String>,
    exif: Option<Vec<u8>>,
) -> Result<Vec<u8>, JsValue> {
    use crate::encode::{Nclx, WebCodecsColorSpace, parse_sequence_header, strip_temporal_delimiters};
    let nclx = match color_space_json {
        Some(json) => {
            let cs: WebCodecsColorSpace = serde_json::from_str(&json)
                .map_err(|e| js_error(Error::option("colorSpace", format!("must be a VideoColorSpaceInit: {e}"))))?;
            let seq = strip_temporal_delimiters(color).and_then(|c| parse_sequence_header(&c)).map_err(js_error)?;
            Some(Nclx::from_web_codecs(&cs, &seq).map_err(js_error)?)
        }
        None => None,
    };
    crate::encode::avif_from_av1(color, alpha.as_deref(), width, height, nclx, exif).map_err(js_error)
}

/// Test hook: traps the instance the way a decoder bug would, so the JS layer's
/// recovery (a fresh instance, the error reported as WORKER_CRASHED) can be tested.
#[wasm_bindgen(js_name = "__trapForTests")]
pub fn trap_for_tests() {
    panic!("deliberate trap (test hook)");
}

#[cfg(feature = "video")]
/// MP4/MOV fast start: `moov` moved in front of `mdat`, sample data untouched. Returns
/// `{ bytes, changed, notes }`.
#[wasm_bindgen]
pub fn remux(input: &[u8], options_json: &str) -> Result<Ts<crate::video::Remuxed>, JsValue> {
    let options = crate::video::RemuxOptions::from_json(options_json).map_err(js_error)?;
    let out = crate::video::remux(input, &options).map_err(js_error)?;
    Ts::from_rust(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[cfg(feature = "video")]
/// An animated GIF's frames, pulled one at a time (`next()`), composited, flattened, fitted
/// and opaque: what a video encoder takes. Memory holds one frame whatever the length.
/// Call `free()` when done.
#[wasm_bindgen]
pub struct GifFrameReader {
    frames: crate::video::gif::GifFrames,
}

#[cfg(feature = "video")]
#[wasm_bindgen]
impl GifFrameReader {
    /// `options_json`: `{ maxWidth?, maxHeight?, even? (default true), background? [r,g,b], maxFrames? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(input: Vec<u8>, options_json: &str) -> Result<GifFrameReader, JsValue> {
        let options = crate::video::gif::GifFramesOptions::from_json(options_json).map_err(js_error)?;
        let frames = crate::video::gif::GifFrames::open(input, &options).map_err(js_error)?;
        Ok(GifFrameReader { frames })
    }

    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.frames.width
    }

    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.frames.height
    }

    #[wasm_bindgen(getter, js_name = sourceWidth)]
    pub fn source_width(&self) -> u32 {
        self.frames.source_width
    }

    #[wasm_bindgen(getter, js_name = sourceHeight)]
    pub fn source_height(&self) -> u32 {
        self.frames.source_height
    }

    /// Frames the GIF's block structure declares.
    #[wasm_bindgen(getter, js_name = frameCount)]
    pub fn frame_count(&self) -> u32 {
        self.frames.frame_count
    }

    /// `{ index, rgba, timestampMs, durationMs }`, or null after the last frame.
    #[allow(clippy::should_implement_trait)] // a JS method, not a Rust iterator
    pub fn next(&mut self) -> Result<JsValue, JsValue> {
        let Some(frame) = self.frames.next_frame().map_err(js_error)? else { return Ok(JsValue::NULL) };
        let obj = js_sys::Object::new();
        set(&obj, "index", &frame.index.into());
        set(&obj, "rgba", &js_sys::Uint8Array::from(frame.image.pixels.as_slice()).into());
        set(&obj, "timestampMs", &(frame.timestamp_ms as f64).into());
        set(&obj, "durationMs", &frame.duration_ms.into());
        Ok(obj.into())
    }
}

#[cfg(feature = "video")]
/// A fast-start MP4 of one video track. `codec` is "avc" (`config` an avcC record) or "av1"
/// (`config` an av1C record; samples lose their temporal delimiters). Sample `i` is
/// `sizes[i]` bytes of `data`, lasting `durations[i]` ticks of `timescale`; `keyframes[i]` != 0
/// marks key frames.
#[wasm_bindgen(js_name = muxMp4)]
#[allow(clippy::too_many_arguments)]
pub fn mux_mp4(
    codec: &str,
    config: Vec<u8>,
    width: u32,
    height: u32,
    timescale: u32,
    data: &[u8],
    sizes: &[u32],
    durations: &[u32],
    keyframes: &[u8],
) -> Result<Vec<u8>, JsValue> {
    use crate::video::mp4::{MuxLimits, Sample, VideoCodec, VideoTrack, mux};
    let n = sizes.len();
    if durations.len() != n || keyframes.len() != n {
        return Err(js_error(Error::option("samples", format!("{n} sizes, {} durations, {} key frame flags", durations.len(), keyframes.len()))));
    }
    let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    if total != data.len() as u64 {
        return Err(js_error(Error::option("samples", format!("sizes add up to {total} bytes, data has {}", data.len()))));
    }
    let codec = match codec {
        "avc" => VideoCodec::Avc { avcc: config },
        "av1" => VideoCodec::Av1 { av1c: config },
        other => return Err(js_error(Error::option("codec", format!("must be \"avc\" or \"av1\", got {other:?}")))),
    };
    let av1 = matches!(codec, VideoCodec::Av1 { .. });
    let mut at = 0usize;
    let mut owned = Vec::with_capacity(n);
    for &size in sizes {
        let end = at + size as usize; // sizes sum to data.len(), checked above
        let sample = data.get(at..end).unwrap_or_default();
        owned.push(if av1 { crate::encode::av1_video_sample(sample).map_err(js_error)? } else { sample.to_vec() });
        at = end;
    }
    let samples: Vec<Sample<'_>> = owned
        .iter()
        .zip(durations.iter().zip(keyframes))
        .map(|(data, (&duration, &key))| Sample { duration, keyframe: key != 0, data })
        .collect();
    let track = VideoTrack { codec, width, height, timescale };
    mux(&track, &samples, &MuxLimits::default()).map_err(js_error)
}

#[cfg(feature = "video")]
/// The av1C record (4 bytes + the sequence header OBU) and RFC 6381 codec string of an AV1
/// video from its first key frame: `{ record, codec }`.
#[wasm_bindgen(js_name = av1Config)]
pub fn av1_config(key_frame: &[u8]) -> Result<JsValue, JsValue> {
    let (record, seq) = crate::encode::av1c_record(key_frame).map_err(js_error)?;
    let obj = js_sys::Object::new();
    set(&obj, "record", &js_sys::Uint8Array::from(record.as_slice()).into());
    let codec = format!("av01.{}.{:02}{}.{:02}", seq.profile, seq.level, if seq.tier { 'H' } else { 'M' }, seq.bit_depth);
    set(&obj, "codec", &codec.into());
    Ok(obj.into())
}

/// GIF -> AV1 MP4 with rav1e (the full module only): `{ bytes, codec, width, height, frames,
/// durationMs }`. `progress(done, total)` is called after each frame.
#[cfg(feature = "avif")]
#[wasm_bindgen(js_name = gifToAv1)]
pub fn gif_to_av1(input: Vec<u8>, options_json: &str, progress: Option<js_sys::Function>) -> Result<JsValue, JsValue> {
    let options = crate::video::av1::Av1VideoOptions::from_json(options_json).map_err(js_error)?;
    let mut report = |done: u32, total: u32| {
        if let Some(f) = &progress {
            let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
        }
    };
    let video = crate::video::av1::gif_to_av1(input, &options, &mut report).map_err(js_error)?;
    let obj = js_sys::Object::new();
    set(&obj, "bytes", &js_sys::Uint8Array::from(video.bytes.as_slice()).into());
    set(&obj, "codec", &video.codec.into());
    set(&obj, "width", &video.width.into());
    set(&obj, "height", &video.height.into());
    set(&obj, "frames", &video.frames.into());
    set(&obj, "durationMs", &(video.duration_ms as f64).into());
    Ok(obj.into())
}
