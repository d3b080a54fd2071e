//! AVIF: rav1e encodes the AV1 key frame(s), avif-serialize writes the container.
//!
//! rav1e is driven directly (not through ravif) because rav1e hands back its reconstruction
//! of each frame: the exact pixels a decoder will show. That lets `quality: "auto"` score AVIF
//! output without an AV1 decoder in the core. Colour is 4:4:4 YCbCr BT.601 full range at 10
//! bits, and the rate settings follow ravif's (BSD-3-Clause) tuned still-image presets.

use rav1e::prelude::*;

use super::{EncodeOptions, OutputFormat, default_quality};
use crate::error::{Error, Result};
use crate::image::{Image, PixelLayout};

/// Kr, Kg, Kb of BT.601 (what ravif and most AVIF encoders use for 8-bit sRGB sources).
const BT601: [f32; 3] = [0.2990, 0.5870, 0.1140];
/// Sample depth: rav1e works at 10 bits (no banding from the colour conversion); libaom at 8,
/// like sharp, avifenc and jSquash by default, which takes its faster 8-bit code paths.
#[cfg(not(all(feature = "aom", target_arch = "wasm32")))]
const DEPTH: usize = 10;
#[cfg(all(feature = "aom", target_arch = "wasm32"))]
const DEPTH: usize = 8;
const MAX: f32 = ((1 << DEPTH) - 1) as f32;

/// An AVIF file and the pixels a decoder will show for it.
pub struct AvifOutput {
    pub bytes: Vec<u8>,
    pub reconstruction: Image,
}

pub(super) fn encode(image: &Image, options: &EncodeOptions) -> Result<Vec<u8>> {
    encode_with_reconstruction(image, options).map(|out| out.bytes)
}

pub fn encode_with_reconstruction(image: &Image, options: &EncodeOptions) -> Result<AvifOutput> {
    let quality = f32::from(options.quality.unwrap_or(default_quality(OutputFormat::Avif)));
    let alpha_quality = options.alpha_quality.map_or(quality, f32::from);
    let effort = options.effort;
    let (w, h) = (image.width as usize, image.height as usize);
    let alpha = image.has_alpha_channel() && image.has_transparency();
    let channels = image.layout.channels();

    let color = Av1Frame::encode(
        w,
        h,
        color_sampling(quality, options.avif_chroma),
        quality,
        effort,
        Some(color_description()),
        |planes| {
            let [y, u, v] = planes else { return };
            for (row, px_row) in image.pixels.chunks_exact(w * channels).enumerate() {
                for (x, px) in px_row.chunks_exact(channels).enumerate() {
                    let (py, pu, pv) = rgb_to_ycbcr(px[0], px[1], px[2]);
                    y[row * w + x] = py;
                    u[row * w + x] = pu;
                    v[row * w + x] = pv;
                }
            }
        },
    )?;
    let alpha_frame = if alpha {
        Some(Av1Frame::encode(w, h, ChromaSampling::Cs400, alpha_quality, effort, None, |planes| {
            let [a, ..] = planes else { return };
            for (i, px) in image.pixels.chunks_exact(4).enumerate() {
                a[i] = to_sample(px[3]);
            }
        })?)
    } else {
        None
    };
    // The container's av1C boxes (profile, depth, subsampling) and colour come from each
    // frame's sequence header.
    let bytes = super::avif_container::avif_from_av1(
        &color.bitstream,
        alpha_frame.as_ref().map(|a| a.bitstream.as_slice()),
        image.width,
        image.height,
        None,
        options.metadata.exif.clone(),
    )?;

    // What a decoder shows: the reconstructed planes back to 8-bit RGB(A).
    let layout = if alpha { PixelLayout::Rgba8 } else { PixelLayout::Rgb8 };
    let mut pixels = Vec::with_capacity(w * h * layout.channels());
    for i in 0..w * h {
        let [r, g, b] = ycbcr_to_rgb(color.planes[0][i], color.planes[1][i], color.planes[2][i]);
        pixels.extend_from_slice(&[r, g, b]);
        if let Some(a) = &alpha_frame {
            pixels.push(from_sample(a.planes[0][i]));
        }
    }
    Ok(AvifOutput { bytes, reconstruction: Image::new(image.width, image.height, layout, pixels) })
}

