//! An AVIF file around AV1 key frames encoded elsewhere (a browser's WebCodecs
//! `VideoEncoder`, hardware or not): the core then needs no AV1 encoder for that path.
//!
//! The AV1 bitstream decides what the container says: its sequence header is parsed for
//! profile, level, bit depth, chroma subsampling and colour range, and the `av1C` boxes are
//! written from it (Chromium checks that they match). Temporal delimiters, which a video
//! encoder emits and AV1-in-ISOBMFF forbids in an item, are removed.
//!
//! The bytes come from outside the core (a JS caller), so every read is bounds-checked and
//! a malformed stream is an error, never a panic.

use crate::error::{Error, Result};
use avif_serialize::constants::{ColorPrimaries, MatrixCoefficients, TransferCharacteristics};

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;

/// Colour signalling for the `colr` (nclx) box, as ITU-T H.273 code points: what the pixels
/// were converted with before encoding (WebCodecs reports it as `decoderConfig.colorSpace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nclx {
    pub primaries: u8,
    pub transfer: u8,
    pub matrix: u8,
    pub full_range: bool,
}

impl Nclx {
    /// sRGB pixels through a BT.709 matrix, full range: what Chromium's encoder makes of RGB
    /// `VideoFrame`s.
    pub const SRGB_BT709_FULL: Nclx = Nclx { primaries: 1, transfer: 13, matrix: 1, full_range: true };
}

/// A WebCodecs `VideoColorSpaceInit` (`decoderConfig.colorSpace`): the names WebCodecs uses.
/// Absent (null) members are taken from the AV1 sequence header.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebCodecsColorSpace {
    pub primaries: Option<String>,
    pub transfer: Option<String>,
    pub matrix: Option<String>,
    pub full_range: Option<bool>,
}

impl Nclx {
    /// The code points for a WebCodecs colour space; members it lacks come from `seq`'s
    /// colour description (sRGB with a BT.601 matrix when it has none).
    pub fn from_web_codecs(cs: &WebCodecsColorSpace, seq: &SequenceHeader) -> Result<Nclx> {
        let (p, t, m) = seq.color_description.unwrap_or((1, 13, 6));
        let unknown = |what: &str, v: &str| Error::option("colorSpace", format!("unknown {what} {v:?}"));
        let primaries = match cs.primaries.as_deref() {
            None => p,
            Some("bt709") => 1,
            Some("bt470bg") => 5,
            Some("smpte170m") => 6,
            Some("bt2020") => 9,
            Some("smpte432") => 12,
            Some(v) => return Err(unknown("primaries", v)),
        };
        let transfer = match cs.transfer.as_deref() {
            None => t,
            Some("bt709") => 1,
            Some("smpte170m") => 6,
            Some("linear") => 8,
            Some("iec61966-2-1") => 13,
            Some("pq") => 16,
            Some("hlg") => 18,
            Some(v) => return Err(unknown("transfer", v)),
        };
        let matrix = match cs.matrix.as_deref() {
            None => m,
            Some("rgb") => 0,
            Some("bt709") => 1,
            Some("bt470bg") => 5,
            Some("smpte170m") => 6,
            Some("bt2020-ncl") => 9,
            Some(v) => return Err(unknown("matrix", v)),
        };
        Ok(Nclx { primaries, transfer, matrix, full_range: cs.full_range.unwrap_or(seq.full_range) })
    }
}

/// What an AV1 sequence header says about the frames that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    pub profile: u8,
    pub still_picture: bool,
    pub reduced_still_picture_header: bool,
    /// `seq_level_idx[0]` and `seq_tier[0]`.
    pub level: u8,
    pub tier: bool,
    pub max_width: u32,
    pub max_height: u32,
    pub bit_depth: u8,
    pub monochrome: bool,
    /// `(subsampling_x, subsampling_y)`: `(true, true)` is 4:2:0, `(false, false)` 4:4:4.
    pub subsampling: (bool, bool),
    pub chroma_sample_position: u8,
    /// `(color_primaries, transfer_characteristics, matrix_coefficients)` when present.
    pub color_description: Option<(u8, u8, u8)>,
    pub full_range: bool,
}

