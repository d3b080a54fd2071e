//! Hostile inputs: every malformed, broken, truncated or odd file we have goes through `probe`
//! and `optimize` and must come back as a typed error or a valid image, quickly and within a
//! memory bound; decompression bombs are refused from their headers with `TOO_LARGE` naming
//! the limit; fuzzer finds (tests/fixtures/fuzz/) stay fixed.
//!
//! Time is measured as this thread's CPU time (robust on a loaded machine), with a wall-clock
//! guard for hangs; memory with a counting allocator (peak live bytes during one file).

// A test: panicking on a broken expectation is how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use mediaslim::{Limits, OptimizeOptions, decode, optimize, probe};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One file at a time, so the allocator's peak belongs to it.
static SERIAL: Mutex<()> = Mutex::new(());

const CODES: &[&str] = &["UNSUPPORTED_FORMAT", "CORRUPT_INPUT", "TOO_LARGE", "INVALID_OPTION", "ENCODE_FAILED"];
/// The goal per file (CPU time of the thread doing the work).
const CPU_BUDGET: Duration = Duration::from_secs(2);
/// A file still running after this is a hang.
const HANG: Duration = Duration::from_secs(60);
/// Peak memory allowed for any one of these (small) files, input included.
const MEMORY_BUDGET: usize = 256 << 20;

/// This thread's CPU time (user + system), from /proc; `None` where there is no /proc.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) in clock ticks; after the ")" the list starts at field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

#[derive(Debug)]
struct Run {
    /// `Ok(summary)` for a valid output, `Err(code)` for a typed error, or the panic message.
    outcome: Result<Result<String, String>, String>,
    cpu: Duration,
    /// The part of `cpu` spent reading the input (probe + decode).
    decode_cpu: Duration,
    /// Pixels decoded (0 when refused).
    pixels: usize,
    wall: Duration,
    peak: usize,
}

impl Run {
    /// Reading any input takes at most CPU_BUDGET. Re-encoding a legitimately large image
    /// (oxipng on a 3.6 MP PNG in an unoptimized test build) may take longer: 1.5 s per
    /// megapixel over the first.
    fn over_budget(&self) -> bool {
        let encode_allowance = Duration::from_secs_f64(1.5 * (self.pixels as f64 / 1e6 - 1.0).max(0.0));
        self.decode_cpu > CPU_BUDGET || self.cpu > CPU_BUDGET + encode_allowance
    }
}

/// Runs `work` on its own thread with the allocator's peak reset; `None` when it hangs.
fn measured<F>(work: F) -> Option<Run>
where
    F: FnOnce() -> Result<String, String> + Send + 'static,
{
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    DECODE_CPU_MS.store(0, Ordering::SeqCst);
    DECODED_PIXELS.store(0, Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    std::thread::spawn(move || {
        let (cpu0, t0) = (thread_cpu(), Instant::now());
        let outcome = panic::catch_unwind(panic::AssertUnwindSafe(work)).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        });
        let wall = t0.elapsed();
        let cpu = match (cpu0, thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall,
        };
        let _ = tx.send((outcome, cpu, wall));
    });
    let (outcome, cpu, wall) = rx.recv_timeout(HANG).ok()?;
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    let decode_cpu = Duration::from_millis(DECODE_CPU_MS.load(Ordering::SeqCst) as u64);
    let pixels = DECODED_PIXELS.load(Ordering::SeqCst);
    Some(Run { outcome, cpu, decode_cpu, pixels, wall, peak })
}

/// CPU spent in `probe` + `decode` of the current file, and the pixels decoded, set by
/// `probe_and_optimize` for `measured` to judge (one file at a time: see SERIAL).
static DECODE_CPU_MS: AtomicUsize = AtomicUsize::new(0);
static DECODED_PIXELS: AtomicUsize = AtomicUsize::new(0);