/// One AV1 still frame: its bitstream and rav1e's reconstruction of each plane (no padding).
struct Av1Frame {
    bitstream: Vec<u8>,
    planes: Vec<Vec<u16>>,
}

impl Av1Frame {
    fn encode(
        width: usize,
        height: usize,
        chroma: ChromaSampling,
        quality: f32,
        effort: u8,
        color_description: Option<ColorDescription>,
        fill: impl FnOnce(&mut [Vec<u16>]),
    ) -> Result<Self> {
        let planes_n = if chroma == ChromaSampling::Cs400 { 1 } else { 3 };
        let mut source = vec![vec![0u16; width * height]; planes_n];
        fill(&mut source);
        // Wasm builds with libaom use it: the same encoder as sharp, avifenc and jSquash
        // (fewer bytes at equal score, and faster in wasm than rav1e; bench:avif).
        #[cfg(all(feature = "aom", target_arch = "wasm32"))]
        {
            let _ = color_description; // libaom's layer sets the same CICP triple for colour.
            let subsampled = chroma == ChromaSampling::Cs420;
            if subsampled {
                for plane in &mut source[1..] {
                    *plane = halve_plane(plane, width, height);
                }
            }
            let (w, h) = (width as u32, height as u32);
            let cq_level = super::aom::cq_level(quality);
            let cpu_used = super::aom::cpu_used(effort);
            let mut still = super::aom::encode_still(&source, DEPTH as u8, subsampled, w, h, cq_level, cpu_used)?;
            if subsampled {
                for plane in &mut still.planes[1..] {
                    *plane = double_plane(plane, width, height);
                }
            }
            return Ok(Av1Frame { bitstream: still.bitstream, planes: still.planes });
        }
        #[allow(unreachable_code)]
        let quantizer = quality_to_quantizer(quality);
        let speed = rav1e_speed(effort);
        let config = Config::new().with_encoder_config(encoder_config(
            width,
            height,
            chroma,
            quantizer,
            speed,
            color_description,
        ));
        let mut ctx: Context<u16> = config.new_context().map_err(|e| Error::encode("avif", e))?;
        let mut frame = ctx.new_frame();
        for (plane, data) in frame.planes.iter_mut().zip(&source) {
            plane.copy_from_raw_u8(bytemuck_u16(data), width * 2, 2);
        }
        ctx.send_frame(frame).map_err(|e| Error::encode("avif", e))?;
        ctx.flush();
        let mut bitstream = Vec::new();
        let mut planes = Vec::new();
        loop {
            match ctx.receive_packet() {
                Ok(mut packet) => {
                    if packet.frame_type == FrameType::KEY {
                        bitstream.append(&mut packet.data);
                        if let Some(rec) = &packet.rec {
                            planes = rec.planes[..planes_n]
                                .iter()
                                .map(|p| {
                                    p.rows_iter().take(height).flat_map(|row| row[..width].iter().copied()).collect()
                                })
                                .collect();
                        }
                    }
                }
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::LimitReached) => break,
                Err(e) => return Err(Error::encode("avif", e)),
            }
        }
        if planes.len() != planes_n {
            return Err(Error::encode("avif", "rav1e returned no reconstruction"));
        }
        Ok(Av1Frame { bitstream, planes })
    }
}

