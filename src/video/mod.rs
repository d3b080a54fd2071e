//! Video: MP4/MOV fast-start remuxing (sample data copied bit-exact), MP4 and WebM demuxers
//! (track list and sample index), MP4 and WebM muxers for encoded frames, and animated GIF
//! frames for video encoders (WebCodecs in js/, or rav1e).

#[cfg(feature = "avif")]
pub mod av1;
#[cfg(feature = "avif")]
pub mod av1_target;
#[cfg(feature = "video")]
pub mod gif;
#[cfg(feature = "video")]
pub mod mp4;
#[cfg(feature = "video")]
pub mod webm;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The container a video is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoContainer {
    #[default]
    Mp4,
    Webm,
}

/// What `remux` does to a container.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct RemuxOptions {
    /// Put the index (`moov`) before the media so playback starts while downloading (default true).
    pub fast_start: bool,
}

impl Default for RemuxOptions {
    fn default() -> Self {
        RemuxOptions { fast_start: true }
    }
}

impl RemuxOptions {
    pub fn from_json(json: &str) -> Result<Self> {
        Error::options_from_json(json)
    }
}

/// The remuxed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Remuxed {
    #[serde(with = "serde_bytes")]
    #[cfg_attr(target_arch = "wasm32", tsify(type = "Uint8Array"))]
    pub bytes: Vec<u8>,
    /// False when the input was already laid out as asked (then `bytes` is the input).
    pub changed: bool,
    pub notes: Vec<String>,
}

/// Rewrites an MP4/MOV container as `options` ask; every sample stays bit-exact.
#[cfg(feature = "video")]
pub fn remux(input: &[u8], options: &RemuxOptions) -> Result<Remuxed> {
    if !options.fast_start {
        return Ok(Remuxed { bytes: input.to_vec(), changed: false, notes: vec!["nothing asked".into()] });
    }
    let out = mp4::fast_start(input)?;
    Ok(Remuxed { bytes: out.bytes, changed: out.changed, notes: out.notes })
}