impl SequenceHeader {
    /// The 4-byte payload of an `av1C` box describing this sequence (no config OBUs).
    pub fn av1c(&self) -> [u8; 4] {
        let flags = u8::from(self.tier) << 7
            | u8::from(self.bit_depth > 8) << 6
            | u8::from(self.bit_depth == 12) << 5
            | u8::from(self.monochrome) << 4
            | u8::from(self.subsampling.0) << 3
            | u8::from(self.subsampling.1) << 2
            | (self.chroma_sample_position & 3);
        [0x81, (self.profile << 5) | (self.level & 31), flags, 0]
    }
}

/// One OBU: its type and its whole bytes (header, size field and payload).
struct Obu<'a> {
    kind: u8,
    bytes: &'a [u8],
    payload: &'a [u8],
}

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::corrupt("av1", detail)
}

/// Splits a low-overhead AV1 bitstream (what WebCodecs and rav1e emit) into OBUs.
fn obus(data: &[u8]) -> Result<Vec<Obu<'_>>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let header = rest.first().copied().ok_or_else(|| corrupt("truncated OBU header"))?;
        if header & 0x80 != 0 {
            return Err(corrupt("OBU forbidden bit set: not an AV1 bitstream"));
        }
        let kind = (header >> 3) & 15;
        let mut at = 1 + usize::from(header & 4 != 0);
        let size = if header & 2 != 0 {
            let mut size = 0u64;
            let mut i = 0;
            loop {
                let byte = rest.get(at).copied().ok_or_else(|| corrupt("truncated OBU size"))?;
                at += 1;
                size |= u64::from(byte & 127) << (7 * i);
                i += 1;
                if byte & 128 == 0 {
                    break;
                }
                if i == 8 {
                    return Err(corrupt("OBU size longer than 8 bytes"));
                }
            }
            usize::try_from(size).map_err(|_| corrupt("OBU size too large"))?
        } else {
            rest.len().checked_sub(at).ok_or_else(|| corrupt("truncated OBU header"))?
        };
        let end = at.checked_add(size).filter(|&e| e <= rest.len()).ok_or_else(|| corrupt("OBU runs past the end"))?;
        let (bytes, next) = rest.split_at(end);
        let payload = bytes.get(at..).unwrap_or_default();
        out.push(Obu { kind, bytes, payload });
        rest = next;
    }
    Ok(out)
}

/// The bitstream without temporal delimiter OBUs (AV1-ISOBMFF forbids them in samples).
/// Errors when it is malformed or lacks a sequence header or a frame.
pub fn strip_temporal_delimiters(data: &[u8]) -> Result<Vec<u8>> {
    let obus = obus(data)?;
    if !obus.iter().any(|o| o.kind == OBU_SEQUENCE_HEADER) {
        return Err(corrupt("no sequence header OBU: not a key frame as a video encoder emits it"));
    }
    if !obus.iter().any(|o| o.kind == OBU_FRAME || o.kind == OBU_FRAME_HEADER) {
        return Err(corrupt("no frame OBU"));
    }
    Ok(obus.iter().filter(|o| o.kind != OBU_TEMPORAL_DELIMITER).flat_map(|o| o.bytes.iter().copied()).collect())
}

/// A video sample for AV1-in-MP4: the temporal unit without its temporal delimiter. Unlike
/// `strip_temporal_delimiters`, inter frames (no sequence header) are fine.
pub fn av1_video_sample(data: &[u8]) -> Result<Vec<u8>> {
    let obus = obus(data)?;
    if !obus.iter().any(|o| o.kind == OBU_FRAME || o.kind == OBU_FRAME_HEADER) {
        return Err(corrupt("no frame OBU in a video temporal unit"));
    }
    Ok(obus.iter().filter(|o| o.kind != OBU_TEMPORAL_DELIMITER).flat_map(|o| o.bytes.iter().copied()).collect())
}

