//! The wasm-bindgen adapter: JS values in, the pipeline, JS values out. Nothing else.
//! Errors cross as plain `{ code, message }` objects that js/ turns into MediaslimError.
//! `probe` and the panic hook live in wasm_probe.rs (every module has them).

use tsify::Ts;
use wasm_bindgen::prelude::*;

use crate::Placeholder;
use crate::error::Error;
use crate::limits::Limits;
use crate::pipeline::{self, OptimizeOptions, Optimized};
use crate::wasm_probe::js_error;

#[wasm_bindgen]
extern "C" {
    // Present in browsers, workers, Node >= 16, Deno and Bun.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Decodes, resizes and re-encodes `input` as `options_json` (an OptimizeOptions as JSON) say.
/// `input` is owned so that the core frees it once decoded (see `Source::decode`).
#[wasm_bindgen]
pub fn optimize(input: Vec<u8>, options_json: &str) -> Result<Ts<Optimized>, JsValue> {
    let options = OptimizeOptions::from_json(options_json).map_err(js_error)?;
    let out = pipeline::optimize(input, &options, &performance_now).map_err(js_error)?;
    optimized_to_js(&out).map(Ts::new_unchecked)
}

/// An `Optimized` for js/, with `originalRanges` (flat `[start, end, ...]`) when it kept an
/// input the core no longer holds: the worker cuts those bytes from its copy and drops the field.
fn optimized_to_js(out: &Optimized) -> Result<JsValue, JsValue> {
    let value: JsValue = Ts::from_rust(out).map_err(|e| JsValue::from_str(&e.to_string()))?.into();
    if let Some(ranges) = &out.original_ranges {
        let flat: js_sys::Array =
            ranges.iter().flat_map(|r| [r.start, r.end]).map(|n| JsValue::from(n as f64)).collect();
        let _ = js_sys::Reflect::set(&value, &"originalRanges".into(), &flat);
    }
    Ok(value)
}

/// Decodes once and renders each options object of `options_json_array` (a JSON array).
/// Returns one `{ ok: true, value }` or `{ ok: false, code, message }` per entry.
#[wasm_bindgen(js_name = optimizeMany)]
pub fn optimize_many(input: Vec<u8>, options_json_array: &str) -> Result<js_sys::Array, JsValue> {
    let list = js_sys::JSON::parse(options_json_array)
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .ok_or_else(|| js_error(Error::option("outputs", "must be an array of option objects")))?;
    let options =
        list.iter().map(|v| OptimizeOptions::from_value(&v)).collect::<Result<Vec<_>, _>>().map_err(js_error)?;
    let results = pipeline::optimize_many(input, &options, &performance_now).map_err(js_error)?;
    let out = js_sys::Array::new();
    for result in results {
        let entry = js_sys::Object::new();
        match result {
            Ok(o) => {
                let value = optimized_to_js(&o)?;
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &true.into());
                let _ = js_sys::Reflect::set(&entry, &"value".into(), &value);
            }
            Err(e) => {
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &false.into());
                crate::wasm_probe::set_error(&entry, &e);
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
    let (a, b) =
        if a.has_transparency() || b.has_transparency() { (a, b) } else { (a.flatten([0; 3]), b.flatten([0; 3])) };
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
    // Without the container (the core module): NOT_BUILT, and js/core.ts moves the call to plus.
    #[cfg(not(feature = "avif-container"))]
    {
        let _ = (color, alpha, width, height, color_space_json, exif);
        Err(js_error(Error::not_built("the AVIF container", "avif-container")))
    }
    #[cfg(feature = "avif-container")]
    {
        use crate::encode::{Nclx, WebCodecsColorSpace, parse_sequence_header, strip_temporal_delimiters};
        let nclx = match color_space_json {
            Some(json) => {
                let cs: WebCodecsColorSpace = crate::error::parse_options(&json).map_err(|(_, e)| {
                    js_error(Error::option("colorSpace", format!("must be a VideoColorSpaceInit: {e}")))
                })?;
                let seq = strip_temporal_delimiters(color).and_then(|c| parse_sequence_header(&c)).map_err(js_error)?;
                Some(Nclx::from_web_codecs(&cs, &seq).map_err(js_error)?)
            }
            None => None,
        };
        crate::encode::avif_from_av1(color, alpha.as_deref(), width, height, nclx, exif).map_err(js_error)
    }
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
/// A fast-start remux planned without the media: the file's top-level boxes (per box its
/// 4-byte kind in `kinds`, its offset, size and header length) and its `moov` box in, `{ moov,
/// pieces, changed, notes, size }` out, where `pieces` holds (start, end) pairs of input bytes
/// to copy in order and (-1, -1) where the new `moov` goes. JS then streams the copy.
#[wasm_bindgen(js_name = fastStartPlan)]
pub fn fast_start_plan(
    kinds: &[u8],
    starts: &[f64],
    sizes: &[f64],
    headers: &[u8],
    moov: &[u8],
) -> Result<JsValue, JsValue> {
    use crate::video::mp4::{Piece, TopBox};
    let n = starts.len();
    if kinds.len() != n * 4 || sizes.len() != n || headers.len() != n {
        return Err(js_error(Error::option(
            "boxes",
            format!("{} kind bytes, {n} offsets, {} sizes, {} headers", kinds.len(), sizes.len(), headers.len()),
        )));
    }
    let top: Vec<TopBox> = kinds
        .chunks_exact(4)
        .zip(starts.iter().zip(sizes).zip(headers))
        .map(|(kind, ((&start, &size), &header))| TopBox {
            kind: kind.try_into().unwrap_or_default(),
            start: start as u64,
            header: u64::from(header),
            end: (start + size) as u64,
        })
        .collect();
    let plan = crate::video::mp4::fast_start_plan(&top, moov).map_err(js_error)?;
    let obj = js_sys::Object::new();
    set(&obj, "moov", &js_sys::Uint8Array::from(plan.moov.as_slice()).into());
    let pieces: Vec<f64> = plan
        .pieces
        .iter()
        .flat_map(|p| match *p {
            Piece::Copy { start, end } => [start as f64, end as f64],
            Piece::Index => [-1.0, -1.0],
        })
        .collect();
    set(&obj, "pieces", &js_sys::Float64Array::from(pieces.as_slice()).into());
    set(&obj, "changed", &plan.changed.into());
    let notes: js_sys::Array = plan.notes.iter().map(|n| JsValue::from_str(n)).collect();
    set(&obj, "notes", &notes.into());
    set(&obj, "size", &(plan.size as f64).into());
    Ok(obj.into())
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
        return Err(js_error(Error::option(
            "samples",
            format!("{n} sizes, {} durations, {} key frame flags", durations.len(), keyframes.len()),
        )));
    }
    let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    if total != data.len() as u64 {
        return Err(js_error(Error::option(
            "samples",
            format!("sizes add up to {total} bytes, data has {}", data.len()),
        )));
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
    let codec =
        format!("av01.{}.{:02}{}.{:02}", seq.profile, seq.level, if seq.tier { 'H' } else { 'M' }, seq.bit_depth);
    set(&obj, "codec", &codec.into());
    Ok(obj.into())
}

/// GIF -> AV1 MP4 with rav1e (the full module only): `{ bytes, codec, width, height, frames,
/// durationMs }`; with a `target`, the quality is searched and `{ score, quality, encodes,
/// sampled, notes }` come too. `progress(done, total)` is called after each frame.
#[cfg(feature = "avif")]
#[wasm_bindgen(js_name = gifToAv1)]
pub fn gif_to_av1(input: Vec<u8>, options_json: &str, progress: Option<js_sys::Function>) -> Result<JsValue, JsValue> {
    let options = crate::video::av1::Av1VideoOptions::from_json(options_json).map_err(js_error)?;
    let mut report = |done: u32, total: u32| {
        if let Some(f) = &progress {
            let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
        }
    };
    let obj = js_sys::Object::new();
    let video = match options.target {
        Some(target) => {
            let found = crate::video::av1_target::gif_to_av1_targeted(&input, &options, target.0, &mut report)
                .map_err(js_error)?;
            set(&obj, "score", &found.score.into());
            set(&obj, "quality", &found.quality.into());
            set(&obj, "encodes", &found.encodes.into());
            set(&obj, "sampled", &found.sampled.into());
            let notes = js_sys::Array::new();
            for n in &found.notes {
                notes.push(&n.into());
            }
            set(&obj, "notes", &notes.into());
            found.video
        }
        None => crate::video::av1::gif_to_av1(input, &options, &mut report).map_err(js_error)?,
    };
    set(&obj, "bytes", &js_sys::Uint8Array::from(video.bytes.as_slice()).into());
    set(&obj, "codec", &video.codec.into());
    set(&obj, "width", &video.width.into());
    set(&obj, "height", &video.height.into());
    set(&obj, "frames", &video.frames.into());
    set(&obj, "durationMs", &(video.duration_ms as f64).into());
    Ok(obj.into())
}

#[cfg(feature = "video")]
/// A video file's index parsed once: the track list and the sample table, which JS pages
/// through while reading sample bytes itself (by offset and size, e.g. Blob slices). For
/// MP4/MOV it is built from the `moov` box alone (plus each `moof` of a fragmented file), so a
/// large file is never copied into wasm whole; WebM is parsed from the whole file
/// (`fromFile`), its index being spread through it. Call `free()` when done.
#[wasm_bindgen]
pub struct VideoDemuxer {
    movie: crate::video::mp4::Movie,
}

#[cfg(feature = "video")]
#[wasm_bindgen]
impl VideoDemuxer {
    /// `moov`: the whole `moov` box (header included); `file_size`: the file's length in bytes
    /// (every sample must lie inside it).
    #[wasm_bindgen(constructor)]
    pub fn new(moov: &[u8], file_size: f64) -> Result<VideoDemuxer, JsValue> {
        let limits = crate::video::mp4::DemuxLimits::default();
        let movie = crate::video::mp4::Movie::from_moov(moov, file_size as u64, &limits).map_err(js_error)?;
        Ok(VideoDemuxer { movie })
    }

    /// Parses a whole MP4/MOV or WebM/Matroska file held in memory (told apart by content).
    #[wasm_bindgen(js_name = fromFile)]
    pub fn from_file(file: &[u8]) -> Result<VideoDemuxer, JsValue> {
        let limits = crate::video::mp4::DemuxLimits::default();
        let movie = if crate::video::webm::is_webm(file) {
            crate::video::webm::demux(file, &limits)
        } else {
            crate::video::mp4::demux(file, &limits)
        };
        Ok(VideoDemuxer { movie: movie.map_err(js_error)? })
    }

    /// Adds the samples of a `moof` box (header included) found at `offset` in the file.
    #[wasm_bindgen(js_name = addFragment)]
    pub fn add_fragment(&mut self, moof: &[u8], offset: f64) -> Result<(), JsValue> {
        self.movie.add_fragment(moof, offset as u64).map_err(js_error)
    }

    #[wasm_bindgen(getter)]
    pub fn fragmented(&self) -> bool {
        self.movie.fragmented
    }

    /// `[{ id, kind: 'video'|'audio', fourcc, codec?, description?, width, height, rotation,
    /// timescale, duration, sampleRate, channels, editStart, endPaddingNs, sampleCount, keyframes,
    /// bytes }]`.
    pub fn tracks(&self) -> js_sys::Array {
        use crate::video::mp4::TrackKind;
        self.movie
            .tracks
            .iter()
            .map(|t| {
                let obj = js_sys::Object::new();
                set(&obj, "id", &t.id.into());
                set(&obj, "kind", &(if t.kind == TrackKind::Video { "video" } else { "audio" }).into());
                set(&obj, "fourcc", &t.fourcc.as_str().into());
                if let Some(codec) = &t.codec {
                    set(&obj, "codec", &codec.as_str().into());
                }
                if let Some(d) = &t.description {
                    set(&obj, "description", &js_sys::Uint8Array::from(d.as_slice()).into());
                }
                if let Some(v) = &t.vpcc {
                    set(&obj, "vpcc", &js_sys::Uint8Array::from(v.as_slice()).into());
                }
                set(&obj, "width", &t.width.into());
                set(&obj, "height", &t.height.into());
                set(&obj, "rotation", &t.rotation.into());
                set(&obj, "timescale", &t.timescale.into());
                set(&obj, "duration", &(t.duration as f64).into());
                set(&obj, "sampleRate", &t.sample_rate.into());
                set(&obj, "channels", &t.channels.into());
                set(&obj, "editStart", &(t.edit_start as f64).into());
                set(&obj, "endPaddingNs", &(t.end_padding_ns as f64).into());
                set(&obj, "sampleCount", &(t.samples.len() as u32).into());
                set(&obj, "keyframes", &(t.samples.iter().filter(|s| s.keyframe).count() as u32).into());
                set(&obj, "bytes", &(t.samples.iter().map(|s| u64::from(s.size)).sum::<u64>() as f64).into());
                JsValue::from(obj)
            })
            .collect()
    }

    /// Up to `count` samples of track `track_id` from index `from` (decode order):
    /// `{ offsets, sizes, dts, pts, durations, keyframes }` as typed arrays (times in the
    /// track's ticks, edit list applied).
    pub fn samples(&self, track_id: u32, from: u32, count: u32) -> Result<JsValue, JsValue> {
        let track = self.track(track_id)?;
        let list = track.samples.get(from as usize..).unwrap_or_default();
        let list = list.get(..(count as usize).min(list.len())).unwrap_or_default();
        let obj = js_sys::Object::new();
        let f64s = |f: &dyn Fn(&crate::video::mp4::SampleInfo) -> f64| {
            js_sys::Float64Array::from(list.iter().map(f).collect::<Vec<_>>().as_slice())
        };
        set(&obj, "offsets", &f64s(&|s| s.offset as f64).into());
        set(&obj, "dts", &f64s(&|s| s.dts as f64).into());
        set(&obj, "pts", &f64s(&|s| s.pts as f64).into());
        let sizes: Vec<u32> = list.iter().map(|s| s.size).collect();
        set(&obj, "sizes", &js_sys::Uint32Array::from(sizes.as_slice()).into());
        let durations: Vec<u32> = list.iter().map(|s| s.duration).collect();
        set(&obj, "durations", &js_sys::Uint32Array::from(durations.as_slice()).into());
        let keys: Vec<u8> = list.iter().map(|s| u8::from(s.keyframe)).collect();
        set(&obj, "keyframes", &js_sys::Uint8Array::from(keys.as_slice()).into());
        Ok(obj.into())
    }

    /// The index of the key frame presented last at or before `pts` (ticks), or the first one.
    #[wasm_bindgen(js_name = keyframeAtOrBefore)]
    pub fn keyframe_at_or_before(&self, track_id: u32, pts: f64) -> Result<Option<u32>, JsValue> {
        Ok(self.track(track_id)?.keyframe_at_or_before(pts as i64).map(|i| i as u32))
    }
}

#[cfg(feature = "video")]
impl VideoDemuxer {
    fn track(&self, id: u32) -> Result<&crate::video::mp4::Track, JsValue> {
        self.movie
            .tracks
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| js_error(Error::option("trackId", format!("no track {id} in this file"))))
    }
}

#[cfg(feature = "video")]
/// What `muxMovie` writes besides the sample data (JSON).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MovieSpec {
    /// "avc", "av1" or "vp9".
    codec: String,
    width: u32,
    height: u32,
    #[serde(default)]
    rotation: u16,
    timescale: u32,
    #[serde(default)]
    media_start: i64,
    audio: Option<AudioSpec>,
}

#[cfg(feature = "video")]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AudioSpec {
    /// "aac" (default; MP4 only), "opus" (both containers) or "vorbis" (WebM only).
    #[serde(default)]
    codec: Option<String>,
    sample_rate: u32,
    channels: u16,
    timescale: u32,
    #[serde(default)]
    media_start: i64,
    /// Nanoseconds of the last packet not to present (the source's padding, as demuxed).
    #[serde(default)]
    end_padding_ns: u64,
}

