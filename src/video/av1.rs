//! GIF -> AV1 MP4 or WebM with rav1e, for runtimes without WebCodecs (Node, Deno, Bun): frames are
//! pulled one at a time from the GIF, converted to 8-bit 4:2:0 BT.709 (limited range, what
//! every AV1 decoder plays; 4:4:4 on request), encoded with a fast preset at a constant
//! quantizer, and muxed with their GIF display times. Sampled frames can be scored from
//! rav1e's reconstruction as they are encoded (`av1_target` searches the quality on that).

use rav1e::prelude::*;
use serde::Deserialize;

use super::VideoContainer;
use super::gif::{GifFrames, GifFramesOptions};
use super::mp4::{MuxLimits, Sample, VideoCodec, VideoTrack, mux};
use super::webm::{WebmCodec, WebmMedia, WebmTrack};
use crate::encode::{av1_video_sample, av1c_record};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};
use crate::limits::DEFAULT_MAX_FRAMES;
use crate::pipeline::TargetScore;

/// Chroma resolution of the AV1 video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Chroma {
    #[serde(rename = "420")]
    Cs420,
    #[serde(rename = "444")]
    Cs444,
}

impl Chroma {
    /// Luma pixels per chroma sample, each way.
    fn step(self) -> usize {
        match self {
            Chroma::Cs420 => 2,
            Chroma::Cs444 => 1,
        }
    }
}

/// rav1e refuses frames smaller than this on either side.
pub const MIN_SIDE: u32 = 16;

/// What the rav1e path takes (JSON from JS: camelCase, unknown names refused).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Av1VideoOptions {
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    /// 1-100, as for AVIF (ravif's quantizer mapping).
    pub quality: u8,
    /// When set, `quality` is searched (see `av1_target`): the smallest video whose sampled
    /// frames all score at least this (SSIMULACRA2).
    pub target: Option<TargetScore>,
    /// `420` (default: AV1 Main profile, which every AV1 decoder plays) or `444` (High
    /// profile: full-resolution colour for small, saturated graphics; Chromium plays it,
    /// decoders limited to Main profile, such as many hardware ones, do not).
    pub chroma: Chroma,
    /// rav1e speed preset, 0 (slowest) to 10.
    pub speed: u8,
    /// At most this many frames between key frames (seeking, and a looped video's restart).
    pub key_frame_interval: u32,
    pub max_frames: u32,
    pub background: [u8; 3],
    /// `mp4` (default) or `webm`.
    pub container: VideoContainer,
}

impl Default for Av1VideoOptions {
    fn default() -> Self {
        Av1VideoOptions {
            max_width: None,
            max_height: None,
            quality: 60,
            target: None,
            chroma: Chroma::Cs420,
            speed: 10,
            key_frame_interval: 120,
            max_frames: DEFAULT_MAX_FRAMES,
            background: [255, 255, 255],
            container: VideoContainer::Mp4,
        }
    }
}

impl Av1VideoOptions {
    pub fn from_json(json: &str) -> Result<Self> {
        let options: Self = Error::options_from_json(json)?;
        if !(1..=100).contains(&options.quality) {
            return Err(Error::option("quality", format!("must be 1 to 100, got {}", options.quality)));
        }
        if options.speed > 10 {
            return Err(Error::option("speed", format!("must be 0 to 10, got {}", options.speed)));
        }
        if options.key_frame_interval == 0 {
            return Err(Error::option("keyFrameInterval", "must be at least 1"));
        }
        Ok(options)
    }
}

/// An encoded video and what a page needs to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedVideo {
    pub bytes: Vec<u8>,
    /// The RFC 6381 codec string, e.g. `av01.0.04M.08`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub duration_ms: u64,
}