/// The `av1C` record of a video from its first key frame: the 4 bytes the sequence header
/// implies, then that sequence header OBU (players such as FFmpeg read it from there).
pub fn av1c_record(key_frame: &[u8]) -> Result<(Vec<u8>, SequenceHeader)> {
    let seq = parse_sequence_header(key_frame)?;
    let obus = obus(key_frame)?;
    let header =
        obus.iter().find(|o| o.kind == OBU_SEQUENCE_HEADER).ok_or_else(|| corrupt("no sequence header OBU"))?;
    let mut record = seq.av1c().to_vec();
    record.extend_from_slice(header.bytes);
    Ok((record, seq))
}

/// MSB-first bit reader over an OBU payload.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<bool> {
        let byte = self.data.get(self.pos / 8).ok_or_else(|| corrupt("truncated sequence header"))?;
        let bit = (byte >> (7 - self.pos % 8)) & 1 == 1;
        self.pos += 1;
        Ok(bit)
    }

    fn bits(&mut self, n: u32) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | u32::from(self.bit()?);
        }
        Ok(v)
    }

    /// `n` <= 8 bits as a byte.
    fn byte(&mut self, n: u32) -> Result<u8> {
        Ok(self.bits(n.min(8))? as u8)
    }

    fn uvlc(&mut self) -> Result<u32> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros >= 32 {
                return Ok(u32::MAX);
            }
        }
        Ok(self.bits(zeros)?.saturating_add((1u32 << zeros) - 1))
    }
}

/// Parses the first sequence header OBU of `data` (AV1 spec 5.5).
pub fn parse_sequence_header(data: &[u8]) -> Result<SequenceHeader> {
    let obus = obus(data)?;
    let obu = obus.iter().find(|o| o.kind == OBU_SEQUENCE_HEADER).ok_or_else(|| corrupt("no sequence header OBU"))?;
    let mut r = Bits { data: obu.payload, pos: 0 };
    let profile = r.byte(3)?;
    if profile > 2 {
        return Err(corrupt(format!("unknown seq_profile {profile}")));
    }
    let still_picture = r.bit()?;
    let reduced = r.bit()?;
    let (level, tier);
    if reduced {
        level = r.byte(5)?;
        tier = false;
    } else {
        let timing_info = r.bit()?;
        let mut decoder_model_info = false;
        let mut buffer_delay_length = 0;
        if timing_info {
            r.bits(32)?; // num_units_in_display_tick
            r.bits(32)?; // time_scale
            if r.bit()? {
                r.uvlc()?; // num_ticks_per_picture_minus_1
            }
            decoder_model_info = r.bit()?;
            if decoder_model_info {
                buffer_delay_length = r.bits(5)? + 1;
                r.bits(32)?; // num_units_in_decoding_tick
                r.bits(5)?; // buffer_removal_time_length_minus_1
                r.bits(5)?; // frame_presentation_time_length_minus_1
            }
        }
        let initial_display_delay = r.bit()?;
        let operating_points = r.bits(5)? + 1;
        let (mut first_level, mut first_tier) = (0, false);
        for i in 0..operating_points {
            r.bits(12)?; // operating_point_idc
            let level_i = r.byte(5)?;
            let tier_i = level_i > 7 && r.bit()?;
            if decoder_model_info && r.bit()? {
                r.bits(buffer_delay_length)?; // decoder_buffer_delay
                r.bits(buffer_delay_length)?; // encoder_buffer_delay
                r.bit()?; // low_delay_mode_flag
            }
            if initial_display_delay && r.bit()? {
                r.bits(4)?;
            }
            if i == 0 {
                (first_level, first_tier) = (level_i, tier_i);
            }
        }
        (level, tier) = (first_level, first_tier);
    }
    let width_bits = r.bits(4)? + 1;
    let height_bits = r.bits(4)? + 1;
    let max_width = r.bits(width_bits)? + 1;
    let max_height = r.bits(height_bits)? + 1;
    if !reduced && r.bit()? {
        r.bits(4)?; // delta_frame_id_length_minus_2
        r.bits(3)?; // additional_frame_id_length_minus_1
    }
    r.bits(3)?; // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    if !reduced {
        r.bits(4)?; // interintra_compound, masked_compound, warped_motion, dual_filter
        let order_hint = r.bit()?;
        if order_hint {
            r.bits(2)?; // enable_jnt_comp, enable_ref_frame_mvs
        }
        let force_screen_content_tools = if r.bit()? { 2 } else { r.bits(1)? };
        if force_screen_content_tools > 0 && !r.bit()? {
            r.bits(1)?; // seq_force_integer_mv
        }
        if order_hint {
            r.bits(3)?; // order_hint_bits_minus_1
        }
    }
    r.bits(3)?; // enable_superres, enable_cdef, enable_restoration

    // color_config()
    let high_bitdepth = r.bit()?;
    let bit_depth = if profile == 2 && high_bitdepth {
        if r.bit()? { 12 } else { 10 }
    } else if high_bitdepth {
        10
    } else {
        8
    };
    let monochrome = profile != 1 && r.bit()?;
    let color_description = if r.bit()? { Some((r.byte(8)?, r.byte(8)?, r.byte(8)?)) } else { None };
    let (full_range, subsampling, chroma_sample_position);
    if monochrome {
        full_range = r.bit()?;
        subsampling = (true, true);
        chroma_sample_position = 0;
    } else if color_description == Some((1, 13, 0)) {
        // sRGB as identity-matrix RGB: always full range 4:4:4.
        full_range = true;
        subsampling = (false, false);
        chroma_sample_position = 0;
    } else {
        full_range = r.bit()?;
        subsampling = match profile {
            0 => (true, true),
            1 => (false, false),
            _ if bit_depth == 12 => {
                let x = r.bit()?;
                (x, x && r.bit()?)
            }
            _ => (true, false),
        };
        chroma_sample_position = if subsampling == (true, true) { r.byte(2)? } else { 0 };
    }
    Ok(SequenceHeader {
        profile,
        still_picture,
        reduced_still_picture_header: reduced,
        level,
        tier,
        max_width,
        max_height,
        bit_depth,
        monochrome,
        subsampling,
        chroma_sample_position,
        color_description,
        full_range,
    })
}