#[cfg(feature = "video")]
impl AudioSpec {
    fn codec_name(&self) -> &str {
        self.codec.as_deref().unwrap_or("aac")
    }
}

#[cfg(feature = "video")]
/// Sample `i` is `sizes[i]` bytes of `data`, in order.
fn split_samples<'a>(data: &'a [u8], sizes: &[u32], what: &str) -> Result<Vec<&'a [u8]>, JsValue> {
    let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    if total != data.len() as u64 {
        return Err(js_error(Error::option(what, format!("sizes add up to {total} bytes, data has {}", data.len()))));
    }
    let mut at = 0usize;
    Ok(sizes
        .iter()
        .map(|&size| {
            let end = at + size as usize; // sizes sum to data.len(), checked above
            let s = data.get(at..end).unwrap_or_default();
            at = end;
            s
        })
        .collect())
}

#[cfg(feature = "video")]
/// The arguments of `muxMovie` / `muxWebm`, checked: the spec, each track's sample bytes
/// split per sample, and the audio's codec name.
struct MovieParts<'a> {
    spec: MovieSpec,
    video_config: Vec<u8>,
    video: Vec<crate::video::mp4::Sample<'a>>,
    audio: Option<(String, Vec<u8>, Vec<crate::video::mp4::Sample<'a>>)>,
}