/// probe, decode, then optimize; a success must decode back to what it claims.
fn probe_and_optimize(bytes: &[u8], options: &OptimizeOptions) -> Result<String, String> {
    let typed = |e: mediaslim::Error| {
        assert!(CODES.contains(&e.code()), "unknown code {}", e.code());
        assert!(!e.to_string().is_empty());
        e.code().to_string()
    };
    let cpu0 = thread_cpu();
    let probed = probe(bytes, &Limits::default()).map_err(typed);
    let decoded = decode(bytes, &options.limits()).map_err(typed);
    if let (Some(a), Some(b)) = (cpu0, thread_cpu()) {
        DECODE_CPU_MS.store(b.saturating_sub(a).as_millis() as usize, Ordering::SeqCst);
    }
    let decoded = decoded?;
    DECODED_PIXELS.store(decoded.image.width as usize * decoded.image.height as usize, Ordering::SeqCst);
    drop(decoded);
    let out = optimize(bytes, options, &|| 0.0).map_err(typed)?;
    assert!(!out.bytes.is_empty());
    if out.format != "avif" {
        let back = decode(&out.bytes, &Limits::default()).unwrap_or_else(|e| panic!("output does not decode: {e}"));
        assert_eq!((back.image.width, back.image.height), (out.width, out.height), "output size");
    }
    // What probe read from the header is what decoding found.
    if let Ok(p) = &probed
        && options.width.is_none()
        && options.height.is_none()
    {
        assert_eq!((p.width, p.height), (out.width, out.height), "probe and decode disagree on the size");
    }
    Ok(format!("{} {}x{}", out.format, out.width, out.height))
}

fn hostile_files() -> Vec<PathBuf> {
    let mut files = common::files_in(&common::fixtures());
    let fuzz = common::fixtures().join("fuzz");
    if fuzz.is_dir() {
        files.extend(common::files_in(&fuzz).into_iter().filter(|p| !is_fuzz_options(p)));
    }
    for sub in ["malformed", "formats", "formats/apng", "formats/avif"] {
        if let Some(dir) = common::corpus(sub) {
            files.extend(common::files_in(&dir));
        }
    }
    files.retain(|p| !matches!(p.extension().and_then(|e| e.to_str()), Some("md" | "mjs")));
    files.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("LICENSE")));
    files
}

fn is_fuzz_options(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "json")
}

#[derive(Default)]
struct Tally {
    ok: usize,
    refused: std::collections::BTreeMap<String, usize>,
    panics: Vec<String>,
    hangs: Vec<String>,
    slow: Vec<String>,
    greedy: Vec<String>,
    slowest: (Duration, Duration, String),
    times: Vec<(Duration, String)>,
    peak: (usize, String),
}

impl Tally {
    fn add(&mut self, name: &str, run: Option<Run>) {
        let Some(run) = run else {
            self.hangs.push(name.to_string());
            return;
        };
        match &run.outcome {
            Ok(Ok(_)) => self.ok += 1,
            Ok(Err(code)) => *self.refused.entry(code.clone()).or_default() += 1,
            Err(panic) => self.panics.push(format!("{name}: {panic}")),
        }
        if run.over_budget() {
            self.slow.push(format!(
                "{name}: {:?} CPU ({:?} reading, {:.1} MP; {:?} wall)",
                run.cpu,
                run.decode_cpu,
                run.pixels as f64 / 1e6,
                run.wall
            ));
        }
        if run.peak > MEMORY_BUDGET {
            self.greedy.push(format!("{name}: {} MiB", run.peak >> 20));
        }
        self.times.push((run.cpu, format!("{name} ({:?} reading, {:.1} MP)", run.decode_cpu, run.pixels as f64 / 1e6)));
        if run.cpu > self.slowest.0 {
            self.slowest = (run.cpu, run.wall, name.to_string());
        }
        if run.peak > self.peak.0 {
            self.peak = (run.peak, name.to_string());
        }
    }

    fn check(mut self, what: &str, files: usize) {
        self.times.sort();
        for (cpu, name) in self.times.iter().rev().take(5) {
            eprintln!("  {cpu:?} CPU: {name}");
        }
        eprintln!(
            "{what}: {files} files: {} valid outputs, refused {:?}; slowest {} ({:?} CPU, {:?} wall); peak {} ({:.1} MiB)",
            self.ok,
            self.refused,
            self.slowest.2,
            self.slowest.0,
            self.slowest.1,
            self.peak.1,
            self.peak.0 as f64 / 1048576.0
        );
        assert!(self.panics.is_empty(), "panicked: {:#?}", self.panics);
        assert!(self.hangs.is_empty(), "hung (> {HANG:?}): {:#?}", self.hangs);
        assert!(self.slow.is_empty(), "over {CPU_BUDGET:?}: {:#?}", self.slow);
        assert!(self.greedy.is_empty(), "over {} MiB: {:#?}", MEMORY_BUDGET >> 20, self.greedy);
    }
}

