//! mediaslim: decode, resize and re-encode images for the web, natively and in WebAssembly.
//! Module tree and re-exports only; every stage lives in its own module.

pub mod decode;
pub mod encode;
pub mod error;
pub mod image;
pub mod limits;
pub mod metadata;
pub mod pipeline;
pub mod placeholder;
pub mod quality;
pub mod video;
pub mod resize;
pub mod sniff;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use decode::{ProbeInfo, decode, probe};
pub use encode::{EncodeOptions, OutputFormat, encode};
pub use error::{Error, Result};
pub use image::{Image, PixelLayout};
pub use limits::Limits;
pub use pipeline::{
    AcceptFormat, AvifEncoder, OptimizeOptions, Optimized, Pixels, Quality, Source, TargetFormat, TargetScore, compare, optimize, optimize_many,
};
pub use placeholder::{Placeholder, placeholder};
pub use resize::{Fit, Kernel, ResizeRequest};
pub use sniff::{Format, sniff};