#[cfg(feature = "video")]
#[allow(clippy::too_many_arguments)]
fn movie_parts<'a>(
    spec_json: &str,
    video_config: Vec<u8>,
    video_data: &'a [u8],
    video_sizes: &[u32],
    video_durations: &[u32],
    video_keyframes: &[u8],
    audio_config: Option<Vec<u8>>,
    audio_data: &'a [u8],
    audio_sizes: &[u32],
    audio_durations: &[u32],
) -> Result<MovieParts<'a>, JsValue> {
    let spec: MovieSpec =
        serde_json::from_str(spec_json).map_err(|e| js_error(Error::option("spec", e.to_string())))?;
    let (video, audio) = run_samples(
        video_data,
        video_sizes,
        video_durations,
        video_keyframes,
        audio_data,
        audio_sizes,
        audio_durations,
        None,
    )?;
    let audio = match (&spec.audio, audio_config) {
        (Some(a), Some(config)) => Some((a.codec_name().to_string(), config, audio)),
        _ => None,
    };
    Ok(MovieParts { spec, video_config, video, audio })
}

#[cfg(feature = "video")]
/// A WebM file of one encoded video track (VP9 or AV1) and, optionally, an Opus or Vorbis
/// track: the same arguments as `muxMovie`. `spec.codec` is "vp9" or "av1" (`video_config`
/// its av1C record; ignored for VP9); `spec.audio.codec` "opus" (`audio_config` the OpusHead)
/// or "vorbis" (the three headers Xiph-laced). Video presentation offsets must be empty
/// (VP9 and AV1 encoders do not reorder frames here).
#[wasm_bindgen(js_name = muxWebm)]
#[allow(clippy::too_many_arguments)]
pub fn mux_webm(
    spec_json: &str,
    video_config: Vec<u8>,
    video_data: &[u8],
    video_sizes: &[u32],
    video_durations: &[u32],
    video_keyframes: &[u8],
    video_offsets: &[i32],
    audio_config: Option<Vec<u8>>,
    audio_data: Option<Vec<u8>>,
    audio_sizes: Option<Vec<u32>>,
    audio_durations: Option<Vec<u32>>,
) -> Result<Vec<u8>, JsValue> {
    use crate::video::mp4::MuxLimits;
    use crate::video::webm::{WebmCodec, WebmMedia, WebmTrack, mux};
    let audio_data = audio_data.unwrap_or_default();
    let (audio_sizes, audio_durations) = (audio_sizes.unwrap_or_default(), audio_durations.unwrap_or_default());
    let parts = movie_parts(
        spec_json,
        video_config,
        video_data,
        video_sizes,
        video_durations,
        video_keyframes,
        audio_config,
        &audio_data,
        &audio_sizes,
        &audio_durations,
    )?;
    let spec = &parts.spec;
    let audio_parts = parts.audio.as_ref().map(|(codec, config, _)| (codec.as_str(), config.as_slice()));
    let (video, audio_media) = webm_media(spec, &parts.video_config, audio_parts)?;
    let owned: Vec<Vec<u8>>;
    let mut video_samples = parts.video.clone();
    if matches!(video, WebmMedia::Video { codec: WebmCodec::Av1 { .. }, .. }) {
        owned = av1_stored(parts.video.iter().map(|s| s.data))?;
        video_samples.iter_mut().zip(&owned).for_each(|(s, data)| s.data = data);
    }
    let mut tracks = vec![WebmTrack {
        media: &video,
        timescale: spec.timescale,
        samples: &video_samples,
        composition_offsets: video_offsets,
        media_start: spec.media_start,
        end_padding_ns: 0,
    }];
    if let (Some(a), Some(media), Some((_, _, samples))) = (&spec.audio, &audio_media, &parts.audio) {
        tracks.push(WebmTrack {
            media,
            timescale: a.timescale,
            samples,
            composition_offsets: &[],
            media_start: a.media_start,
            end_padding_ns: a.end_padding_ns,
        });
    }
    mux(&tracks, &MuxLimits::default()).map_err(js_error)
}