/// `u16` samples as the little-endian bytes `copy_from_raw_u8` reads.
fn bytemuck_u16(data: &[u16]) -> &[u8] {
    // SAFETY: u16 has no padding and u8 has alignment 1; the length covers exactly the slice.
    // Wasm and x86 are little-endian, as rav1e's byte reader expects.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

fn color_description() -> ColorDescription {
    ColorDescription {
        transfer_characteristics: TransferCharacteristics::SRGB,
        color_primaries: ColorPrimaries::BT709,
        matrix_coefficients: MatrixCoefficients::BT601,
    }
}

fn encoder_config(
    width: usize,
    height: usize,
    chroma_sampling: ChromaSampling,
    quantizer: u8,
    speed: u8,
    color_description: Option<ColorDescription>,
) -> EncoderConfig {
    EncoderConfig {
        width,
        height,
        time_base: Rational::new(1, 1),
        sample_aspect_ratio: Rational::new(1, 1),
        bit_depth: DEPTH,
        chroma_sampling,
        chroma_sample_position: ChromaSamplePosition::Unknown,
        pixel_range: PixelRange::Full,
        color_description,
        mastering_display: None,
        content_light: None,
        enable_timing_info: false,
        still_picture: true,
        error_resilient: false,
        switch_frame_interval: 0,
        min_key_frame_interval: 0,
        max_key_frame_interval: 0,
        reservoir_frame_delay: None,
        low_latency: false,
        quantizer: usize::from(quantizer),
        min_quantizer: quantizer,
        bitrate: 0,
        tune: Tune::Psychovisual,
        tile_cols: 0,
        tile_rows: 0,
        tiles: 1,
        film_grain_params: None,
        level_idx: None,
        speed_settings: speed_settings(speed, quantizer),
    }
}

/// ravif's mapping from a 1-100 quality to rav1e's 0-255 quantizer.
pub(crate) fn quality_to_quantizer(quality: f32) -> u8 {
    let q = quality / 100.0;
    let x = if q >= 0.82 {
        (1.0 - q) * 2.6
    } else if q > 0.25 {
        q.mul_add(-0.5, 1.0 - 0.125)
    } else {
        1.0 - q
    };
    (x * 255.0).round() as u8
}

/// rav1e's preset for `speed`, with ravif's still-image adjustments (no inter prediction
/// tools, partition sizes by quality).
fn speed_settings(speed: u8, quantizer: u8) -> SpeedSettings {
    let low_quality = quantizer < quality_to_quantizer(55.0);
    let high_quality = quantizer > quality_to_quantizer(80.0);
    let max_block = if high_quality { 16 } else { 64 };
    let mut s = SpeedSettings::from_preset(speed);
    s.multiref = false;
    s.rdo_lookahead_frames = 1;
    s.scene_detection_mode = SceneDetectionSpeed::None;
    s.motion.include_near_mvs = false;
    s.fast_deblock = speed >= 7 && !high_quality;
    s.transform.reduced_tx_set = speed == 4 || speed >= 9;
    s.transform.tx_domain_rate = speed >= 10;
    s.partition.encode_bottomup = speed <= 2;
    s.transform.rdo_tx_decision = speed <= 4 && !high_quality;
    s.cdef = low_quality && speed <= 9;
    s.lrf = low_quality && speed <= 8;
    s.transform.enable_inter_tx_split = speed >= 9;
    s.sgr_complexity = if speed <= 2 { SGRComplexityLevel::Full } else { SGRComplexityLevel::Reduced };
    s.motion.use_satd_subpel = false;
    s.prediction.fine_directional_intra = speed <= 6;
    s.prediction.prediction_modes =
        if speed <= 1 { PredictionModesSetting::ComplexAll } else { PredictionModesSetting::Simple };
    let block = |n: u8| match n {
        4 => BlockSize::BLOCK_4X4,
        8 => BlockSize::BLOCK_8X8,
        16 => BlockSize::BLOCK_16X16,
        32 => BlockSize::BLOCK_32X32,
        _ => BlockSize::BLOCK_64X64,
    };
    let (min, max) = match speed {
        0 => (4, 64.min(max_block)),
        1 if low_quality => (4, 64.min(max_block)),
        2 if low_quality => (4, 32.min(max_block)),
        1..=4 => (4, 16),
        5..=8 => (8, 16),
        _ => (16, 16),
    };
    s.partition.partition_range = PartitionRange::new(block(min), block(max));
    s
}

/// rav1e speed 1 (slowest) to 10; effort 4 (our default) is speed 6.
fn rav1e_speed(effort: u8) -> u8 {
    10u8.saturating_sub(effort.min(9))
}

/// Chroma sampling for colour: the caller's, else by `quality`. libaom gets 4:2:0 below
/// SUBSAMPLED_BELOW (about half the work, as jSquash's default, and fewer bytes at equal
/// score on photos at these qualities; bench:avif), 4:4:4 from there, where fine colour detail
/// shows. rav1e (native builds) always gets 4:4:4.
fn color_sampling(quality: f32, asked: Option<super::ChromaSubsampling>) -> ChromaSampling {
    const SUBSAMPLED_BELOW: f32 = 90.0;
    if !cfg!(all(feature = "aom", target_arch = "wasm32")) {
        return ChromaSampling::Cs444;
    }
    match asked {
        Some(super::ChromaSubsampling::Yuv420) => ChromaSampling::Cs420,
        Some(super::ChromaSubsampling::Yuv444) => ChromaSampling::Cs444,
        None if quality < SUBSAMPLED_BELOW => ChromaSampling::Cs420,
        None => ChromaSampling::Cs444,
    }
}

/// A full-resolution chroma plane averaged over 2x2 blocks (edges repeat), for 4:2:0.
#[cfg_attr(not(all(feature = "aom", target_arch = "wasm32")), allow(dead_code))]
fn halve_plane(plane: &[u16], width: usize, height: usize) -> Vec<u16> {
    let (hw, hh) = (width.div_ceil(2), height.div_ceil(2));
    let at =
        |x: usize, y: usize| u32::from(plane.get(y.min(height - 1) * width + x.min(width - 1)).copied().unwrap_or(0));
    let mut out = Vec::with_capacity(hw * hh);
    for y in 0..hh {
        for x in 0..hw {
            let sum = at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1);
            out.push(((sum + 2) / 4) as u16);
        }
    }
    out
}

