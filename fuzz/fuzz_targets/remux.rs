//! The MP4/MOV container parser: fast-start remuxing of untrusted files. The output must be
//! the same size as the input (boxes are moved and offsets rewritten, never added or lost).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::video::{RemuxOptions, remux};

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = remux(data, &RemuxOptions::default())
        && !out.changed
    {
        assert_eq!(out.bytes, data);
    }
});