#[cfg(feature = "video")]
/// The WebM tracks a movie spec describes: the video (its codec record for AV1) and, with
/// `audio` (codec name and record), the audio.
fn webm_media(
    spec: &MovieSpec,
    video_config: &[u8],
    audio: Option<(&str, &[u8])>,
) -> Result<(crate::video::webm::WebmMedia, Option<crate::video::webm::WebmMedia>), JsValue> {
    use crate::video::webm::{WebmCodec, WebmMedia};
    if spec.rotation != 0 {
        return Err(js_error(Error::option("rotation", "WebM has no rotation: turn the frames before encoding")));
    }
    let codec = match spec.codec.as_str() {
        "vp9" => WebmCodec::Vp9,
        "av1" => WebmCodec::Av1 { av1c: video_config.to_vec() },
        other => {
            return Err(js_error(Error::option(
                "codec",
                format!("WebM holds \"vp9\" or \"av1\" video, got {other:?}"),
            )));
        }
    };
    let video = WebmMedia::Video { codec, width: spec.width, height: spec.height };
    let audio = match (&spec.audio, audio) {
        (Some(a), Some((codec, config))) => {
            let codec = match codec {
                "opus" => WebmCodec::Opus { opus_head: config.to_vec() },
                "vorbis" => WebmCodec::Vorbis { headers: config.to_vec() },
                other => {
                    return Err(js_error(Error::option(
                        "audio.codec",
                        format!("WebM holds \"opus\" or \"vorbis\" audio, got {other:?}"),
                    )));
                }
            };
            Some(WebmMedia::Audio { codec, sample_rate: a.sample_rate, channels: a.channels })
        }
        _ => None,
    };
    Ok((video, audio))
}

