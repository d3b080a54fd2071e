//! Which JPEG encoder gives the fewest bytes at equal visual quality?
//!
//! `jpeg-encoder` (progressive, optimized Huffman, 4:2:0) against `mozjpeg-rs`
//! (Preset::ProgressiveBalanced and Preset::ProgressiveSmallest, 4:2:0). For each photo
//! (resized to 1600 px wide when wider, with mediaslim's own resize), and each encoder, a
//! bracketing search (bisection with interpolation) on quality finds the smallest output whose SSIMULACRA2 score against the
//! resized source reaches 70, 80 and 90. Prints a markdown table and writes
//! bench/out/jpeg_encoders.json.
//!
//!     cargo run --release --example jpeg_encoders [-- --limit 12] [--corpus DIR]
//!
//! Scores use the `ssimulacra2` crate; outputs are decoded by mediaslim's decoder
//! (the `image` crate). Single-threaded throughout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mediaslim::decode::decode;
use mediaslim::quality::linear_rgb as linear;
use mediaslim::{Fit, Image, Kernel, Limits, ResizeRequest};
use ssimulacra2::{LinearRgb, compute_frame_ssimulacra2};

const TARGETS: [f64; 3] = [70.0, 80.0, 90.0];
const MAX_WIDTH: u32 = 1600;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Enc {
    JpegEncoder,
    MozBalanced,
    MozSmallest,
}

const ENCODERS: [Enc; 3] = [Enc::JpegEncoder, Enc::MozBalanced, Enc::MozSmallest];

impl Enc {
    fn name(self) -> &'static str {
        match self {
            Enc::JpegEncoder => "jpeg-encoder 0.7.1 (progressive, optimized Huffman)",
            Enc::MozBalanced => "mozjpeg-rs 0.9.2 ProgressiveBalanced",
            Enc::MozSmallest => "mozjpeg-rs 0.9.2 ProgressiveSmallest",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Enc::JpegEncoder => "jpeg-encoder",
            Enc::MozBalanced => "mozjpeg-rs-balanced",
            Enc::MozSmallest => "mozjpeg-rs-smallest",
        }
    }

    fn encode(self, img: &Image, quality: u8) -> Vec<u8> {
        let (w, h) = (img.width, img.height);
        match self {
            Enc::JpegEncoder => {
                let mut out = Vec::new();
                let mut e = jpeg_encoder::Encoder::new(&mut out, quality);
                e.set_progressive(true);
                e.set_optimized_huffman_tables(true);
                e.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
                e.encode(&img.pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).expect("jpeg-encoder");
                out
            }
            Enc::MozBalanced | Enc::MozSmallest => {
                let preset = if self == Enc::MozBalanced {
                    mozjpeg_rs::Preset::ProgressiveBalanced
                } else {
                    mozjpeg_rs::Preset::ProgressiveSmallest
                };
                mozjpeg_rs::Encoder::new(preset)
                    .quality(quality)
                    .subsampling(mozjpeg_rs::Subsampling::S420)
                    .encode_rgb(&img.pixels, w, h)
                    .expect("mozjpeg-rs")
            }
        }
    }
}

/// Decoded, alpha flattened onto white, and at most 1600 px wide.
fn load_source(path: &Path) -> Image {
    let bytes = std::fs::read(path).expect("read photo");
    let decoded = decode(&bytes, &Limits::default()).expect("decode photo");
    let image = decoded.image.flatten([255, 255, 255]);
    let req = ResizeRequest {
        width: Some(MAX_WIDTH),
        height: None,
        fit: Fit::Inside,
        kernel: Kernel::Lanczos3,
        upscale: false,
        background: [255, 255, 255, 255],
    };
    let plan = req.plan(image.width, image.height).expect("plan");
    mediaslim::resize::resize(&image, &plan, &req, &Limits::default()).expect("resize").into_owned()
}

#[derive(Clone, Copy, Debug)]
struct Eval {
    bytes: usize,
    score: f64,
    encode_ms: f64,
}

