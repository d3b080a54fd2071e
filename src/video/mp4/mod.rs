//! MP4 / MOV (ISO BMFF): box walking and the fast-start remux.

pub mod boxes;
mod faststart;

pub use faststart::{FastStart, fast_start};
