//! MP4 / MOV (ISO BMFF): box walking, the fast-start remux, a demuxer (track list and sample
//! index) and a muxer.

pub mod boxes;
mod demux;
mod faststart;
mod mux;

pub use demux::{DemuxLimits, Movie, SampleInfo, Track, TrackKind, demux};
pub(crate) use demux::{AudioSpecificConfig, av1_codec, avc_codec, hevc_codec};
pub use faststart::{FastStart, fast_start};
pub use mux::{AudioTrack, MuxLimits, MuxTrack, Sample, TrackMedia, VideoCodec, VideoTrack, mux, mux_tracks};
