//! An AVIF file around an AV1 key frame encoded elsewhere (a browser's WebCodecs
//! `VideoEncoder`, hardware or not): the core then needs no AV1 encoder for that path.

use crate::error::{Error, Result};

/// Wraps an AV1 key frame encoded elsewhere (a browser's WebCodecs `VideoEncoder`) in an
/// AVIF container: 8- or 10-bit, 4:2:0 (AV1 main profile), BT.709 matrix, limited range
/// unless `full_range`, with an optional alpha frame (monochrome AV1).
pub fn avif_from_av1(
    color: &[u8],
    alpha: Option<&[u8]>,
    width: u32,
    height: u32,
    bit_depth: u8,
    full_range: bool,
) -> Result<Vec<u8>> {
    if !matches!(bit_depth, 8 | 10) {
        return Err(Error::option("bitDepth", format!("must be 8 or 10, got {bit_depth}")));
    }
    if width == 0 || height == 0 || color.is_empty() {
        return Err(Error::option("av1", "needs a non-empty AV1 frame and its dimensions"));
    }
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt709)
        .set_full_color_range(full_range)
        .set_chroma_subsampling((true, true));
    Ok(container.to_vec(color, alpha, width, height, bit_depth))
}
