//! What mozjpeg-rs's DC trellis is worth, to justify turning it off for big images
//! (src/encode/jpeg.rs): bytes with and without it, at quality 75/85, 4:2:0, for each PNG/JPEG
//! given. `cargo run --release --example jpeg_dc_trellis -- ../shared/corpus/photos/*.png`
use mozjpeg_rs::{Encoder, Preset, Subsampling, TrellisConfig};

fn main() {
    let mut totals = [0usize; 2];
    for path in std::env::args().skip(1) {
        let rgb = image::open(&path).expect("decodable image").to_rgb8();
        let (w, h) = rgb.dimensions();
        let mut sizes = [0usize; 2];
        for q in [75u8, 85] {
            for (i, dc) in [true, false].into_iter().enumerate() {
                let jpeg = Encoder::new(Preset::ProgressiveBalanced)
                    .quality(q)
                    .subsampling(Subsampling::S420)
                    .trellis(TrellisConfig::default().dc_trellis(dc))
                    .encode_rgb(rgb.as_raw(), w, h)
                    .expect("encodes");
                sizes[i] += jpeg.len();
            }
        }
        println!(
            "{path} {w}x{h}: with {} without {} ratio {:.4}",
            sizes[0],
            sizes[1],
            sizes[1] as f64 / sizes[0] as f64
        );
        totals[0] += sizes[0];
        totals[1] += sizes[1];
    }
    println!("total: without/with {:.4}", totals[1] as f64 / totals[0] as f64);
}