#[cfg(feature = "video")]
/// AV1 frames from an encoder in the form MP4 and WebM store them (no temporal delimiters).
fn av1_stored<'a>(frames: impl Iterator<Item = &'a [u8]>) -> Result<Vec<Vec<u8>>, JsValue> {
    frames.map(crate::encode::av1_video_sample).collect::<Result<_, _>>().map_err(js_error)
}

#[cfg(feature = "video")]
/// One run of a movie's samples as `muxMovie`, `muxWebm` and `MovieStreamWriter.fragment`
/// take them: video frames (AV1 ones rewritten into `av1_owned`)
/// and audio packets.
#[allow(clippy::too_many_arguments)]
fn run_samples<'a>(
    video_data: &'a [u8],
    video_sizes: &[u32],
    video_durations: &[u32],
    video_keyframes: &[u8],
    audio_data: &'a [u8],
    audio_sizes: &[u32],
    audio_durations: &[u32],
    av1_owned: Option<&'a mut Vec<Vec<u8>>>,
) -> Result<(Vec<crate::video::mp4::Sample<'a>>, Vec<crate::video::mp4::Sample<'a>>), JsValue> {
    use crate::video::mp4::Sample;
    let n = video_sizes.len();
    if video_durations.len() != n || video_keyframes.len() != n || audio_durations.len() != audio_sizes.len() {
        return Err(js_error(Error::option(
            "samples",
            format!("{n} sizes, {} durations, {} key frame flags", video_durations.len(), video_keyframes.len()),
        )));
    }
    let mut frames = split_samples(video_data, video_sizes, "samples")?;
    if let Some(owned) = av1_owned {
        *owned = av1_stored(frames.iter().copied())?;
        let owned: &'a Vec<Vec<u8>> = owned;
        frames = owned.iter().map(Vec::as_slice).collect();
    }
    let video = frames
        .iter()
        .zip(video_durations.iter().zip(video_keyframes))
        .map(|(data, (&duration, &key))| Sample { duration, keyframe: key != 0, data })
        .collect();
    let audio = split_samples(audio_data, audio_sizes, "audio")?
        .into_iter()
        .zip(audio_durations)
        .map(|(data, &duration)| Sample { duration, keyframe: true, data })
        .collect();
    Ok((video, audio))
}

