//! SSIMULACRA2 scores for pairs of image files (reference, distorted), for the bench.
//!
//!     cargo run --release --example ssimulacra2_score -- REF DIST
//!     cargo run --release --example ssimulacra2_score < pairs.json
//!
//! With two arguments, prints the score. Otherwise reads a JSON array of
//! `{"ref": path, "dist": path}` from stdin and prints one JSON line per pair, in input order:
//! `{"ref":..,"dist":..,"score":..}` (or `"error"`). Pairs sharing a reference decode it once.
//! Files are decoded with mediaslim's decoders (JPEG, PNG, WebP, GIF, BMP: no AVIF, so
//! convert AVIF outputs to PNG first); alpha is flattened onto white. Scores (0-100, higher
//! is closer; ~90 is visually lossless at 1:1, ~70 is "medium quality") follow the
//! `ssimulacra2` crate. Uses up to two threads.

use std::collections::BTreeMap;
use std::sync::Mutex;

use mediaslim::decode::decode;
use mediaslim::quality::linear_rgb as linear;
use mediaslim::{Image, Limits};
use ssimulacra2::{LinearRgb, compute_frame_ssimulacra2};

fn load(path: &str) -> Result<Image, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    let limits = Limits { max_input_bytes: u64::MAX, ..Limits::default() };
    let decoded = decode(&bytes, &limits).map_err(|e| format!("decode {path}: {e}"))?;
    Ok(decoded.image.flatten([255, 255, 255]))
}

fn score(reference: &LinearRgb, ref_size: (u32, u32), dist: &str) -> Result<f64, String> {
    let d = load(dist)?;
    if (d.width, d.height) != ref_size {
        return Err(format!(
            "size mismatch: reference {}x{}, distorted {}x{}",
            ref_size.0, ref_size.1, d.width, d.height
        ));
    }
    compute_frame_ssimulacra2(reference.clone(), linear(&d)).map_err(|e| e.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 2 {
        let r = load(&args[0]).unwrap_or_else(|e| panic!("{e}"));
        match score(&linear(&r), (r.width, r.height), &args[1]) {
            Ok(s) => println!("{s:.4}"),
            Err(e) => {
                eprintln!("ssimulacra2_score: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if !args.is_empty() {
        eprintln!("usage: ssimulacra2_score REF DIST   |   ssimulacra2_score < [{{\"ref\":..,\"dist\":..}},..]");
        std::process::exit(2);
    }
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).expect("read stdin");
    let pairs: Vec<serde_json::Value> = serde_json::from_str(&input).expect("stdin: a JSON array of {ref, dist}");

    // Group by reference so each is decoded once; two workers take whole groups.
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in pairs.iter().enumerate() {
        groups.entry(p["ref"].as_str().expect("ref path").to_string()).or_default().push(i);
    }
    let groups: Mutex<Vec<(String, Vec<usize>)>> = Mutex::new(groups.into_iter().collect());
    let results: Mutex<Vec<Option<Result<f64, String>>>> = Mutex::new(vec![None; pairs.len()]);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some((ref_path, idx)) = groups.lock().unwrap().pop() else { break };
                    let reference = load(&ref_path).map(|r| (linear(&r), (r.width, r.height)));
                    for i in idx {
                        let dist = pairs[i]["dist"].as_str().expect("dist path");
                        let r = match &reference {
                            Ok((lin, size)) => score(lin, *size, dist),
                            Err(e) => Err(e.clone()),
                        };
                        results.lock().unwrap()[i] = Some(r);
                    }
                }
            });
        }
    });
    for (p, r) in pairs.iter().zip(results.into_inner().unwrap()) {
        let line = match r.expect("every pair scored") {
            Ok(s) => serde_json::json!({ "ref": p["ref"], "dist": p["dist"], "score": s }),
            Err(e) => serde_json::json!({ "ref": p["ref"], "dist": p["dist"], "error": e }),
        };
        println!("{line}");
    }
}