/// A 4:2:0 chroma plane back at full resolution as decoders show it: bilinear with centred
/// samples (weights 3/4 and 1/4 each way, as libyuv's and libwebp's "fancy" upsampling).
#[cfg_attr(not(all(feature = "aom", target_arch = "wasm32")), allow(dead_code))]
fn double_plane(plane: &[u16], width: usize, height: usize) -> Vec<u16> {
    let (hw, hh) = (width.div_ceil(2), height.div_ceil(2));
    let at = |x: isize, y: isize| {
        let (x, y) = (x.clamp(0, hw as isize - 1) as usize, y.clamp(0, hh as isize - 1) as usize);
        u32::from(plane.get(y * hw + x).copied().unwrap_or(0))
    };
    let mut out = Vec::with_capacity(width * height);
    for y in 0..height {
        let (cy, ny) = ((y / 2) as isize, if y % 2 == 0 { (y / 2) as isize - 1 } else { (y / 2) as isize + 1 });
        for x in 0..width {
            let (cx, nx) = ((x / 2) as isize, if x % 2 == 0 { (x / 2) as isize - 1 } else { (x / 2) as isize + 1 });
            let sum = 9 * at(cx, cy) + 3 * at(nx, cy) + 3 * at(cx, ny) + at(nx, ny);
            out.push(((sum + 8) / 16) as u16);
        }
    }
    out
}

/// An 8-bit value at DEPTH bits (bit replication: 255 stays the maximum).
fn to_sample(x: u8) -> u16 {
    (u16::from(x) << (DEPTH - 8)) | (u16::from(x) >> (16 - DEPTH))
}

fn from_sample(x: u16) -> u8 {
    ((f32::from(x).min(MAX) * 255.0 / MAX).round()) as u8
}

fn rgb_to_ycbcr(r: u8, g: u8, b: u8) -> (u16, u16, u16) {
    let [kr, kg, kb] = BT601;
    let scale = MAX / 255.0;
    let shift = (MAX * 0.5).round();
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    let y = (scale * kb).mul_add(b, (scale * kr).mul_add(r, scale * kg * g));
    let cb = b.mul_add(scale, -y).mul_add(0.5 / (1.0 - kb), shift);
    let cr = r.mul_add(scale, -y).mul_add(0.5 / (1.0 - kr), shift);
    let clamp = |v: f32| v.round().clamp(0.0, MAX) as u16;
    (clamp(y), clamp(cb), clamp(cr))
}