#[cfg(feature = "video")]
/// A fast-start MP4 of one encoded video track and, optionally, an AAC or Opus track
/// (`audio_*`, with `spec.audio`). `spec_json`: `{ codec: "avc"|"av1"|"vp9", width,
/// height, rotation?, timescale, mediaStart?, audio?: { codec?: "aac"|"opus", sampleRate,
/// channels, timescale, mediaStart? } }`; `video_config` the avcC / av1C / vpcC payload; per sample: sizes,
/// durations (ticks), key frame flags and presentation offsets (empty when none).
#[wasm_bindgen(js_name = muxMovie)]
#[allow(clippy::too_many_arguments)]
pub fn mux_movie(
    spec_json: &str,
    video_config: Vec<u8>,
    video_data: &[u8],
    video_sizes: &[u32],
    video_durations: &[u32],
    video_keyframes: &[u8],
    video_offsets: &[i32],
    audio_config: Option<Vec<u8>>,
    audio_data: Option<Vec<u8>>,
    audio_sizes: Option<Vec<u32>>,
    audio_durations: Option<Vec<u32>>,
) -> Result<Vec<u8>, JsValue> {
    use crate::video::mp4::{MuxLimits, MuxTrack, TrackMedia, VideoCodec, VideoTrack, mux_tracks};
    let audio_data = audio_data.unwrap_or_default();
    let (audio_sizes, audio_durations) = (audio_sizes.unwrap_or_default(), audio_durations.unwrap_or_default());
    let parts = movie_parts(
        spec_json,
        video_config,
        video_data,
        video_sizes,
        video_durations,
        video_keyframes,
        audio_config,
        &audio_data,
        &audio_sizes,
        &audio_durations,
    )?;
    let spec = &parts.spec;
    let audio_parts = parts.audio.as_ref().map(|(codec, config, _)| (codec.as_str(), config.clone()));
    let (video, audio_media) = mp4_media(spec, parts.video_config.clone(), audio_parts)?;
    let owned: Vec<Vec<u8>>;
    let mut video_samples = parts.video.clone();
    if matches!(video, TrackMedia::Video { track: VideoTrack { codec: VideoCodec::Av1 { .. }, .. }, .. }) {
        owned = av1_stored(parts.video.iter().map(|s| s.data))?;
        video_samples.iter_mut().zip(&owned).for_each(|(s, data)| s.data = data);
    }
    let mut tracks = vec![MuxTrack {
        media: &video,
        samples: &video_samples,
        composition_offsets: video_offsets,
        media_start: spec.media_start,
        end_padding_ns: 0,
    }];
    if let (Some(a), Some(media), Some((_, _, samples))) = (&spec.audio, &audio_media, &parts.audio) {
        tracks.push(MuxTrack {
            media,
            samples,
            composition_offsets: &[],
            media_start: a.media_start,
            end_padding_ns: a.end_padding_ns,
        });
    }
    mux_tracks(&tracks, &MuxLimits::default()).map_err(js_error)
}

