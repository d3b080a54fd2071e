//! Resizing premultiplies alpha: colour from fully transparent pixels must not bleed into
//! the soft edge (the classic dark fringe).

mod common;

use mediaslim::resize::{Fit, Kernel, ResizeRequest, resize};
use mediaslim::{Image, Limits, PixelLayout};

/// A white disc on a transparent background whose hidden colour is black.
fn white_disc(size: u32) -> Image {
    let mut px = Vec::with_capacity((size * size * 4) as usize);
    let r = size as f64 / 3.0;
    let c = size as f64 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let inside = ((x as f64 - c).powi(2) + (y as f64 - c).powi(2)).sqrt() < r;
            px.extend_from_slice(if inside { &[255, 255, 255, 255] } else { &[0, 0, 0, 0] });
        }
    }
    Image::new(size, size, PixelLayout::Rgba8, px)
}

#[test]
fn soft_edges_keep_their_colour() {
    let src = white_disc(400);
    let req = ResizeRequest {
        width: Some(37),
        height: None,
        fit: Fit::Inside,
        kernel: Kernel::Lanczos3,
        upscale: false,
        background: [0; 4],
    };
    let plan = req.plan(src.width, src.height).unwrap();
    let out = resize(&src, &plan, &req, &Limits::default()).unwrap();
    let edge: Vec<&[u8]> = out.pixels.chunks_exact(4).filter(|p| p[3] > 8 && p[3] < 247).collect();
    assert!(edge.len() > 20, "expected a soft edge, found {} pixels", edge.len());
    let darkest = edge.iter().map(|p| p[0].min(p[1]).min(p[2])).min().unwrap();
    eprintln!("{} edge pixels, darkest channel {darkest} (255 = no fringe)", edge.len());
    assert!(darkest >= 245, "dark fringe: an edge pixel has a channel of {darkest}");
}