struct Photo<'a> {
    source: &'a Image,
    reference: &'a LinearRgb,
    cache: BTreeMap<(Enc, u8), Eval>,
    evaluations: usize,
    score_ms: f64,
    /// Scores by decoded-pixel hash: ProgressiveSmallest differs from ProgressiveBalanced
    /// only in lossless scan choices, so its decoded pixels (and score) repeat.
    by_pixels: std::collections::HashMap<u64, f64>,
}

impl Photo<'_> {
    fn eval(&mut self, enc: Enc, q: u8) -> Eval {
        if let Some(e) = self.cache.get(&(enc, q)) {
            return *e;
        }
        let t = Instant::now();
        let bytes = enc.encode(self.source, q);
        let encode_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let out = decode(&bytes, &Limits::default()).expect("decode own output").image;
        let key = fnv1a64(&out.pixels);
        let score = match self.by_pixels.get(&key) {
            Some(&s) => s,
            None => {
                let s = compute_frame_ssimulacra2(self.reference.clone(), linear(&out)).expect("ssimulacra2");
                self.by_pixels.insert(key, s);
                s
            }
        };
        self.score_ms += t.elapsed().as_secs_f64() * 1e3;
        let e = Eval { bytes: bytes.len(), score, encode_ms };
        self.cache.insert((enc, q), e);
        self.evaluations += 1;
        e
    }

    /// Smallest quality whose score reaches `target`, assuming scores rise with quality
    /// (a bracketing search: interpolation on the score, kept within the middle half of the
    /// bracket so it always shrinks). `None` when even quality 100 falls short.
    /// `hint`: the answer another encoder gave, tried first with its neighbour.
    fn search(&mut self, enc: Enc, target: f64, hint: Option<u8>) -> Option<(u8, Eval)> {
        if let Some(h) = hint {
            self.eval(enc, h);
        }
        loop {
            let known: Vec<(u8, f64)> =
                self.cache.iter().filter(|((e, _), _)| *e == enc).map(|((_, q), v)| (*q, v.score)).collect();
            let hi = known.iter().filter(|(_, s)| *s >= target).map(|(q, s)| (*q, *s)).min_by_key(|(q, _)| *q);
            let Some((hi, s_hi)) = hi else {
                if known.iter().any(|(q, _)| *q == 100) {
                    return None;
                }
                self.eval(enc, 100);
                continue;
            };
            if hi == 1 {
                return Some((1, self.eval(enc, 1)));
            }
            let lo = known.iter().filter(|(q, s)| *q < hi && *s < target).max_by_key(|(q, _)| *q).copied();
            let Some((lo, s_lo)) = lo else {
                self.eval(enc, hi.saturating_sub(25).max(1));
                continue;
            };
            if hi - lo == 1 {
                return Some((hi, self.eval(enc, hi)));
            }
            let (lo_f, hi_f) = (f64::from(lo), f64::from(hi));
            let mut guess = lo_f + (target - s_lo) / (s_hi - s_lo) * (hi_f - lo_f);
            if hi - lo > 4 {
                guess = guess.clamp(lo_f + (hi_f - lo_f) / 4.0, hi_f - (hi_f - lo_f) / 4.0);
            }
            let mut guess = (guess.round() as u8).clamp(lo + 1, hi - 1);
            match hint {
                Some(h) if h == hi && !self.cache.contains_key(&(enc, h - 1)) => guess = h - 1,
                Some(h) if h == lo && !self.cache.contains_key(&(enc, h + 1)) => guess = h + 1,
                _ => {}
            }
            self.eval(enc, guess);
        }
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The quality search for one photo and every encoder (encode times here are taken while
/// another photo is being searched on the other core: indicative only).
fn search_photo(path: &Path) -> serde_json::Value {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let t = Instant::now();
    let source = load_source(path);
    let reference = linear(&source);
    let mut photo = Photo {
        source: &source,
        reference: &reference,
        cache: BTreeMap::new(),
        evaluations: 0,
        score_ms: 0.0,
        by_pixels: Default::default(),
    };
    let mut results = serde_json::Map::new();
    let mut previous: BTreeMap<String, u8> = BTreeMap::new(); // target -> quality, last encoder
    for enc in ENCODERS {
        // Quality 80 first: it is reported anyway and usually brackets the targets.
        let q80 = photo.eval(enc, 80);
        let mut by_target = serde_json::Map::new();
        for target in TARGETS {
            let found = photo.search(enc, target, previous.get(&format!("{target}")).copied());
            if let Some((q, _)) = found {
                previous.insert(format!("{target}"), q);
            }
            by_target.insert(
                format!("{target}"),
                match found {
                    Some((q, e)) => serde_json::json!({
                        "quality": q, "bytes": e.bytes, "score": e.score, "encodeMs": e.encode_ms
                    }),
                    None => serde_json::Value::Null,
                },
            );
        }
        let tried: Vec<serde_json::Value> = photo
            .cache
            .iter()
            .filter(|((e, _), _)| *e == enc)
            .map(|((_, q), v)| serde_json::json!([q, v.bytes, (v.score * 100.0).round() / 100.0]))
            .collect();
        results.insert(
            enc.key().to_string(),
            serde_json::json!({
                "targets": by_target,
                "q80": { "bytes": q80.bytes, "score": q80.score },
                "tried": tried,
            }),
        );
    }
    eprintln!(
        "[jpeg_encoders] {name} {}x{}: {} encodes, {} scored, in {:.1} s ({:.1} s decoding+scoring)",
        source.width,
        source.height,
        photo.evaluations,
        photo.by_pixels.len(),
        t.elapsed().as_secs_f64(),
        photo.score_ms / 1e3
    );
    serde_json::json!({ "photo": name, "width": source.width, "height": source.height, "encoders": results })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut limit = 12usize;
    let mut corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/photos");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--limit" => {
                limit = args[i + 1].parse().expect("--limit N");
                i += 1;
            }
            "--corpus" => {
                corpus = PathBuf::from(&args[i + 1]);
                i += 1;
            }
            "-h" | "--help" => {
                println!("usage: jpeg_encoders [--limit N (default 12, 0 = all)] [--corpus DIR]");
                return;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let Ok(dir) = std::fs::read_dir(&corpus) else {
        println!(
            "corpus not found at {} (expected ../shared/corpus/photos beside the repo): nothing to do",
            corpus.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg" | "jpeg")))
        .collect();
    files.sort();
    // Keep the runtime bounded: `limit` photos spread evenly over the sorted names.
    if limit > 0 && files.len() > limit {
        let step = files.len() as f64 / limit as f64;
        files = (0..limit).map(|k| files[(k as f64 * step) as usize].clone()).collect();
    }

    let started = Instant::now();
    // Scoring dominates (SSIMULACRA2 is ~1 s per megapixel here, single-threaded), so the
    // searches run two photos at a time, one per core; encode speed is measured afterwards
    // in a separate, sequential pass so that the times are not taken under that load.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<serde_json::Value>>> = files.iter().map(|_| Default::default()).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(path) = files.get(k) else { break };
                    *slots[k].lock().unwrap() = Some(search_photo(path));
                }
            });
        }
    });
    let mut per_photo: Vec<serde_json::Value> = slots.into_iter().map(|s| s.into_inner().unwrap().unwrap()).collect();

    // Sequential speed pass: quality 80, median of 3 encodes per photo and encoder.
    for (path, photo) in files.iter().zip(per_photo.iter_mut()) {
        let source = load_source(path);
        for enc in ENCODERS {
            let times: Vec<f64> = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(enc.encode(&source, 80));
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            photo["encoders"][enc.key()]["q80"]["encodeMs"] = serde_json::json!(median(times));
        }
    }

    // Summary: per target, over the photos where every encoder reached it.
    let get = |p: &serde_json::Value, enc: Enc, target: f64, field: &str| -> Option<f64> {
        p["encoders"][enc.key()]["targets"][format!("{target}")][field].as_f64()
    };
    let mut summary = Vec::new();
    println!("\n## JPEG encoders at equal SSIMULACRA2 ({} photos, <= {MAX_WIDTH} px wide, 4:2:0)\n", files.len());
    println!(
        "Bytes: mean over photos of the smallest output reaching the target (bracketing search on quality 1-100)."
    );
    println!(
        "Ratio: mean bytes / mean bytes of jpeg-encoder (< 1 = smaller than jpeg-encoder); geo-mean of per-photo ratios in brackets.\n"
    );
    println!(
        "Photos: where every encoder reached the target (the means are over these). Reached: photos where this encoder reached it at all (4:2:0 caps the score; `tried` in the JSON lists every quality tried).\n"
    );
    println!(
        "| SSIMULACRA2 >= | encoder | photos | reached | mean quality | mean bytes | ratio vs jpeg-encoder | encode ms (mean) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for target in TARGETS {
        let ok: Vec<&serde_json::Value> =
            per_photo.iter().filter(|p| ENCODERS.iter().all(|&e| get(p, e, target, "bytes").is_some())).collect();
        let n = ok.len() as f64;
        let mean = |enc: Enc, field: &str| ok.iter().map(|p| get(p, enc, target, field).unwrap()).sum::<f64>() / n;
        let base = mean(Enc::JpegEncoder, "bytes");
        let mut row = serde_json::Map::new();
        for enc in ENCODERS {
            let bytes = mean(enc, "bytes");
            let geo = (ok
                .iter()
                .map(|p| {
                    (get(p, enc, target, "bytes").unwrap() / get(p, Enc::JpegEncoder, target, "bytes").unwrap()).ln()
                })
                .sum::<f64>()
                / n)
                .exp();
            let reached = per_photo.iter().filter(|p| get(p, enc, target, "bytes").is_some()).count();
            println!(
                "| {target} | {} | {} | {reached}/{} | {:.1} | {:.0} | {:.3} ({:.3}) | {:.1} |",
                enc.name(),
                ok.len(),
                per_photo.len(),
                mean(enc, "quality"),
                bytes,
                bytes / base,
                geo,
                mean(enc, "encodeMs")
            );
            row.insert(
                enc.key().to_string(),
                serde_json::json!({
                    "photos": ok.len(), "reached": reached, "meanQuality": mean(enc, "quality"), "meanBytes": bytes,
                    "ratioVsJpegEncoder": bytes / base, "geoMeanRatio": geo, "meanEncodeMs": mean(enc, "encodeMs"),
                }),
            );
        }
        summary.push(serde_json::json!({ "target": target, "encoders": row }));
    }

    println!("\n### Speed at quality 80 (median of 3 encodes per photo, summed over photos)\n");
    println!("| encoder | total encode ms | MP/s | mean bytes @q80 | mean SSIMULACRA2 @q80 |");
    println!("|---|---:|---:|---:|---:|");
    let mp: f64 = per_photo.iter().map(|p| p["width"].as_f64().unwrap() * p["height"].as_f64().unwrap() / 1e6).sum();
    let mut speed = serde_json::Map::new();
    for enc in ENCODERS {
        let field =
            |f: &str| per_photo.iter().map(|p| p["encoders"][enc.key()]["q80"][f].as_f64().unwrap()).sum::<f64>();
        let ms = field("encodeMs");
        let n = per_photo.len() as f64;
        println!(
            "| {} | {:.0} | {:.1} | {:.0} | {:.2} |",
            enc.name(),
            ms,
            mp / (ms / 1e3),
            field("bytes") / n,
            field("score") / n
        );
        speed.insert(
            enc.key().to_string(),
            serde_json::json!({ "totalEncodeMs": ms, "megapixelsPerSecond": mp / (ms / 1e3),
                                "meanBytes": field("bytes") / n, "meanScore": field("score") / n }),
        );
    }
    println!("\n({:.0} s total; native, one thread)", started.elapsed().as_secs_f64());

    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/out");
    std::fs::create_dir_all(&out_dir).expect("create bench/out");
    let json = serde_json::json!({
        "description": "bytes at equal SSIMULACRA2: smallest output per encoder reaching each target",
        "maxWidth": MAX_WIDTH,
        "subsampling": "4:2:0",
        "targets": TARGETS,
        "encoders": ENCODERS.iter().map(|e| serde_json::json!({"key": e.key(), "name": e.name()})).collect::<Vec<_>>(),
        "summary": summary,
        "speedAtQ80": speed,
        "photos": per_photo,
    });
    let path = out_dir.join("jpeg_encoders.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).expect("write json");
    println!("wrote {}", path.display());
}