#[test]
fn every_hostile_file_is_a_typed_error_or_a_valid_image_fast() {
    let files = hostile_files();
    assert!(files.len() >= 30, "expected the committed fixtures at least, found {}", files.len());
    let mut tally = Tally::default();
    for path in &files {
        let bytes = common::read(path);
        let name = path.strip_prefix(common::fixtures().join("..")).unwrap_or(path).display().to_string();
        tally.add(&name, measured(move || probe_and_optimize(&bytes, &OptimizeOptions::default())));
    }
    tally.check("hostile files", files.len());
}

/// Pipeline finds are stored as `<name>.json` (the options) beside `<name>.<ext>` (the image).
#[test]
fn fuzz_regressions_with_their_options_stay_fixed() {
    let dir = common::fixtures().join("fuzz");
    if !dir.is_dir() {
        return;
    }
    let mut tally = Tally::default();
    let mut count = 0;
    for json in common::files_in(&dir).into_iter().filter(|p| is_fuzz_options(p)) {
        let stem = json.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let image = common::files_in(&dir)
            .into_iter()
            .find(|p| !is_fuzz_options(p) && p.file_stem().is_some_and(|s| s.to_string_lossy() == stem))
            .unwrap_or_else(|| panic!("{}: no image beside it", json.display()));
        let options = std::fs::read_to_string(&json).unwrap();
        let bytes = common::read(&image);
        count += 1;
        tally.add(
            &stem,
            measured(move || match OptimizeOptions::from_json(&options) {
                Ok(o) => probe_and_optimize(&bytes, &o),
                Err(e) => Err(e.code().to_string()),
            }),
        );
    }
    tally.check("fuzz regressions with options", count);
}

// ---- decompression bombs, built here so their shape is plain to read ----

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

fn zlib_zeros(len: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        z.write_all(&block[..n]).unwrap();
        left -= n;
    }
    z.finish().unwrap()
}

/// A greyscale 8-bit PNG of `w` x `h` with `extra` chunks before an IDAT of `idat_len` zeros.
fn png(w: u32, h: u32, extra: &[(&[u8; 4], Vec<u8>)], idat_len: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    for (kind, data) in extra {
        png_chunk(&mut out, kind, data);
    }
    png_chunk(&mut out, b"IDAT", &zlib_zeros(idat_len));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    j.extend_from_slice(&h.to_be_bytes());
    j.extend_from_slice(&w.to_be_bytes());
    j.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    j.extend_from_slice(&[0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    j.extend_from_slice(&[0; 64]);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

fn webp_vp8x(w: u32, h: u32) -> Vec<u8> {
    let mut chunk = b"VP8X".to_vec();
    chunk.extend_from_slice(&10u32.to_le_bytes());
    chunk.extend_from_slice(&[0, 0, 0, 0]);
    chunk.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    chunk.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    // A 1x1 lossless bitstream follows (never reached).
    chunk.extend_from_slice(b"VP8L");
    chunk.extend_from_slice(&5u32.to_le_bytes());
    chunk.extend_from_slice(&[0x2F, 0, 0, 0, 0, 0]);
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&((chunk.len() + 4) as u32).to_le_bytes());
    w.extend_from_slice(b"WEBP");
    w.extend_from_slice(&chunk);
    w
}

fn webp_vp8l(w: u32, h: u32) -> Vec<u8> {
    let bits = (w - 1) | (h - 1) << 14;
    let mut chunk = b"VP8L".to_vec();
    chunk.extend_from_slice(&5u32.to_le_bytes());
    chunk.push(0x2F);
    chunk.extend_from_slice(&bits.to_le_bytes());
    chunk.push(0);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((chunk.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunk);
    out
}

fn bmp_header(w: i32, h: i32) -> Vec<u8> {
    let mut b = b"BM".to_vec();
    b.extend_from_slice(&(54u32 + 16).to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&w.to_le_bytes());
    b.extend_from_slice(&h.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&[0; 16]);
    b
}

/// A GIF with a `sw` x `sh` logical screen and `frames` 1x1 frames.
fn gif(sw: u16, sh: u16, frames: usize) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&sw.to_le_bytes());
    g.extend_from_slice(&sh.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // 2-colour global table
    for _ in 0..frames {
        g.extend_from_slice(&[0x21, 0xF9, 4, 0, 1, 0, 0, 0]); // 10 ms delay
        g.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        g.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]); // LZW: clear, 0, end
    }
    g.push(0x3B);
    g
}

