//! Quality search: the smallest encode whose SSIMULACRA2 score meets a target, and the
//! best encode that fits a byte budget. Every trial is a real encode, decoded back with our
//! own decoders and scored against the pixels it was made from, so a reported score is the
//! score of the bytes returned, not an estimate.

use crate::decode;
use crate::encode::{self, ChromaSubsampling, EncodeOptions, OutputFormat};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::limits::Limits;

/// Encodes per format and target are capped: a search that has not converged by then
/// returns its best passing trial.
const MAX_TRIALS_PER_SEARCH: u32 = 7;
/// `maxBytes` lowers quality down to this floor before it shrinks dimensions: below it,
/// lossy codecs fall apart faster than a smaller image loses detail.
pub const BUDGET_QUALITY_FLOOR: u8 = 40;
/// Palette sizes tried for lossy PNG, most colours first.
const PALETTE_SIZES: [u16; 5] = [256, 128, 64, 32, 16];

/// What the caller wants from one format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// A fixed encoder setting (`None` = the format's default quality).
    Quality(Option<u8>),
    /// The smallest output whose SSIMULACRA2 score is at least this.
    Score(f64),
}

/// One encoded output and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    /// The encoder quality used (lossy formats).
    pub quality: Option<u8>,
    /// Palette size, for lossy (quantized) PNG.
    pub colors: Option<u16>,
    pub chroma: Option<ChromaSubsampling>,
    pub lossless: bool,
    /// SSIMULACRA2 against the encoded pixels, when known.
    pub score: Option<f64>,
}

/// Runs trials for one image (already resized and colour-converted) and counts encodes.
pub struct Search<'a> {
    image: &'a Image,
    base: EncodeOptions,
    limits: Limits,
    /// The image as a JPEG shows it (alpha flattened onto the background), made on first need.
    flattened: std::cell::OnceCell<Image>,
    score_all: bool,
    /// The caller set JPEG chroma subsampling: the search keeps it.
    chroma_fixed: bool,
    pub encodes: u32,
}

impl<'a> Search<'a> {
    pub fn new(image: &'a Image, base: &'a EncodeOptions, limits: Limits) -> Self {
        Search {
            image,
            base: base.clone(),
            limits,
            flattened: std::cell::OnceCell::new(),
            score_all: false,
            chroma_fixed: false,
            encodes: 0,
        }
    }

    /// Whether outputs in `format` can be scored: decoded back by the core, or for AVIF from
    /// rav1e's reconstruction (in builds with the AVIF encoder).
    pub fn can_score(format: OutputFormat) -> bool {
        format != OutputFormat::Avif || cfg!(feature = "avif")
    }

    /// Also score fixed-quality encodes (`score: true`).
    pub fn score_every_encode(mut self, yes: bool) -> Self {
        self.score_all = yes;
        self
    }

    /// Keep `base.chroma_subsampling` for JPEG: the caller chose it.
    pub fn keep_chroma(mut self, yes: bool) -> Self {
        self.chroma_fixed = yes;
        self
    }

    /// One encode with `quality` (lossy) at `chroma`, scored when `scored`.
    fn lossy(&mut self, format: OutputFormat, quality: u8, chroma: ChromaSubsampling, scored: bool) -> Result<Encoded> {
        let options =
            EncodeOptions { quality: Some(quality), chroma_subsampling: chroma, lossless: false, ..self.base.clone() };
        #[cfg(feature = "avif")]
        if format == OutputFormat::Avif {
            // No AV1 decoder here: score what rav1e reconstructed, which is what decoders show.
            self.encodes += 1;
            let out = encode::encode_avif_with_reconstruction(self.image, &options)?;
            let score = if scored { Some(super::ssimulacra2(self.image, &out.reconstruction)?) } else { None };
            let bytes = out.bytes;
            return Ok(Encoded {
                bytes,
                format,
                quality: Some(quality),
                colors: None,
                chroma: None,
                lossless: false,
                score,
            });
        }
        let bytes = self.encode(format, &options)?;
        let score = if scored { Some(self.score(format, &bytes)?) } else { None };
        let chroma = (format == OutputFormat::Jpeg).then_some(chroma);
        Ok(Encoded { bytes, format, quality: Some(quality), colors: None, chroma, lossless: false, score })
    }

