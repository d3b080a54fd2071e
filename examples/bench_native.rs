//! The mediaslim pipeline run natively: the same Rust code as the wasm module, timed per
//! stage, so the bench (bench/run.mjs) can report the wasm/native speed ratio.
//!
//!     cargo run --release --example bench_native -- [--reps N] [--out DIR] '<options-json>' FILE...
//!
//! `options-json` is an OptimizeOptions object exactly as the JS API takes it, e.g.
//! '{"width":1600,"format":"jpeg","quality":80,"neverBigger":false}'. For each file, the job
//! runs N times (default 3; one untimed warm-up run first) and one JSON line is printed:
//!
//!     {"file":..,"reps":3,"format":"jpeg","width":..,"height":..,"bytes":..,"fnv1a":"..",
//!      "decode":ms,"resize":ms,"encode":ms,"total":ms,"runs":[{"decode":..,..},..]}
//!
//! with the median of each stage and of the total (wall time around `optimize`). `fnv1a` is a
//! 32-bit FNV-1a hash of the output, to check that wasm and native produced the same bytes.
//! `--out DIR` also writes each output there (named after the input). One thread.

use std::path::PathBuf;
use std::time::Instant;

use mediaslim::{OptimizeOptions, optimize};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

fn usage() -> ! {
    eprintln!("usage: bench_native [--reps N] [--warmup 0|1] [--out DIR] '<options-json>' FILE...");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut reps = 3usize;
    let mut warmup = true;
    let mut out_dir: Option<PathBuf> = None;
    while let Some(flag) = args.peek().filter(|a| a.starts_with("--")).cloned() {
        args.next();
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--reps" => reps = value.parse().unwrap_or_else(|_| usage()),
            "--warmup" => warmup = value != "0",
            "--out" => out_dir = Some(PathBuf::from(value)),
            _ => usage(),
        }
    }
    let options_json = args.next().unwrap_or_else(|| usage());
    let files: Vec<String> = args.collect();
    if files.is_empty() || reps == 0 {
        usage();
    }
    let options = OptimizeOptions::from_json(&options_json).unwrap_or_else(|e| {
        eprintln!("bench_native: {e}");
        std::process::exit(2);
    });
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).expect("create --out directory");
    }

    let epoch = Instant::now();
    let now_ms = move || epoch.elapsed().as_secs_f64() * 1e3;
    for file in &files {
        let input = std::fs::read(file).unwrap_or_else(|e| panic!("read {file}: {e}"));
        if warmup {
            // Page in the code and the allocator's arenas, as the wasm side's warm-up does.
            let _ = optimize(&input, &options, &now_ms);
        }
        let mut runs = Vec::new();
        let mut last = None;
        for _ in 0..reps {
            let t0 = now_ms();
            let result = optimize(&input, &options, &now_ms);
            let total = now_ms() - t0;
            match result {
                Ok(out) => {
                    runs.push((out.timings.decode, out.timings.resize, out.timings.encode, total));
                    last = Some(out);
                }
                Err(e) => {
                    println!("{}", serde_json::json!({ "file": file, "error": e.to_string(), "code": e.code() }));
                    break;
                }
            }
        }
        let Some(out) = last else { continue };
        if let Some(dir) = &out_dir {
            let stem = std::path::Path::new(file).file_stem().unwrap().to_string_lossy().to_string();
            std::fs::write(dir.join(format!("{stem}.{}", out.format)), &out.bytes).expect("write output");
        }
        let col = |f: fn(&(f64, f64, f64, f64)) -> f64| median(runs.iter().map(f).collect());
        println!(
            "{}",
            serde_json::json!({
                "file": file,
                "reps": runs.len(),
                "format": out.format,
                "width": out.width,
                "height": out.height,
                "bytes": out.bytes.len(),
                "keptOriginal": out.kept_original,
                "quality": out.quality,
                "encodes": out.encodes,
                "score": out.score,
                "fnv1a": format!("{:08x}", fnv1a(&out.bytes)),
                "decode": col(|r| r.0),
                "resize": col(|r| r.1),
                "encode": col(|r| r.2),
                "total": col(|r| r.3),
                "runs": runs.iter().map(|r| serde_json::json!({
                    "decode": r.0, "resize": r.1, "encode": r.2, "total": r.3
                })).collect::<Vec<_>>(),
            })
        );
    }
}
