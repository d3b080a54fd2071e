//! Shared helpers for the native integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mediaslim::{Image, PixelLayout};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `../shared/corpus/<sub>` when this checkout sits beside it (it does on our machines and CI).
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(sub);
    p.is_dir().then_some(p)
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

/// Mean absolute difference per channel over RGB (alpha ignored), images of equal size.
pub fn mean_abs_diff(a: &Image, b: &Image) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height), "sizes differ");
    let (ca, cb) = (a.layout.channels(), b.layout.channels());
    let mut sum = 0u64;
    for (pa, pb) in a.pixels.chunks_exact(ca).zip(b.pixels.chunks_exact(cb)) {
        for c in 0..3 {
            sum += u64::from(pa[c].abs_diff(pb[c]));
        }
    }
    sum as f64 / (a.width as f64 * a.height as f64 * 3.0)
}

pub fn rgb(img: &Image) -> Image {
    match img.layout {
        PixelLayout::Rgb8 => img.clone(),
        PixelLayout::Rgba8 => img.flatten([0, 0, 0]),
    }
}
