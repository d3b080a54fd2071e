//! MP4 / MOV (ISO BMFF): box walking, the fast-start remux and a one-track video muxer.

pub mod boxes;
mod faststart;
mod mux;

pub use faststart::{FastStart, fast_start};
pub use mux::{MuxLimits, Sample, VideoCodec, VideoTrack, mux};
