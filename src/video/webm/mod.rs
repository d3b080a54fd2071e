//! WebM / Matroska: a demuxer (track list and sample index, the same `Movie` as MP4's) and a
//! muxer for encoded VP9/AV1 video and Opus/Vorbis audio, whole (`mux`: Cues up front) or
//! streamed (`ClusterWriter`: written as it is made, Cues at the end).
//!
//! The muxer is ours, not a crate's. Evaluated (2026-11): `webm` binds libwebm (C++, which
//! wasm32-unknown-unknown cannot build without a C++ runtime); `libwebm` (a one-release
//! line-by-line port) and `mkv` 0.0.x are incomplete and unmaintained; `oxideav-mkv` pulls in
//! its framework's core types; `ebml-webm` 0.2 states "not recommended for production" and
//! writes no Cues. What we need (header, tracks, clusters of SimpleBlocks, Cues, SeekHead) is
//! a few hundred lines over the EBML writer below.

mod demux;
mod ids;
mod mux;
mod stream;

pub use demux::{demux, is_webm};
pub use mux::{WebmCodec, WebmMedia, WebmTrack, mux};
pub use stream::{ClusterWriter, WebmStreamTrack};