    /// A lossless encode (PNG, or WebP lossless): its score is 100 by construction.
    pub fn lossless(&mut self, format: OutputFormat) -> Result<Encoded> {
        let options = EncodeOptions { lossless: true, ..self.base.clone() };
        let bytes = self.encode(format, &options)?;
        Ok(Encoded { bytes, format, quality: None, colors: None, chroma: None, lossless: true, score: Some(100.0) })
    }

    /// A palette PNG of `colors` colours; `None` when the image has soft alpha.
    fn palette(&mut self, colors: u16, scored: bool) -> Result<Option<Encoded>> {
        self.encodes += 1;
        let Some(bytes) = encode::encode_png_palette(self.image, colors, &self.base)? else { return Ok(None) };
        let score = if scored { Some(self.score(OutputFormat::Png, &bytes)?) } else { None };
        let format = OutputFormat::Png;
        Ok(Some(Encoded { bytes, format, quality: None, colors: Some(colors), chroma: None, lossless: false, score }))
    }

    fn encode(&mut self, format: OutputFormat, options: &EncodeOptions) -> Result<Vec<u8>> {
        self.encodes += 1;
        encode::encode(self.image, format, options)
    }

    /// SSIMULACRA2 of `bytes` (decoded back) against the pixels they were encoded from.
    pub fn score(&self, format: OutputFormat, bytes: &[u8]) -> Result<f64> {
        if format == OutputFormat::Avif {
            return Err(Error::option(
                "score",
                "AVIF output is scored while it is encoded (the core has no AVIF decoder)",
            ));
        }
        let back = decode::decode(bytes, &self.limits)?;
        let reference = if format == OutputFormat::Jpeg && self.image.has_alpha_channel() {
            let bg = self.base.background;
            self.flattened.get_or_init(|| self.image.flatten(bg))
        } else {
            self.image
        };
        super::ssimulacra2(reference, &back.image)
    }

    /// The output `goal` asks for in `format`, within `max_bytes` when it can be.
    /// `lossless` is the caller's explicit choice for WebP (`Some(true)`) or PNG (always).
    pub fn run(
        &mut self,
        format: OutputFormat,
        lossless: bool,
        goal: Goal,
        max_bytes: Option<usize>,
    ) -> Result<Encoded> {
        let best = match (format, lossless, goal) {
            (OutputFormat::Png, _, Goal::Score(target)) => self.png_for_score(target)?,
            (_, true, _) | (OutputFormat::Png, _, Goal::Quality(_)) => self.lossless(format)?,
            (_, false, Goal::Score(target)) => self.lossy_for_score(format, target)?,
            (_, false, Goal::Quality(q)) => {
                let q = q.unwrap_or(encode::default_quality(format));
                let chroma = self.base.chroma_subsampling;
                self.lossy(format, q, chroma, self.score_all && Self::can_score(format))?
            }
        };
        match max_bytes {
            Some(max) if best.bytes.len() > max => Ok(self.fit_budget(best, max, goal)?),
            _ => Ok(best),
        }
    }

    /// Smallest palette PNG meeting `target`, or the lossless PNG when none does (or it is smaller).
    fn png_for_score(&mut self, target: f64) -> Result<Encoded> {
        let mut best = self.lossless(OutputFormat::Png)?;
        for colors in PALETTE_SIZES {
            match self.palette(colors, true)? {
                Some(trial) if trial.score.is_some_and(|s| s >= target) => {
                    if trial.bytes.len() < best.bytes.len() {
                        best = trial;
                    }
                }
                // Fewer colours only score lower: stop at the first miss.
                _ => break,
            }
        }
        Ok(best)
    }

