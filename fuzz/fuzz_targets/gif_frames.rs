//! Animated GIF frames for video encoders (composited, disposal, resized to even sizes): a
//! typed error or frames of the promised size, never more than the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mediaslim::video::gif::{GifFrames, GifFramesOptions};

fuzz_target!(|data: &[u8]| {
    let options = GifFramesOptions { max_width: Some(64), max_frames: 50, max_pixels: 1 << 22, ..GifFramesOptions::default() };
    let Ok(mut frames) = GifFrames::open(data.to_vec(), &options) else { return };
    let mut count = 0;
    while let Ok(Some(frame)) = frames.next_frame() {
        count += 1;
        assert!(count <= 50, "more frames than the limit");
        assert!(frame.image.width <= 64 && frame.image.width % 2 == 0, "frame width {}", frame.image.width);
    }
});