fn assert_refused(name: &str, bytes: Vec<u8>, options: OptimizeOptions, names: &[&str]) {
    let input_len = bytes.len();
    let run = measured(move || match optimize(&bytes, &options, &|| 0.0) {
        Ok(o) => Ok(format!("{}x{}", o.width, o.height)),
        Err(e) => Err(format!("{}: {e}", e.code())),
    })
    .unwrap_or_else(|| panic!("{name}: hung"));
    eprintln!(
        "{name}: {:?} in {:?} CPU, peak {} KiB over a {input_len}-byte input",
        run.outcome,
        run.cpu,
        run.peak >> 10
    );
    let message = match run.outcome {
        Ok(Err(m)) => m,
        other => panic!("{name}: expected TOO_LARGE, got {other:?}"),
    };
    assert!(message.starts_with("TOO_LARGE"), "{name}: {message}");
    assert!(names.iter().any(|n| message.contains(n)), "{name}: the message names none of {names:?}: {message}");
    assert!(run.peak < input_len + (4 << 20), "{name}: allocated {} KiB before refusing", run.peak >> 10);
    assert!(run.cpu < CPU_BUDGET, "{name}: {:?}", run.cpu);
}

#[test]
fn decompression_bombs_are_refused_from_their_headers() {
    let d = OptimizeOptions::default;
    let pixels = &["maxPixels"];
    assert_refused(
        "committed 100000x100000 PNG",
        common::read(&common::fixtures().join("bomb-100000x100000.png")),
        d(),
        pixels,
    );
    assert_refused("20000x20000 PNG, 4 MiB of zeros", png(20_000, 20_000, &[], 4 << 20), d(), pixels);
    assert_refused("65500x65500 JPEG", jpeg_header(65_500, 65_500), d(), pixels);
    assert_refused("16777216x16777216 WebP (VP8X)", webp_vp8x(1 << 24, 1 << 24), d(), pixels);
    assert_refused("16384x16384 WebP (VP8L)", webp_vp8l(16_384, 16_384), d(), pixels);
    assert_refused("40000x40000 BMP", bmp_header(40_000, -40_000), d(), pixels);
    assert_refused("100000x1 BMP (one side over 65535)", bmp_header(100_000, 1), d(), &["65535"]);
    assert_refused("65535x65535 GIF screen, 1x1 frame", gif(65_535, 65_535, 1), d(), pixels);
    let hopper = common::read(&common::fixtures().join("hopper.png"));
    let tight = OptimizeOptions { max_pixels: 10_000, ..Default::default() };
    assert_refused("hopper under maxPixels 10000", hopper.clone(), tight, &["maxPixels"]);
    let small = OptimizeOptions { max_input_bytes: 1000, ..Default::default() };
    assert_refused("hopper under maxInputBytes 1000", hopper, small, &["maxInputBytes"]);
    // Pillow's bomb: a 32x32 screen holding a 65535x1321 frame (86.6 MP: under our default
    // budget, where it fails as the truncated file it is). The frame, not the screen, is checked.
    let bomb = common::read(&common::fixtures().join("decompression_bomb.gif"));
    assert_eq!(optimize(&bomb, &d(), &|| 0.0).unwrap_err().code(), "CORRUPT_INPUT");
    let tight = OptimizeOptions { max_pixels: 10_000_000, ..Default::default() };
    assert_refused("decompression_bomb.gif under 10 MP", bomb, tight, pixels);
    assert_refused(
        "64x64 GIF screen, 60000x60000 frame",
        {
            let mut g = gif(64, 64, 1);
            g[32..36].copy_from_slice(&[0x60, 0xEA, 0x60, 0xEA]); // the frame's width and height
            g
        },
        d(),
        pixels,
    );
}

