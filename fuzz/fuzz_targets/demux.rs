//! The MP4/MOV (sample tables, edit lists, fragments) and WebM/Matroska demuxers on untrusted
//! files: a typed error or an index whose every sample lies inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::video::mp4::{self, DemuxLimits};
use mediaslim::video::webm;

fuzz_target!(|data: &[u8]| {
    let limits = DemuxLimits::default();
    let movie = if webm::is_webm(data) { webm::demux(data, &limits) } else { mp4::demux(data, &limits) };
    if let Ok(movie) = movie {
        for track in &movie.tracks {
            for s in &track.samples {
                assert!(s.offset.checked_add(u64::from(s.size)).is_some_and(|end| end <= data.len() as u64), "sample outside the file");
            }
        }
    }
});