#[cfg(feature = "video")]
/// A movie written as a transcode goes, for an output stream: `initSegment()` first, then
/// `fragment(...)` per group of frames, then `finish()`. Only the frames being written are in
/// memory. Call `free()` when done.
///  - MP4: a fragmented MP4: `ftyp` + `moov`, a `moof` + `mdat` per group, the `mfra` index.
///  - WebM: header, Info (with the duration) and Tracks, clusters per group, the Cues. Nothing
///    is written twice, so the Segment's size is left unknown and the Cues come last, as live
///    recorders write WebM.
#[wasm_bindgen]
pub struct MovieStreamWriter {
    muxer: StreamMuxer,
    init: Vec<u8>,
    av1: bool,
    audio: bool,
}

#[cfg(feature = "video")]
enum StreamMuxer {
    Mp4(crate::video::mp4::FragmentWriter),
    Webm(crate::video::webm::ClusterWriter),
}

#[cfg(feature = "video")]
#[wasm_bindgen]
impl MovieStreamWriter {
    /// `container` "mp4" or "webm"; `spec_json` and the codec records as `muxMovie` /
    /// `muxWebm` take them (the audio track exists when `spec.audio` and `audio_config` are both
    /// given); `duration`: the presented length in seconds, written into a WebM's Info (a
    /// transcode knows it from its source; an MP4's fragments carry their own times).
    #[wasm_bindgen(constructor)]
    pub fn new(
        container: &str,
        spec_json: &str,
        video_config: Vec<u8>,
        audio_config: Option<Vec<u8>>,
        duration: Option<f64>,
    ) -> Result<MovieStreamWriter, JsValue> {
        use crate::video::mp4::MuxLimits;
        let spec: MovieSpec =
            serde_json::from_str(spec_json).map_err(|e| js_error(Error::option("spec", e.to_string())))?;
        let (muxer, init, av1, audio) = match container {
            "mp4" => {
                use crate::video::mp4::{FragmentTrack, TrackMedia, VideoCodec, VideoTrack};
                let audio_codec = spec.audio.as_ref().map(AudioSpec::codec_name);
                let (video, audio) = mp4_media(&spec, video_config, audio_codec.zip(audio_config))?;
                let av1 =
                    matches!(video, TrackMedia::Video { track: VideoTrack { codec: VideoCodec::Av1 { .. }, .. }, .. });
                let mut tracks = vec![FragmentTrack { media: video, media_start: spec.media_start }];
                if let (Some(a), Some(media)) = (&spec.audio, audio) {
                    tracks.push(FragmentTrack { media, media_start: a.media_start });
                }
                let audio = tracks.len() > 1;
                let (writer, init) =
                    crate::video::mp4::FragmentWriter::new(tracks, MuxLimits::default()).map_err(js_error)?;
                (StreamMuxer::Mp4(writer), init, av1, audio)
            }
            "webm" => {
                use crate::video::webm::{ClusterWriter, WebmCodec, WebmMedia, WebmStreamTrack};
                let audio_codec = spec.audio.as_ref().map(AudioSpec::codec_name);
                let audio_parts = audio_codec.zip(audio_config.as_deref());
                let (video, audio) = webm_media(&spec, &video_config, audio_parts)?;
                let av1 = matches!(video, WebmMedia::Video { codec: WebmCodec::Av1 { .. }, .. });
                let mut tracks = vec![WebmStreamTrack {
                    media: video,
                    timescale: spec.timescale,
                    media_start: spec.media_start,
                    end_padding_ns: 0,
                }];
                if let (Some(a), Some(media)) = (&spec.audio, audio) {
                    tracks.push(WebmStreamTrack {
                        media,
                        timescale: a.timescale,
                        media_start: a.media_start,
                        end_padding_ns: a.end_padding_ns,
                    });
                }
                let audio = tracks.len() > 1;
                let (writer, init) = ClusterWriter::new(tracks, duration, MuxLimits::default()).map_err(js_error)?;
                (StreamMuxer::Webm(writer), init, av1, audio)
            }
            other => {
                return Err(js_error(Error::option(
                    "container",
                    format!("must be \"mp4\" or \"webm\", got {other:?}"),
                )));
            }
        };
        Ok(MovieStreamWriter { muxer, init, av1, audio })
    }