fn primaries(code: u8) -> Option<ColorPrimaries> {
    Some(match code {
        1 => ColorPrimaries::Bt709,
        2 => ColorPrimaries::Unspecified,
        6 => ColorPrimaries::Bt601,
        9 => ColorPrimaries::Bt2020,
        11 => ColorPrimaries::DciP3,
        12 => ColorPrimaries::DisplayP3,
        _ => return None,
    })
}

fn transfer(code: u8) -> Option<TransferCharacteristics> {
    Some(match code {
        1 => TransferCharacteristics::Bt709,
        2 => TransferCharacteristics::Unspecified,
        6 => TransferCharacteristics::Bt601,
        8 => TransferCharacteristics::Linear,
        13 => TransferCharacteristics::Srgb,
        14 => TransferCharacteristics::Bt2020_10,
        15 => TransferCharacteristics::Bt2020_12,
        16 => TransferCharacteristics::Smpte2084,
        18 => TransferCharacteristics::Hlg,
        _ => return None,
    })
}

fn matrix(code: u8) -> Option<MatrixCoefficients> {
    Some(match code {
        0 => MatrixCoefficients::Rgb,
        1 => MatrixCoefficients::Bt709,
        2 => MatrixCoefficients::Unspecified,
        // BT.470 System B/G (5) and SMPTE 170M (6) are the same BT.601 matrix.
        5 | 6 => MatrixCoefficients::Bt601,
        8 => MatrixCoefficients::Ycgco,
        9 => MatrixCoefficients::Bt2020Ncl,
        10 => MatrixCoefficients::Bt2020Cl,
        _ => return None,
    })
}