    /// JPEG picks its chroma subsampling per image unless the caller fixed it: 4:2:0 first,
    /// then 4:4:4 when 4:2:0 needed a quality well above the usual for the target (fine
    /// red/blue detail, text on colour: 4:2:0 then buys chroma with luma bytes, and 4:4:4 at
    /// a lower quality is often far smaller) or could not reach the target at all.
    /// WebP, whose lossy mode is always 4:2:0, tries sharp YUV and then lossless when plain
    /// lossy cannot reach the target.
    fn lossy_for_score(&mut self, format: OutputFormat, target: f64) -> Result<Encoded> {
        let base_chroma = self.base.chroma_subsampling;
        let (subsampled, met) = self.bisect_quality(format, target, base_chroma)?;
        if format == OutputFormat::Webp && !met {
            if !self.base.sharp_yuv {
                self.base.sharp_yuv = true;
                let found = self.bisect_quality(format, target, base_chroma);
                self.base.sharp_yuv = false;
                if let (found, true) = found? {
                    return Ok(found);
                }
            }
            return self.lossless(format);
        }
        let chroma_limited = !met || subsampled.quality.is_some_and(|q| q >= chroma_suspect_quality(target));
        if format != OutputFormat::Jpeg
            || self.chroma_fixed
            || base_chroma == ChromaSubsampling::Yuv444
            || !chroma_limited
        {
            return Ok(subsampled);
        }
        let (full, full_met) = self.bisect_quality(format, target, ChromaSubsampling::Yuv444)?;
        Ok(match (met, full_met) {
            (true, true) if full.bytes.len() < subsampled.bytes.len() => full,
            (true, _) => subsampled,
            (false, true) => full,
            (false, false) if full.score > subsampled.score => full,
            (false, false) => subsampled,
        })
    }

    /// Bisection on quality (the score rises with quality), seeded near the usual answer and
    /// narrowed by interpolation between the closest passing and failing trials. Returns the
    /// smallest passing trial and `true`, or the best-scoring trial and `false` when even
    /// quality 100 misses the target.
    fn bisect_quality(
        &mut self,
        format: OutputFormat,
        target: f64,
        chroma: ChromaSubsampling,
    ) -> Result<(Encoded, bool)> {
        let mut pass: Option<Encoded> = None; // the lowest quality that met the target
        let mut fail: Option<Encoded> = None; // the highest quality that missed it
        let mut q = first_guess(format, target);
        for _ in 0..MAX_TRIALS_PER_SEARCH {
            let trial = self.lossy(format, q, chroma, true)?;
            let score = trial.score.unwrap_or(0.0);
            if score >= target {
                if pass.as_ref().is_none_or(|p| trial.bytes.len() < p.bytes.len()) {
                    pass = Some(trial);
                }
            } else if fail.as_ref().is_none_or(|f| f.quality < trial.quality) {
                fail = Some(trial);
            }
            let (lo, hi) = (fail.as_ref().and_then(|f| f.quality), pass.as_ref().and_then(|p| p.quality));
            q = match (lo, hi) {
                (Some(lo), Some(hi)) if hi <= lo + 1 => break,
                (Some(lo), Some(hi)) => {
                    let (ls, hs) = (score_of(&fail), score_of(&pass));
                    let t = ((target - ls) / (hs - ls).max(1e-6)).clamp(0.0, 1.0);
                    let guess = f64::from(lo) + t * f64::from(hi - lo);
                    (guess.round() as u8).clamp(lo + 1, hi - 1)
                }
                (None, Some(hi)) if hi <= 1 => break,
                (None, Some(hi)) => hi.saturating_sub(step(score_of(&pass) - target)).max(1),
                (Some(lo), None) if lo >= 100 => break,
                (Some(lo), None) => lo.saturating_add(step(target - score_of(&fail))).min(100),
                (None, None) => break,
            };
        }
        match (pass, fail) {
            (Some(p), _) => Ok((p, true)),
            (None, Some(f)) => Ok((f, false)),
            (None, None) => Err(Error::encode(format.name(), "quality search made no trial")),
        }
    }

