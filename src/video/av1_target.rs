//! GIF -> AV1 MP4 that meets a perceptual target: the rav1e quality is searched, and every
//! trial is a whole encode whose sampled frames are scored from rav1e's reconstruction (what
//! a decoder shows) against the composited GIF frames, so the reported score is the score of
//! the returned bytes. Encodes are capped; when none reaches the target (small, saturated
//! graphics lose to 4:2:0 chroma) the best-scoring one is returned with a note.

use super::av1::{Av1VideoOptions, Chroma, EncodedVideo, encode_pass};
use crate::error::Result;

/// Whole encodes per search, at most.
pub const MAX_ENCODES: u32 = 5;
/// Frames scored per encode, spread from the first to the last.
pub const SAMPLED_FRAMES: u32 = 6;
/// The search stops once the passing and failing qualities are this close.
const QUALITY_STEP: u8 = 3;
/// When no trial passes, the smallest within this many points of the best score is returned:
/// past the point where 4:2:0 caps the score, more quality only adds bytes.
const NEAR_BEST: f64 = 2.0;

/// The chosen encode and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetedVideo {
    pub video: EncodedVideo,
    /// The lowest SSIMULACRA2 score among the sampled frames.
    pub score: f64,
    /// The rav1e quality (1-100) of the chosen encode.
    pub quality: u8,
    pub encodes: u32,
    /// Frames that were scored.
    pub sampled: u32,
    pub notes: Vec<String>,
}

/// The first quality tried: what usually lands near `target` on GIF content (medium 70 ->
/// 60, high 80 -> 75, max 90 -> 90), so most searches end in 2-3 encodes.
fn first_guess(target: f64) -> u8 {
    (target * 1.5 - 45.0).round().clamp(30.0, 95.0) as u8
}

/// The smallest encode whose sampled frames all score >= `target`; else the best one.
pub fn gif_to_av1_targeted(
    input: &[u8],
    options: &Av1VideoOptions,
    target: f64,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<TargetedVideo> {
    let mut quality = first_guess(target);
    // `low` fails (taken as failing 20 below the guess, to bound the search), `high` passes
    // (100 while untested).
    let (mut low, mut high) = (quality.saturating_sub(20), 100u8);
    let mut passing: Option<TargetedVideo> = None;
    let mut failing: Vec<TargetedVideo> = Vec::new();
    let mut encodes = 0;
    while encodes < MAX_ENCODES {
        let trial_options = Av1VideoOptions { quality, target: None, ..options.clone() };
        let pass = encode_pass(input.to_vec(), &trial_options, SAMPLED_FRAMES, progress)?;
        encodes += 1;
        let score = pass.scores.iter().map(|(_, s)| *s).fold(f64::INFINITY, f64::min);
        let trial = TargetedVideo {
            video: pass.video,
            score: if score.is_finite() { score } else { f64::NAN },
            quality,
            encodes,
            sampled: pass.scores.len() as u32,
            notes: Vec::new(),
        };
        if trial.score >= target {
            high = quality;
            if passing.as_ref().is_none_or(|p| trial.video.bytes.len() < p.video.bytes.len()) {
                passing = Some(trial);
            }
        } else {
            low = quality;
            failing.push(trial);
        }
        // Converged, or quality 100 failed: nothing left to try.
        if high.saturating_sub(low) <= QUALITY_STEP && (passing.is_some() || low >= 100) {
            break;
        }
        if low >= 100 {
            break;
        }
        quality = low + (high - low).div_ceil(2);
    }
    let best_score = failing.iter().map(|t| t.score).filter(|s| !s.is_nan()).fold(f64::NEG_INFINITY, f64::max);
    let near_best =
        failing.into_iter().filter(|t| t.score >= best_score - NEAR_BEST).min_by_key(|t| t.video.bytes.len());
    let (mut chosen, reached) = match (passing, near_best) {
        (Some(p), _) => (p, true),
        (None, Some(b)) => (b, false),
        (None, None) => return Err(crate::error::Error::encode("av1", "no encode was made")),
    };
    chosen.encodes = encodes;
    if !reached {
        let hint = match options.chroma {
            Chroma::Cs420 => {
                "4:2:0 chroma blurs small, saturated graphics: chroma \"444\" (AV1 High profile) may reach it, or serve the GIF"
            }
            Chroma::Cs444 => "a bigger size or the GIF may serve better",
        };
        chosen.notes.push(format!(
            "no AV1 setting tried reached SSIMULACRA2 {target} on the sampled frames (best {best_score:.1}; returned: {:.1} at quality {}, the smallest within {NEAR_BEST} points of it; {encodes} encodes): {hint}",
            chosen.score, chosen.quality
        ));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::av1::sample_indices;

    #[test]
    fn samples_spread_from_first_to_last_frame() {
        assert_eq!(sample_indices(1, 6), vec![0]);
        assert_eq!(sample_indices(5, 6), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_indices(100, 6), vec![0, 20, 40, 59, 79, 99]);
        assert_eq!(sample_indices(10, 0), Vec::<u32>::new());
        assert_eq!((first_guess(70.0), first_guess(80.0), first_guess(90.0)), (60, 75, 90));
    }
}
