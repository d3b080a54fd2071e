//! MP4 / MOV (ISO BMFF): box walking, the fast-start remux, a demuxer (track list and sample
//! index) and muxers: fast-start and fragmented.

pub mod boxes;
mod demux;
mod faststart;
mod fragmented;
mod mux;

pub(crate) use demux::{AudioSpecificConfig, av1_codec, avc_codec, hevc_codec};
pub use demux::{DemuxLimits, Movie, SampleInfo, Track, TrackKind, demux};
pub use faststart::{FastStart, FastStartPlan, Piece, TopBox, fast_start, fast_start_plan};
pub use fragmented::{FragmentRun, FragmentTrack, FragmentWriter, mux_fragmented};
pub use mux::{AudioTrack, MuxLimits, MuxTrack, Sample, TrackMedia, VideoCodec, VideoTrack, mux, mux_tracks};