/// Wraps an AV1 key frame encoded elsewhere in an AVIF file, with an optional alpha frame
/// (any AV1 frame whose luma is the alpha; chroma, if any, is ignored by decoders).
///
/// `color` and `alpha` are the encoder's output as is (temporal delimiters are removed
/// here). The `av1C` boxes, bit depth and subsampling come from each frame's sequence
/// header; `colour` says how RGB became YUV (the `colr` box); without it the sequence
/// header's colour description is used (sRGB, BT.601 when it has none). A colour range
/// that contradicts the bitstream's is refused, as are frames of another size than
/// `width` x `height`.
pub fn avif_from_av1(
    color: &[u8],
    alpha: Option<&[u8]>,
    width: u32,
    height: u32,
    colour: Option<Nclx>,
    exif: Option<Vec<u8>>,
) -> Result<Vec<u8>> {
    if width == 0 || height == 0 {
        return Err(Error::option("width", "AVIF dimensions must be positive"));
    }
    let color = strip_temporal_delimiters(color)?;
    let color_seq = parse_sequence_header(&color)?;
    let alpha = alpha.map(strip_temporal_delimiters).transpose()?;
    let alpha_seq = alpha.as_deref().map(parse_sequence_header).transpose()?;
    for (what, seq) in [("colour", Some(&color_seq)), ("alpha", alpha_seq.as_ref())] {
        let Some(seq) = seq else { continue };
        if (seq.max_width, seq.max_height) != (width, height) {
            return Err(Error::option(
                "av1",
                format!("the {what} frame is {}x{}, not {width}x{height}", seq.max_width, seq.max_height),
            ));
        }
    }
    if let Some(a) = alpha_seq
        && a.bit_depth != color_seq.bit_depth
    {
        return Err(Error::option(
            "av1",
            format!(
                "alpha is {}-bit but colour is {}-bit: AVIF needs the same depth",
                a.bit_depth, color_seq.bit_depth
            ),
        ));
    }
    if alpha_seq.is_some_and(|a| !a.full_range) {
        return Err(Error::option("av1", "the alpha frame must be full range (decoders read alpha as full range)"));
    }
    let nclx = match colour {
        Some(c) if c.full_range != color_seq.full_range => {
            return Err(Error::option(
                "colorSpace",
                format!(
                    "says {} range but the AV1 sequence header says {} range",
                    if c.full_range { "full" } else { "limited" },
                    if color_seq.full_range { "full" } else { "limited" }
                ),
            ));
        }
        Some(c) => c,
        None => {
            let (p, t, m) = color_seq.color_description.unwrap_or((1, 13, 6));
            Nclx { primaries: p, transfer: t, matrix: m, full_range: color_seq.full_range }
        }
    };
    // avif-serialize omits `colr` when it would say sRGB, BT.601, full range; readers then
    // use the bitstream's colour description, which must say the same.
    let bt601 = |m: u8| m == 5 || m == 6;
    if (nclx.primaries, nclx.transfer, bt601(nclx.matrix), nclx.full_range) == (1, 13, true, true)
        && let Some((p, t, m)) = color_seq.color_description
        && (p, t, bt601(m)) != (1, 13, true)
    {
        return Err(Error::option(
            "colorSpace",
            format!(
                "sRGB with a BT.601 matrix contradicts the AV1 sequence header's colour description ({p}, {t}, {m})"
            ),
        ));
    }
    let unsupported =
        |what: &str, code: u8| Error::option("colorSpace", format!("{what} {code} cannot be written to an AVIF here"));
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_color_primaries(primaries(nclx.primaries).ok_or_else(|| unsupported("primaries", nclx.primaries))?)
        .set_transfer_characteristics(transfer(nclx.transfer).ok_or_else(|| unsupported("transfer", nclx.transfer))?)
        .set_matrix_coefficients(matrix(nclx.matrix).ok_or_else(|| unsupported("matrix", nclx.matrix))?)
        .set_full_color_range(nclx.full_range)
        .set_chroma_subsampling(color_seq.subsampling)
        .set_monochrome(color_seq.monochrome);
    if let Some(exif) = exif {
        container.set_exif(exif);
    }
    let mut file = Vec::new();
    container
        .write(&mut file, &color, alpha.as_deref(), width, height, color_seq.bit_depth)
        .map_err(|e| Error::encode("avif", e))?;
    // avif-serialize writes av1C from its settings (alpha always as monochrome): make both
    // say exactly what the bitstreams do.
    let mut av1c = vec![color_seq.av1c()];
    av1c.extend(alpha_seq.map(|a| a.av1c()));
    patch_av1c(&mut file, &av1c)?;
    Ok(file)
}