    /// The best output no bigger than `max`: the highest quality that fits (down to
    /// `BUDGET_QUALITY_FLOOR`), or for PNG the most colours that fit. Returns the smallest
    /// attempt when nothing fits, for the caller to shrink dimensions.
    fn fit_budget(&mut self, over: Encoded, max: usize, goal: Goal) -> Result<Encoded> {
        let scored = matches!(goal, Goal::Score(_)) && Self::can_score(over.format);
        if over.format == OutputFormat::Png {
            let below = over.colors.unwrap_or(u16::MAX);
            let mut smallest = over;
            for colors in PALETTE_SIZES.into_iter().filter(|&c| c < below) {
                let Some(trial) = self.palette(colors, scored)? else { break };
                let fits = trial.bytes.len() <= max;
                if fits || trial.bytes.len() < smallest.bytes.len() {
                    smallest = trial;
                }
                if fits {
                    break;
                }
            }
            return Ok(smallest);
        }
        if over.lossless {
            return Ok(over); // lossless WebP was asked for explicitly: only dimensions can give
        }
        let chroma = over.chroma.unwrap_or(self.base.chroma_subsampling);
        let top = over.quality.unwrap_or(encode::default_quality(over.format));
        let (mut lo, mut hi) = (BUDGET_QUALITY_FLOOR.min(top), top); // hi is known too big
        let format = over.format;
        let floor = self.lossy(format, lo, chroma, scored)?;
        if floor.bytes.len() > max {
            return Ok(floor); // quality alone cannot fit: the caller shrinks dimensions
        }
        let mut fitting = floor;
        for _ in 0..MAX_TRIALS_PER_SEARCH {
            if hi <= lo + 1 {
                break;
            }
            let mid = lo + (hi - lo) / 2;
            let trial = self.lossy(format, mid, chroma, scored)?;
            if trial.bytes.len() <= max {
                lo = mid;
                fitting = trial;
            } else {
                hi = mid;
            }
        }
        Ok(fitting)
    }
}

fn score_of(trial: &Option<Encoded>) -> f64 {
    trial.as_ref().and_then(|t| t.score).unwrap_or(0.0)
}

/// How far to move quality for a score gap when only one side of the target is known:
/// around the usual targets the score moves ~0.5 point per quality step.
fn step(gap: f64) -> u8 {
    (gap * 2.0).clamp(3.0, 25.0).round() as u8
}

/// Where the search starts: the median quality that met each target on corpus photos at
/// 1600 px (targets 70/80/90; JPEG at 4:2:0), interpolated between.
fn first_guess(format: OutputFormat, target: f64) -> u8 {
    let table: &[(f64, f64)] = match format {
        OutputFormat::Jpeg => &[(50.0, 35.0), (70.0, 71.0), (80.0, 86.0), (90.0, 97.0), (100.0, 100.0)],
        OutputFormat::Webp => &[(50.0, 35.0), (70.0, 69.0), (80.0, 86.0), (90.0, 99.0), (100.0, 100.0)],
        _ => &[(50.0, 40.0), (70.0, 68.0), (80.0, 85.0), (90.0, 93.0), (100.0, 100.0)],
    };
    interpolate(table, target)
}

/// The 4:2:0 JPEG quality from which the search also tries 4:4:4. On the corpus photos,
/// 4:4:4 won only where 4:2:0 needed about 10 quality steps more than the median for the
/// target (mvtb-flowers1 at 80: 4:2:0 q98 231 KB, 4:4:4 q80 126 KB); below that it lost
/// by 5-35%, so the extra encodes are spent only above this line.
fn chroma_suspect_quality(target: f64) -> u8 {
    interpolate(&[(50.0, 50.0), (70.0, 81.0), (80.0, 93.0), (90.0, 99.0), (100.0, 100.0)], target)
}

/// `target` looked up in `(target, quality)` pairs, linear between them.
fn interpolate(table: &[(f64, f64)], target: f64) -> u8 {
    let q = table
        .windows(2)
        .find(|w| target <= w[1].0)
        .map(|w| w[0].1 + (target - w[0].0).max(0.0) / (w[1].0 - w[0].0) * (w[1].1 - w[0].1))
        .unwrap_or(100.0);
    q.clamp(10.0, 100.0).round() as u8
}