/// Encodes an animated GIF as an AV1 MP4 or WebM. `progress(done, total)` is called after each frame.
pub fn gif_to_av1(
    input: Vec<u8>,
    options: &Av1VideoOptions,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<EncodedVideo> {
    encode_pass(input, options, 0, progress).map(|pass| pass.video)
}

/// One encode at `options.quality`, with the SSIMULACRA2 scores of up to `scored_frames` frames
/// spread over the animation: rav1e's reconstruction (what a decoder shows) against the
/// composited GIF frame at the output size.
pub(crate) struct Pass {
    pub video: EncodedVideo,
    /// (frame index, score), in frame order.
    pub scores: Vec<(u32, f64)>,
}

/// The frames scored: `samples` indices spread evenly from the first to the last frame.
pub(crate) fn sample_indices(frame_count: u32, samples: u32) -> Vec<u32> {
    let n = samples.min(frame_count);
    let mut out: Vec<u32> = match n {
        0 => Vec::new(),
        1 => vec![0],
        _ => (0..n)
            .map(|i| ((u64::from(i) * u64::from(frame_count - 1) + u64::from(n - 1) / 2) / u64::from(n - 1)) as u32)
            .collect(),
    };
    out.dedup();
    out
}

pub(crate) fn encode_pass(
    input: Vec<u8>,
    options: &Av1VideoOptions,
    scored_frames: u32,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Pass> {
    let frame_options = GifFramesOptions {
        max_width: options.max_width,
        max_height: options.max_height,
        even: true,
        background: options.background,
        max_frames: options.max_frames,
        ..GifFramesOptions::default()
    };
    let mut gif = GifFrames::open(input, &frame_options)?;
    check_min_size(&gif, options)?;
    let (w, h) = (gif.width as usize, gif.height as usize);
    let sampled = sample_indices(gif.frame_count, scored_frames);
    let mut references: Vec<(u64, Image)> = Vec::with_capacity(sampled.len());
    let mut scores: Vec<(u32, f64)> = Vec::with_capacity(sampled.len());
    let quantizer = crate::encode::quality_to_quantizer(f32::from(options.quality));
    let mut config = EncoderConfig::with_speed_preset(options.speed);
    config.width = w;
    config.height = h;
    config.bit_depth = 8;
    config.chroma_sampling = match options.chroma {
        Chroma::Cs420 => ChromaSampling::Cs420,
        Chroma::Cs444 => ChromaSampling::Cs444,
    };
    config.pixel_range = PixelRange::Limited;
    config.color_description = Some(ColorDescription {
        color_primaries: ColorPrimaries::BT709,
        transfer_characteristics: TransferCharacteristics::SRGB,
        matrix_coefficients: MatrixCoefficients::BT709,
    });
    config.quantizer = usize::from(quantizer);
    config.min_quantizer = quantizer;
    config.bitrate = 0;
    // No frame reordering: one packet per frame, in order, so durations map directly.
    config.low_latency = true;
    config.min_key_frame_interval = 0;
    config.max_key_frame_interval = u64::from(options.key_frame_interval);
    config.level_idx = Some(level_for(gif.width, gif.height));
    let mut ctx: Context<u8> =
        Config::new().with_encoder_config(config).with_threads(1).new_context().map_err(|e| Error::encode("av1", e))?;

    let total = gif.frame_count;
    let mut durations = Vec::with_capacity(total as usize);
    let mut packets: Vec<(bool, Vec<u8>, u64)> = Vec::with_capacity(total as usize);
    let drain = |ctx: &mut Context<u8>,
                 packets: &mut Vec<(bool, Vec<u8>, u64)>,
                 references: &mut Vec<(u64, Image)>,
                 scores: &mut Vec<(u32, f64)>|
     -> Result<bool> {
        loop {
            match ctx.receive_packet() {
                Ok(p) => {
                    if let Some(at) = references.iter().position(|(n, _)| *n == p.input_frameno) {
                        let (frameno, reference) = references.swap_remove(at);
                        let Some(rec) = &p.rec else {
                            return Err(Error::encode(
                                "av1",
                                format!("rav1e returned no reconstruction of frame {frameno}"),
                            ));
                        };
                        let shown = reconstruction_rgb(rec, w, h, options.chroma.step());
                        scores.push((frameno as u32, crate::quality::ssimulacra2(&reference, &shown)?));
                    }
                    packets.push((p.frame_type == FrameType::KEY, p.data, p.input_frameno));
                }
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::NeedMoreData) => return Ok(false),
                Err(EncoderStatus::LimitReached) => return Ok(true),
                Err(e) => return Err(Error::encode("av1", e)),
            }
        }
    };
    let step = options.chroma.step();
    let (cw, ch) = (w.div_ceil(step), h.div_ceil(step));
    let (mut y, mut u, mut v) = (vec![0u8; w * h], vec![0u8; cw * ch], vec![0u8; cw * ch]);
    while let Some(frame) = gif.next_frame()? {
        rgba_to_yuv(&frame.image.pixels, w, h, step, &mut y, &mut u, &mut v);
        let mut f = ctx.new_frame();
        for (plane, (data, stride)) in f.planes.iter_mut().zip([(&y, w), (&u, cw), (&v, cw)]) {
            plane.copy_from_raw_u8(data, stride, 1);
        }
        ctx.send_frame(f).map_err(|e| Error::encode("av1", e))?;
        if sampled.contains(&frame.index) {
            // Opaque already: flattening only drops the alpha channel (scored once, not twice).
            references.push((u64::from(frame.index), frame.image.flatten(options.background)));
        }
        durations.push(frame.duration_ms);
        drain(&mut ctx, &mut packets, &mut references, &mut scores)?;
        progress(frame.index + 1, total);
    }
    ctx.flush();
    while !drain(&mut ctx, &mut packets, &mut references, &mut scores)? {}
    if let Some((frameno, _)) = references.first() {
        return Err(Error::encode("av1", format!("rav1e returned no packet for sampled frame {frameno}")));
    }
    scores.sort_by_key(|(i, _)| *i);

    let Some((_, first, _)) = packets.first() else {
        return Err(Error::encode("av1", "rav1e returned no packets"));
    };
    let (av1c, seq) = av1c_record(first)?;
    let data = packets.iter().map(|(_, d, _)| av1_video_sample(d)).collect::<Result<Vec<_>>>()?;
    let mut samples = Vec::with_capacity(packets.len());
    for ((key, _, frameno), data) in packets.iter().zip(&data) {
        let duration = usize::try_from(*frameno).ok().and_then(|i| durations.get(i)).copied();
        let duration = duration
            .ok_or_else(|| Error::encode("av1", format!("a packet for frame {frameno}, which was never sent")))?;
        samples.push(Sample { duration, keyframe: *key, data });
    }
    if samples.len() != durations.len() {
        return Err(Error::encode("av1", format!("{} packets for {} frames", samples.len(), durations.len())));
    }
    let bytes = match options.container {
        VideoContainer::Mp4 => {
            let track =
                VideoTrack { codec: VideoCodec::Av1 { av1c }, width: gif.width, height: gif.height, timescale: 1000 };
            mux(&track, &samples, &MuxLimits::default())?
        }
        VideoContainer::Webm => {
            let media = WebmMedia::Video { codec: WebmCodec::Av1 { av1c }, width: gif.width, height: gif.height };
            let track = WebmTrack {
                media: &media,
                timescale: 1000,
                samples: &samples,
                composition_offsets: &[],
                media_start: 0,
                end_padding_ns: 0,
            };
            super::webm::mux(&[track], &MuxLimits::default())?
        }
    };
    let codec =
        format!("av01.{}.{:02}{}.{:02}", seq.profile, seq.level, if seq.tier { 'H' } else { 'M' }, seq.bit_depth);
    let video = EncodedVideo {
        bytes,
        codec,
        width: gif.width,
        height: gif.height,
        frames: samples.len() as u32,
        duration_ms: durations.iter().map(|&d| u64::from(d)).sum(),
    };
    Ok(Pass { video, scores })
}

/// rav1e refuses pictures under 16 px a side late, after decoding; this says so up front,
/// naming the limit (and `maxWidth`/`maxHeight` when they made it that small).
fn check_min_size(gif: &GifFrames, options: &Av1VideoOptions) -> Result<()> {
    if gif.width >= MIN_SIDE && gif.height >= MIN_SIDE {
        return Ok(());
    }
    let size = format!("{}x{}", gif.width, gif.height);
    if gif.source_width >= MIN_SIDE
        && gif.source_height >= MIN_SIDE
        && (options.max_width.is_some() || options.max_height.is_some())
    {
        return Err(Error::option(
            "maxWidth/maxHeight",
            format!("{size} is too small for AV1 video: rav1e needs at least {MIN_SIDE}x{MIN_SIDE} pixels"),
        ));
    }
    Err(Error::UnsupportedFormat {
        what: format!(
            "a {}x{} GIF as AV1 video ({size} after even rounding): rav1e needs at least {MIN_SIDE}x{MIN_SIDE} pixels",
            gif.source_width, gif.source_height
        ),
    })
}

/// rav1e's reconstruction (8-bit limited-range BT.709, chroma every `step` pixels) as RGB:
/// what a decoder shows, up to the decoder's own chroma upsampling (here nearest, as the
/// encoder averaged `step` x `step` blocks).
fn reconstruction_rgb(rec: &rav1e::Frame<u8>, w: usize, h: usize, step: usize) -> Image {
    const KR: f32 = 0.2126;
    const KB: f32 = 0.0722;
    const KG: f32 = 1.0 - KR - KB;
    let [yp, up, vp] = &rec.planes;
    let mut pixels = Vec::with_capacity(w * h * 3);
    fn repeat<'a>(rows: impl Iterator<Item = &'a [u8]>, step: usize) -> impl Iterator<Item = &'a [u8]> {
        rows.flat_map(move |r| std::iter::repeat_n(r, step))
    }
    for (yrow, (urow, vrow)) in
        yp.rows_iter().take(h).zip(repeat(up.rows_iter(), step).zip(repeat(vp.rows_iter(), step)))
    {
        for x in 0..w {
            let get = |r: &[u8], i: usize| f32::from(r.get(i).copied().unwrap_or(128));
            let yy = (get(yrow, x) - 16.0) * 255.0 / 219.0;
            let cb = (get(urow, x / step) - 128.0) * 255.0 / 224.0;
            let cr = (get(vrow, x / step) - 128.0) * 255.0 / 224.0;
            let r = yy + 2.0 * (1.0 - KR) * cr;
            let b = yy + 2.0 * (1.0 - KB) * cb;
            let g = (yy - KR * r - KB * b) / KG;
            pixels.extend([r, g, b].map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    Image::new(w as u32, h as u32, PixelLayout::Rgb8, pixels)
}

/// The AV1 level (seq_level_idx) whose picture-size limits hold `width` x `height` (annex A).
fn level_for(width: u32, height: u32) -> u8 {
    const LEVELS: [(u8, u64, u32, u32); 7] = [
        (0, 147_456, 2048, 1152),
        (1, 278_784, 2816, 1584),
        (4, 665_856, 4352, 2448),
        (5, 1_065_024, 5504, 3096),
        (8, 2_359_296, 6144, 3456),
        (12, 8_912_896, 8192, 4352),
        (16, 35_651_584, 16384, 8704),
    ];
    LEVELS
        .iter()
        .find(|(_, pic, mw, mh)| u64::from(width) * u64::from(height) <= *pic && width <= *mw && height <= *mh)
        .map_or(31, |l| l.0)
}

/// Opaque RGBA -> 8-bit limited-range BT.709 Y, and Cb/Cr averaged over 2x2 blocks.
#[cfg(test)]
fn rgba_to_i420(rgba: &[u8], w: usize, h: usize, y: &mut [u8], u: &mut [u8], v: &mut [u8]) {
    rgba_to_yuv(rgba, w, h, 2, y, u, v);
}

/// Opaque RGBA -> 8-bit limited-range BT.709 Y, and Cb/Cr averaged over `step` x `step`
/// blocks (2: 4:2:0, 1: 4:4:4).
fn rgba_to_yuv(rgba: &[u8], w: usize, h: usize, step: usize, y: &mut [u8], u: &mut [u8], v: &mut [u8]) {
    const KR: f32 = 0.2126;
    const KB: f32 = 0.0722;
    const KG: f32 = 1.0 - KR - KB;
    let rgb = |p: &[u8]| match p {
        [r, g, b, ..] => [f32::from(*r), f32::from(*g), f32::from(*b)],
        _ => [0.0; 3],
    };
    let luma = |[r, g, b]: [f32; 3]| KR * r + KG * g + KB * b;
    for (out, px) in y.iter_mut().zip(rgba.chunks_exact(4)) {
        *out = (16.0 + luma(rgb(px)) * 219.0 / 255.0).round().clamp(0.0, 255.0) as u8;
    }
    let cw = w.div_ceil(step);
    for cy in 0..h.div_ceil(step) {
        for cx in 0..cw {
            let (mut cb, mut cr, mut n) = (0.0f32, 0.0f32, 0.0f32);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().filter(|&(dx, dy)| dx < step && dy < step) {
                let (x, yy) = (cx * step + dx, cy * step + dy);
                let Some(p) = (x < w && yy < h).then(|| rgba.get((yy * w + x) * 4..(yy * w + x) * 4 + 4)).flatten()
                else {
                    continue;
                };
                let [r, g, b] = rgb(p);
                let l = luma([r, g, b]);
                cb += (b - l) / (2.0 * (1.0 - KB));
                cr += (r - l) / (2.0 * (1.0 - KR));
                n += 1.0;
            }
            let to8 = |c: f32| (128.0 + c / n.max(1.0) * 224.0 / 255.0).round().clamp(0.0, 255.0) as u8;
            if let (Some(ou), Some(ov)) = (u.get_mut(cy * cw + cx), v.get_mut(cy * cw + cx)) {
                *ou = to8(cb);
                *ov = to8(cr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_and_primaries_convert_to_studio_range() {
        let (mut y, mut u, mut v) = ([0u8; 4], [0u8; 1], [0u8; 1]);
        rgba_to_i420(
            &[255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255],
            2,
            2,
            &mut y,
            &mut u,
            &mut v,
        );
        assert_eq!((y, u, v), ([235, 235, 16, 16], [128], [128]));
        rgba_to_i420(&[255, 0, 0, 255].repeat(4), 2, 2, &mut y, &mut u, &mut v);
        assert_eq!((y[0], u[0], v[0]), (63, 102, 240), "BT.709 red");
        assert_eq!(level_for(320, 240), 0);
        assert_eq!(level_for(1920, 1080), 8);
    }
}