/// The child boxes of `data[range]`: (type, payload range).
fn boxes(data: &[u8], range: std::ops::Range<usize>) -> Result<Vec<([u8; 4], std::ops::Range<usize>)>> {
    let bad = || Error::encode("avif", "unexpected box layout");
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let head = data.get(at..at + 8).ok_or_else(bad)?;
        let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        let end = at.checked_add(size).filter(|&e| size >= 8 && e <= range.end).ok_or_else(bad)?;
        out.push((kind, at + 8..end));
        at = end;
    }
    Ok(out)
}

/// Rewrites the payloads of the `av1C` boxes in `meta/iprp/ipco`, in order.
fn patch_av1c(file: &mut [u8], av1c: &[[u8; 4]]) -> Result<()> {
    let bad = || Error::encode("avif", "unexpected box layout");
    let find = |list: &[([u8; 4], std::ops::Range<usize>)], kind: &[u8; 4]| {
        list.iter().find(|(k, _)| k == kind).map(|(_, r)| r.clone()).ok_or_else(bad)
    };
    let top = boxes(file, 0..file.len())?;
    let meta = find(&top, b"meta")?;
    let meta = boxes(file, meta.start + 4..meta.end)?; // a full box: version and flags first
    let iprp = boxes(file, find(&meta, b"iprp")?)?;
    let ipco = boxes(file, find(&iprp, b"ipco")?)?;
    let targets: Vec<_> = ipco.into_iter().filter(|(k, _)| k == b"av1C").map(|(_, r)| r).collect();
    if targets.len() != av1c.len() {
        return Err(bad());
    }
    for (range, bytes) in targets.into_iter().zip(av1c) {
        file.get_mut(range.start..range.start + 4).ok_or_else(bad)?.copy_from_slice(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLOR: &[u8] = include_bytes!("../../tests/fixtures/av1-webcodecs-color.obu");
    const ALPHA: &[u8] = include_bytes!("../../tests/fixtures/av1-webcodecs-alpha.obu");
    const W: u32 = 67;
    const H: u32 = 51;

    /// The (type, payload) list of a box's children, for checking structure.
    fn children(file: &[u8], range: std::ops::Range<usize>) -> Vec<(String, Vec<u8>)> {
        boxes(file, range)
            .unwrap()
            .into_iter()
            .map(|(k, r)| (String::from_utf8_lossy(&k).into_owned(), file[r].to_vec()))
            .collect()
    }

    fn get<'a>(list: &'a [(String, Vec<u8>)], kind: &str) -> &'a [u8] {
        &list.iter().find(|(k, _)| k == kind).unwrap_or_else(|| panic!("no {kind} box")).1
    }

    fn ipco(file: &[u8]) -> Vec<(String, Vec<u8>)> {
        let top = children(file, 0..file.len());
        let meta = get(&top, "meta");
        let meta = children(meta, 4..meta.len());
        let iprp = get(&meta, "iprp");
        let iprp = children(iprp, 0..iprp.len());
        let ipco = get(&iprp, "ipco");
        children(ipco, 0..ipco.len())
    }

    #[test]
    fn webcodecs_frame_has_a_temporal_delimiter_that_is_stripped() {
        let kinds: Vec<u8> = obus(COLOR).unwrap().iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [OBU_TEMPORAL_DELIMITER, OBU_SEQUENCE_HEADER, OBU_FRAME]);
        let stripped = strip_temporal_delimiters(COLOR).unwrap();
        let kinds: Vec<u8> = obus(&stripped).unwrap().iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [OBU_SEQUENCE_HEADER, OBU_FRAME]);
        assert_eq!(stripped, COLOR[2..], "a temporal delimiter is 2 bytes (header, size 0)");
        // Stripping twice changes nothing.
        assert_eq!(strip_temporal_delimiters(&stripped).unwrap(), stripped);
    }

    #[test]
    fn webcodecs_sequence_header_parses() {
        let seq = parse_sequence_header(COLOR).unwrap();
        assert_eq!((seq.profile, seq.bit_depth, seq.monochrome, seq.subsampling), (0, 8, false, (true, true)));
        assert_eq!((seq.max_width, seq.max_height), (W, H), "odd sizes are coded as they are");
        assert!(seq.full_range, "{seq:?}");
        assert!(!seq.reduced_still_picture_header);
        // Chromium converts RGB frames with BT.709 full range and says so in the bitstream,
        // as in decoderConfig.colorSpace (tests/fixtures/av1-webcodecs.json).
        assert_eq!(seq.color_description, Some((1, 13, 1)), "{seq:?}");
        let alpha = parse_sequence_header(ALPHA).unwrap();
        assert_eq!((alpha.max_width, alpha.max_height, alpha.full_range), (W, H, true));
    }

    #[test]
    fn wraps_colour_and_alpha_with_boxes_that_match_the_bitstream() {
        let nclx = Nclx::SRGB_BT709_FULL;
        let file = avif_from_av1(COLOR, Some(ALPHA), W, H, Some(nclx), None).unwrap();
        assert_eq!(&file[4..12], b"ftypavif");
        let top = children(&file, 0..file.len());
        assert_eq!(top.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["ftyp", "meta", "mdat"]);
        let mdat = get(&top, "mdat");
        let (color, alpha) = (strip_temporal_delimiters(COLOR).unwrap(), strip_temporal_delimiters(ALPHA).unwrap());
        assert_eq!(mdat.len(), color.len() + alpha.len(), "mdat holds both frames, without delimiters");
        assert!(mdat.windows(color.len()).any(|w| w == color.as_slice()));

        let props = ipco(&file);
        let kinds: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "av1C").count(), 2, "{kinds:?}");
        let ispe = get(&props, "ispe");
        assert_eq!(&ispe[4..], [0, 0, 0, W as u8, 0, 0, 0, H as u8]);
        let av1c: Vec<&Vec<u8>> = props.iter().filter(|(k, _)| k == "av1C").map(|(_, p)| p).collect();
        let expected = parse_sequence_header(COLOR).unwrap().av1c();
        assert_eq!(av1c[0].as_slice(), expected);
        assert_eq!(expected[2] & 0b0001_1100, 0b0000_1100, "4:2:0, not monochrome");
        assert_eq!(
            av1c[1].as_slice(),
            parse_sequence_header(ALPHA).unwrap().av1c(),
            "alpha av1C as its bitstream says"
        );
        assert_eq!(get(&props, "colr"), [b'n', b'c', b'l', b'x', 0, 1, 0, 13, 0, 1, 0x80]);
        let auxc = get(&props, "auxC");
        assert!(String::from_utf8_lossy(auxc).contains("urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"));
        // pixi: 3 channels of 8 bits for colour, 1 for alpha.
        let pixi: Vec<&Vec<u8>> = props.iter().filter(|(k, _)| k == "pixi").map(|(_, p)| p).collect();
        assert_eq!(pixi[0][4..], [3, 8, 8, 8]);
        assert_eq!(pixi[1][4..], [1, 8]);
    }

    #[test]
    fn colour_defaults_to_the_bitstream_and_limited_range_mismatch_is_refused() {
        let seq = parse_sequence_header(COLOR).unwrap();
        let file = avif_from_av1(COLOR, None, W, H, None, Some(b"MM\0*\0\0\0\x08\0\0".to_vec())).unwrap();
        let meta_kinds: Vec<String> = {
            let top = children(&file, 0..file.len());
            let meta = get(&top, "meta");
            children(meta, 4..meta.len()).into_iter().map(|(k, _)| k).collect()
        };
        assert!(meta_kinds.contains(&"iref".to_string()), "exif item referenced: {meta_kinds:?}");
        let (p, t, m) = seq.color_description.unwrap_or((1, 13, 6));
        let colr = ipco(&file).into_iter().find(|(k, _)| k == "colr").map(|(_, v)| v);
        if (p, t, m, seq.full_range) != (1, 13, 6, true) {
            assert_eq!(colr.unwrap()[4..10], [0, p, 0, t, 0, m]);
        }
        let limited = Nclx { full_range: false, ..Nclx::SRGB_BT709_FULL };
        let e = avif_from_av1(COLOR, None, W, H, Some(limited), None).unwrap_err();
        assert_eq!(e.code(), "INVALID_OPTION");
        assert!(e.to_string().contains("range"), "{e}");
    }

    #[test]
    fn webcodecs_colour_space_names_map_to_code_points() {
        let seq = parse_sequence_header(COLOR).unwrap();
        let cs = |p: &str, t: &str, m: &str, full| WebCodecsColorSpace {
            primaries: Some(p.into()),
            transfer: Some(t.into()),
            matrix: Some(m.into()),
            full_range: Some(full),
        };
        let n = Nclx::from_web_codecs(&cs("bt709", "iec61966-2-1", "bt709", true), &seq).unwrap();
        assert_eq!(n, Nclx::SRGB_BT709_FULL);
        let n = Nclx::from_web_codecs(&cs("smpte432", "iec61966-2-1", "bt470bg", false), &seq).unwrap();
        assert_eq!(n, Nclx { primaries: 12, transfer: 13, matrix: 5, full_range: false });
        // Missing members come from the bitstream.
        let n = Nclx::from_web_codecs(&WebCodecsColorSpace::default(), &seq).unwrap();
        assert_eq!(n, Nclx::SRGB_BT709_FULL);
        assert!(Nclx::from_web_codecs(&cs("xyz", "bt709", "bt709", true), &seq).is_err());
        // BT.470BG's matrix is BT.601's: written as 6.
        let p3 = Nclx { primaries: 12, matrix: 5, ..Nclx::SRGB_BT709_FULL };
        let file = avif_from_av1(COLOR, None, W, H, Some(p3), None).unwrap();
        assert_eq!(get(&ipco(&file), "colr")[4..10], [0, 12, 0, 13, 0, 6]);
        // sRGB + BT.601 + full range is the writer's default, which it signals by omitting
        // `colr`: readers then trust the bitstream, which here says BT.709, so it is refused.
        let e = avif_from_av1(COLOR, None, W, H, Some(Nclx { matrix: 6, ..Nclx::SRGB_BT709_FULL }), None).unwrap_err();
        assert!(e.to_string().contains("contradicts"), "{e}");
    }

    #[test]
    fn wrong_sizes_and_broken_streams_are_errors_not_panics() {
        let e = avif_from_av1(COLOR, None, W + 1, H, None, None).unwrap_err();
        assert!(e.to_string().contains("67x51"), "{e}");
        assert_eq!(avif_from_av1(COLOR, None, 0, H, None, None).unwrap_err().code(), "INVALID_OPTION");
        assert_eq!(avif_from_av1(&[], None, W, H, None, None).unwrap_err().code(), "CORRUPT_INPUT");
        assert_eq!(
            avif_from_av1(b"\xff\xd8\xff\xe0 not av1", None, W, H, None, None).unwrap_err().code(),
            "CORRUPT_INPUT"
        );
        let unusual = Nclx { primaries: 200, ..Nclx::SRGB_BT709_FULL };
        assert_eq!(avif_from_av1(COLOR, None, W, H, Some(unusual), None).unwrap_err().code(), "INVALID_OPTION");
        // Every truncation of a real frame fails cleanly (or still parses, as a shorter frame).
        for n in 0..COLOR.len() {
            let _ = avif_from_av1(&COLOR[..n], None, W, H, None, None);
            let _ = parse_sequence_header(&COLOR[..n]);
        }
        // A temporal delimiter alone is not a frame.
        assert_eq!(strip_temporal_delimiters(&[0x12, 0]).unwrap_err().code(), "CORRUPT_INPUT");
    }
}
