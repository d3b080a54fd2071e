//! Fast-start remux on real MP4s: `moov` ends up before `mdat`, and every sample of every
//! track reads back identical with an independent parser (the `mp4` crate).

mod common;

use std::path::PathBuf;

use mediaslim::video::mp4::{boxes::children, fast_start};

fn corpus_videos() -> Vec<PathBuf> {
    let Some(dir) = common::corpus("video") else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "mp4")).collect();
    files.sort();
    files
}

/// Every sample's bytes, per track, read by the `mp4` crate.
fn samples(bytes: &[u8]) -> Vec<(u32, Vec<Vec<u8>>)> {
    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(bytes), bytes.len() as u64).unwrap();
    let mut ids: Vec<u32> = reader.tracks().keys().copied().collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let count = reader.sample_count(id).unwrap();
            let data = (1..=count).map(|n| reader.read_sample(id, n).unwrap().unwrap().bytes.to_vec()).collect();
            (id, data)
        })
        .collect()
}

#[test]
fn corpus_mp4s_become_fast_start_with_identical_samples() {
    let files = corpus_videos();
    if files.is_empty() {
        eprintln!("no ../shared/corpus/video here: covered by the unit tests in src/video");
        return;
    }
    for file in files {
        let input = common::read(&file);
        let out = fast_start(&input).unwrap();
        let top = children(&out.bytes, 0, out.bytes.len()).unwrap();
        let position = |kind: &[u8; 4]| top.iter().position(|b| &b.kind == kind);
        assert!(position(b"moov") < position(b"mdat"), "{}: moov first", file.display());
        let (before, after) = (samples(&input), samples(&out.bytes));
        assert!(!before.is_empty() && before.iter().all(|(_, s)| !s.is_empty()), "{}", file.display());
        assert_eq!(before, after, "{}: samples differ", file.display());
        assert!(out.bytes.len() <= input.len(), "{}: only padding may go", file.display());
        eprintln!(
            "{}: {} tracks, {} samples identical",
            file.display(),
            after.len(),
            after.iter().map(|(_, s)| s.len()).sum::<usize>()
        );
        // Already fast-start: returned as is.
        let again = fast_start(&out.bytes).unwrap();
        assert!(!again.changed && again.bytes == out.bytes);
    }
}

#[test]
fn truncated_and_wrong_inputs_fail_fast_with_corrupt_input() {
    for file in corpus_videos() {
        let input = common::read(&file);
        for cut in [20, input.len() / 2, input.len() - 1] {
            let e = fast_start(&input[..cut]).unwrap_err();
            assert_eq!(e.code(), "CORRUPT_INPUT", "{} cut at {cut}: {e}", file.display());
        }
    }
    let png = common::read(&common::fixtures().join("hopper.png"));
    assert_eq!(fast_start(&png).unwrap_err().code(), "CORRUPT_INPUT");
}