/// The inverse as libavif/dav1d apply it: full range, BT.601, 10-bit to 8-bit.
fn ycbcr_to_rgb(y: u16, cb: u16, cr: u16) -> [u8; 3] {
    let [kr, kg, kb] = BT601;
    let (y, cb, cr) = (f32::from(y) / MAX, f32::from(cb) / MAX - 0.5, f32::from(cr) / MAX - 0.5);
    let r = y + 2.0 * (1.0 - kr) * cr;
    let b = y + 2.0 * (1.0 - kb) * cb;
    let g = (y - kr * r - kb * b) / kg;
    let to8 = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    [to8(r), to8(g), to8(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_conversion_round_trips_within_one_step() {
        for (r, g, b) in [(0, 0, 0), (255, 255, 255), (255, 0, 0), (12, 200, 99), (128, 128, 128)] {
            let (y, cb, cr) = rgb_to_ycbcr(r, g, b);
            let back = ycbcr_to_rgb(y, cb, cr);
            for (a, b) in back.iter().zip([r, g, b]) {
                assert!(a.abs_diff(b) <= 1, "{:?} -> {:?}", (r, g, b), back);
            }
        }
        assert_eq!(from_sample(to_sample(200)), 200);
    }

    #[test]
    fn chroma_halves_and_doubles_back() {
        // A smooth ramp (odd size: the last column and row have no partner) survives 4:2:0.
        let (w, h) = (9, 5);
        let plane: Vec<u16> = (0..w * h).map(|i| (100 + (i % w) * 4 + (i / w) * 2) as u16).collect();
        let half = halve_plane(&plane, w, h);
        assert_eq!(half.len(), 5 * 3);
        assert_eq!(half[0], 103); // (100 + 104 + 102 + 106) / 4
        let back = double_plane(&half, w, h);
        assert_eq!(back.len(), w * h);
        for (a, b) in back.iter().zip(&plane) {
            assert!(a.abs_diff(*b) <= 4, "{back:?} vs {plane:?}");
        }
        // A flat plane stays exactly flat.
        let flat = vec![77u16; w * h];
        assert_eq!(double_plane(&halve_plane(&flat, w, h), w, h), flat);
    }

    /// rav1e's own still frame (reduced still-picture header, 10-bit 4:4:4) through the
    /// container used for WebCodecs frames: the parsed header says what rav1e was asked for.
    #[test]
    fn rav1e_frames_wrap_through_avif_from_av1() {
        use super::super::avif_container::{avif_from_av1, parse_sequence_header};
        let (w, h) = (37, 21);
        let frame = Av1Frame::encode(w, h, ChromaSampling::Cs444, 60.0, 0, Some(color_description()), |planes| {
            for (i, v) in planes[0].iter_mut().enumerate() {
                *v = (i * 7 % 1024) as u16;
            }
            planes[1].fill(512);
            planes[2].fill(512);
        })
        .unwrap();
        let seq = parse_sequence_header(&frame.bitstream).unwrap();
        assert!(seq.still_picture && seq.reduced_still_picture_header, "{seq:?}");
        assert_eq!((seq.profile, seq.bit_depth, seq.subsampling, seq.monochrome), (1, 10, (false, false), false));
        assert_eq!((seq.max_width, seq.max_height), (w as u32, h as u32));
        assert_eq!(seq.color_description, Some((1, 13, 6)));
        assert!(seq.full_range);
        let alpha =
            Av1Frame::encode(w, h, ChromaSampling::Cs400, 60.0, 0, None, |planes| planes[0].fill(1023)).unwrap();
        let alpha_seq = parse_sequence_header(&alpha.bitstream).unwrap();
        assert!(alpha_seq.monochrome && alpha_seq.full_range, "{alpha_seq:?}");
        let file = avif_from_av1(&frame.bitstream, Some(&alpha.bitstream), w as u32, h as u32, None, None).unwrap();
        assert_eq!(&file[4..12], b"ftypavif");
        let stripped = super::super::avif_container::strip_temporal_delimiters(&frame.bitstream).unwrap();
        assert!(stripped.len() < frame.bitstream.len(), "rav1e starts each temporal unit with a delimiter");
        assert!(file.windows(stripped.len()).any(|win| win == stripped.as_slice()));
    }
}
