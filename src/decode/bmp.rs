//! BMP (Windows bitmaps, all bit depths `image` reads).

use image::codecs::bmp::BmpDecoder;

use super::{Opened, reader};
use crate::error::{Error, Result};

pub(super) fn open(bytes: &[u8]) -> Result<Opened<'_>> {
    let decoder = BmpDecoder::new(reader(bytes)).map_err(|e| Error::from_image("bmp", e))?;
    Ok(Opened { decoder: Box::new(decoder), frame_count: 1 })
}
