//! Limits are checked from headers, before allocating: measured with a counting allocator.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mediaslim::{Limits, OptimizeOptions, optimize, probe};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_100000_by_100000_png_header_is_refused_without_allocating() {
    let bomb = common::read(&common::fixtures().join("bomb-100000x100000.png"));
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let err = optimize(&bomb, &OptimizeOptions::default(), &|| 0.0).unwrap_err();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    eprintln!("refused with: {err}; peak allocation {peak} bytes");
    assert_eq!(err.code(), "TOO_LARGE");
    assert!(err.to_string().contains("maxPixels"), "{err}");
    assert!(peak < 4 << 20, "allocated {peak} bytes before refusing");
    // probe reports the header honestly without allocating pixels either.
    let info = probe(&bomb, &Limits::default()).unwrap();
    assert_eq!((info.width, info.height), (100_000, 100_000));
}

#[test]
fn pixel_limit_is_configurable() {
    let png = common::read(&common::fixtures().join("hopper.png"));
    let tight = OptimizeOptions { max_pixels: 1000, ..Default::default() };
    assert_eq!(optimize(&png, &tight, &|| 0.0).unwrap_err().code(), "TOO_LARGE");
    let small_input = OptimizeOptions { max_input_bytes: 100, ..Default::default() };
    assert_eq!(optimize(&png, &small_input, &|| 0.0).unwrap_err().code(), "TOO_LARGE");
    // Upscaling past the budget is refused before the output buffer exists.
    let huge = OptimizeOptions { width: Some(60_000), upscale: true, ..Default::default() };
    assert_eq!(optimize(&png, &huge, &|| 0.0).unwrap_err().code(), "TOO_LARGE");
}

#[test]
fn gif_with_huge_logical_screen_is_refused() {
    let gif = common::read(&common::fixtures().join("decompression_bomb.gif"));
    let err = optimize(&gif, &OptimizeOptions::default(), &|| 0.0).unwrap_err();
    assert!(matches!(err.code(), "TOO_LARGE" | "CORRUPT_INPUT"), "{err}");
}