    /// The header (once; later calls give nothing).
    #[wasm_bindgen(js_name = initSegment)]
    pub fn init_segment(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.init)
    }

    /// A group of frames (decode order; sizes, durations, key frame flags, presentation
    /// offsets or none) and the audio packets that go with them (possibly none); `last`: they
    /// end the movie (a WebM's last blocks then say how long they last).
    #[allow(clippy::too_many_arguments)]
    pub fn fragment(
        &mut self,
        video_data: &[u8],
        video_sizes: &[u32],
        video_durations: &[u32],
        video_keyframes: &[u8],
        video_offsets: &[i32],
        audio_data: &[u8],
        audio_sizes: &[u32],
        audio_durations: &[u32],
        last: bool,
    ) -> Result<Vec<u8>, JsValue> {
        use crate::video::mp4::FragmentRun;
        let mut owned = Vec::new();
        let (frames, packets) = run_samples(
            video_data,
            video_sizes,
            video_durations,
            video_keyframes,
            audio_data,
            audio_sizes,
            audio_durations,
            self.av1.then_some(&mut owned),
        )?;
        let mut runs = vec![FragmentRun { samples: &frames, composition_offsets: video_offsets }];
        if self.audio {
            runs.push(FragmentRun { samples: &packets, composition_offsets: &[] });
        } else if !packets.is_empty() {
            return Err(js_error(Error::option("audio", "audio samples for a movie without an audio track")));
        }
        match &mut self.muxer {
            StreamMuxer::Mp4(writer) => writer.fragment(&runs),
            StreamMuxer::Webm(writer) => writer.clusters(&runs, last),
        }
        .map_err(js_error)
    }

    /// What ends the file: an MP4's `mfra` index, a WebM's Cues.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        match &mut self.muxer {
            StreamMuxer::Mp4(writer) => writer.finish(),
            StreamMuxer::Webm(writer) => writer.finish(),
        }
        .map_err(js_error)
    }
}

#[cfg(feature = "video")]
/// The MP4 tracks a movie spec describes: the video (with its codec record) and, with `audio`
/// (codec name and record: an AudioSpecificConfig for "aac", an OpusHead for "opus"), the audio.
fn mp4_media(
    spec: &MovieSpec,
    video_config: Vec<u8>,
    audio: Option<(&str, Vec<u8>)>,
) -> Result<(crate::video::mp4::TrackMedia, Option<crate::video::mp4::TrackMedia>), JsValue> {
    use crate::video::mp4::{AudioTrack, TrackMedia, VideoCodec, VideoTrack};
    let codec = match spec.codec.as_str() {
        "avc" => VideoCodec::Avc { avcc: video_config },
        "av1" => VideoCodec::Av1 { av1c: video_config },
        "vp9" => VideoCodec::Vp9 { vpcc: video_config },
        other => {
            return Err(js_error(Error::option(
                "codec",
                format!("must be \"avc\", \"av1\" or \"vp9\", got {other:?}"),
            )));
        }
    };
    let video = TrackMedia::Video {
        track: VideoTrack { codec, width: spec.width, height: spec.height, timescale: spec.timescale },
        rotation: spec.rotation,
    };
    let audio = match (&spec.audio, audio) {
        (Some(a), Some((codec, config))) => {
            let opus = config.starts_with(b"OpusHead");
            if !matches!((codec, opus), ("aac", false) | ("opus", true)) {
                return Err(js_error(Error::option(
                    "audio.codec",
                    format!(
                        "an MP4 holds \"aac\" (an AudioSpecificConfig) or \"opus\" (an OpusHead) audio, got {codec:?}"
                    ),
                )));
            }
            Some(TrackMedia::Audio(AudioTrack {
                config,
                sample_rate: a.sample_rate,
                channels: a.channels,
                timescale: a.timescale,
            }))
        }
        _ => None,
    };
    Ok((video, audio))
}
