//! mediaslim: decode, resize and re-encode images for the web, natively and in WebAssembly.
//! Module tree and re-exports only; every stage lives in its own module.
//!
//! Without the `pixels` feature only the header path is built (sniffing, header parsing,
//! EXIF orientation, ICC detection): the probe-only wasm module `mediaslim_probe`.

pub mod decode;
pub mod error;
pub mod image;
pub mod limits;
pub mod metadata;
pub mod sniff;

#[cfg(feature = "pixels")]
pub mod encode;
#[cfg(feature = "pixels")]
pub mod pipeline;
#[cfg(feature = "pixels")]
pub mod placeholder;
#[cfg(feature = "pixels")]
pub mod quality;
#[cfg(feature = "pixels")]
pub mod resize;
#[cfg(feature = "pixels")]
pub mod video;

// The wasm-bindgen adapters: `probe` in every module, everything else with `pixels`.
#[cfg(all(target_arch = "wasm32", feature = "pixels"))]
mod wasm;
#[cfg(target_arch = "wasm32")]
mod wasm_probe;

pub use decode::{ProbeInfo, decode, probe};
pub use error::{Error, Result};
pub use image::{Image, PixelLayout};
pub use limits::Limits;
pub use sniff::{Format, sniff};

#[cfg(feature = "pixels")]
pub use encode::{EncodeOptions, OutputFormat, encode};
#[cfg(feature = "pixels")]
pub use pipeline::{
    AcceptFormat, AvifEncoder, OptimizeOptions, Optimized, Pixels, Quality, Source, TargetFormat, TargetScore, compare,
    optimize, optimize_many,
};
#[cfg(feature = "pixels")]
pub use placeholder::{Placeholder, placeholder};
#[cfg(feature = "pixels")]
pub use resize::{Fit, Kernel, ResizeRequest};