/// Inputs whose danger is in a compressed stream or a long table rather than in the header:
/// not refused outright (they may be legitimate), but bounded in time and memory.
#[test]
fn bomb_like_streams_and_tables_stay_bounded() {
    let mb = 1 << 20;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("64x64 PNG whose IDAT inflates to 256 MiB", png(64, 64, &[], 256 * mb)),
        ("64x64 PNG with an iCCP inflating to 256 MiB", {
            let mut iccp = b"bomb\0\0".to_vec();
            iccp.extend_from_slice(&zlib_zeros(256 * mb));
            png(64, 64, &[(b"iCCP", iccp)], 64 * 65)
        }),
        ("64x64 PNG with a zTXt inflating to 256 MiB", {
            let mut ztxt = b"Comment\0\0".to_vec();
            ztxt.extend_from_slice(&zlib_zeros(256 * mb));
            png(64, 64, &[(b"zTXt", ztxt)], 64 * 65)
        }),
        ("64x64 PNG with an iTXt inflating to 256 MiB", {
            let mut itxt = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
            itxt.extend_from_slice(&zlib_zeros(256 * mb));
            png(64, 64, &[(b"iTXt", itxt)], 64 * 65)
        }),
        ("64x64 PNG behind 100000 tEXt chunks", {
            let extra: Vec<(&[u8; 4], Vec<u8>)> = (0..100_000).map(|_| (b"tEXt", b"k\0v".to_vec())).collect();
            png(64, 64, &extra, 64 * 65)
        }),
        ("1x1 GIF with 20000 frames", gif(1, 1, 20_000)),
        ("2x2 GIF screen with 20000 frames", gif(2, 2, 20_000)),
    ];
    let mut tally = Tally::default();
    let count = cases.len();
    for (name, bytes) in cases {
        let input_len = bytes.len();
        let run = measured(move || probe_and_optimize(&bytes, &OptimizeOptions::default()));
        if let Some(run) = &run {
            eprintln!(
                "{name}: {:?} in {:?} CPU, peak {} KiB over a {input_len}-byte input",
                run.outcome,
                run.cpu,
                run.peak >> 10
            );
            assert!(run.peak < input_len + 64 * mb, "{name}: peak {} MiB", run.peak >> 20);
        }
        tally.add(name, run);
    }
    tally.check("bomb-like streams", count);
}

#[test]
fn many_frames_are_counted_from_headers_not_decoded() {
    let info = probe(&gif(1, 1, 20_000), &Limits::default()).unwrap();
    assert_eq!(info.frame_count, 20_000);
    assert!(info.animated);
}

/// Found by this suite (Pillow's ultrahdr.jpg): a JPEG cut inside its main scan passed the
/// completeness check because the EXIF thumbnail (a whole JPEG inside APP1) had its own
/// start-of-scan and end-of-image markers; it decoded as a grey smear.
#[test]
fn a_truncated_jpeg_with_a_complete_exif_thumbnail_is_corrupt() {
    let hopper = common::read(&common::fixtures().join("hopper.jpg"));
    let thumb = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9];
    let mut app1 = b"Exif\0\0MM\0*\0\0\0\x08\0\0".to_vec();
    app1.extend_from_slice(&thumb);
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    jpeg.extend_from_slice(&app1);
    jpeg.extend_from_slice(&hopper[2..hopper.len() / 2]);
    let err = optimize(&jpeg, &OptimizeOptions::default(), &|| 0.0).unwrap_err();
    assert_eq!(err.code(), "CORRUPT_INPUT", "{err}");
    assert!(err.to_string().contains("end-of-image"), "{err}");
    // The same file whole is fine.
    jpeg.extend_from_slice(&hopper[hopper.len() / 2..]);
    optimize(&jpeg, &OptimizeOptions::default(), &|| 0.0).unwrap();
}

/// Fuzzer find (decode): a 4 x 0 GIF screen decoded to an image with no pixels.
#[test]
fn an_empty_image_is_corrupt_not_decoded() {
    let gif = common::read(&common::fixtures().join("fuzz/decode-gif-screen-4x0.gif"));
    for err in [probe(&gif, &Limits::default()).unwrap_err(), decode(&gif, &Limits::default()).unwrap_err()] {
        assert_eq!(err.code(), "CORRUPT_INPUT", "{err}");
        assert!(err.to_string().contains("empty 4 x 0"), "{err}");
    }
}

/// Fuzzer find (probe): a WebP's EXIF chunk claiming 4 GiB was allocated at that size.
#[test]
fn a_metadata_chunk_larger_than_the_file_is_not_allocated() {
    let webp = common::read(&common::fixtures().join("fuzz/probe-oom-webp-exif-4gib.webp"));
    let run = measured(move || {
        let info = probe(&webp, &Limits::default()).map_err(|e| e.code().to_string())?;
        Ok(format!("{}x{}", info.width, info.height))
    })
    .unwrap();
    assert!(run.peak < 16 << 20, "peak {} MiB", run.peak >> 20);
    assert!(run.outcome.is_ok(), "panicked: {:?}", run.outcome); // a typed error or a size
}
