//! The MP4 muxer read back by an independent parser (the `mp4` crate): sample count,
//! durations, key frames, dimensions and every sample's bytes; and by our box walker for the
//! layout (fast start) and the codec records.

use mediaslim::video::mp4::boxes::children;
use mediaslim::video::mp4::{MuxLimits, Sample, VideoCodec, VideoTrack, mux};

/// A plausible avcC: version 1, Baseline 3.0, 4-byte lengths, one SPS and one PPS.
fn avcc() -> Vec<u8> {
    let sps = [0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5];
    let pps = [0x68, 0xCE, 0x3C, 0x80];
    let mut r = vec![1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1];
    r.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    r.extend_from_slice(&sps);
    r.push(1);
    r.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    r.extend_from_slice(&pps);
    r
}

/// Frames of distinct sizes and contents, durations like a GIF's (varying), a key frame every 4.
fn frames() -> Vec<(u32, bool, Vec<u8>)> {
    (0..11u32).map(|i| (if i % 3 == 0 { 100 } else { 40 + i }, i % 4 == 0, (0..(50 + i * 37)).map(|b| (b * 7 + i) as u8).collect())).collect()
}

fn top_level(file: &[u8]) -> Vec<String> {
    children(file, 0, file.len()).unwrap().iter().map(|b| b.name()).collect()
}

#[test]
fn h264_track_reads_back_exactly_with_the_mp4_crate() {
    let frames = frames();
    let samples: Vec<Sample> = frames.iter().map(|(d, k, data)| Sample { duration: *d, keyframe: *k, data }).collect();
    let track = VideoTrack { codec: VideoCodec::Avc { avcc: avcc() }, width: 320, height: 240, timescale: 1000 };
    let file = mux(&track, &samples, &MuxLimits::default()).unwrap();
    assert_eq!(top_level(&file), ["ftyp", "moov", "mdat"], "fast start");

    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&file), file.len() as u64).unwrap();
    let total: u64 = frames.iter().map(|f| u64::from(f.0)).sum();
    assert_eq!(reader.timescale(), 1000);
    assert_eq!(reader.duration().as_millis() as u64, total);
    let t = reader.tracks().get(&1).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));
    assert_eq!(t.box_type().unwrap().to_string(), "avc1");
    assert_eq!(t.sequence_parameter_set().unwrap(), &avcc()[8..17]);
    assert_eq!(t.timescale(), 1000);
    assert_eq!(t.duration().as_millis() as u64, total);
    assert_eq!(reader.sample_count(1).unwrap(), frames.len() as u32);
    let mut start = 0u64;
    for (i, (duration, key, data)) in frames.iter().enumerate() {
        let s = reader.read_sample(1, i as u32 + 1).unwrap().unwrap();
        assert_eq!(s.bytes.as_ref(), data.as_slice(), "sample {i} bytes");
        assert_eq!(s.duration, *duration, "sample {i} duration");
        assert_eq!(s.start_time, start, "sample {i} start");
        assert_eq!(s.is_sync, *key, "sample {i} key frame");
        start += u64::from(*duration);
    }
}

#[test]
fn av1_track_has_an_av01_entry_with_its_av1c_and_exact_samples() {
    let frames = frames();
    let samples: Vec<Sample> = frames.iter().map(|(d, _, data)| Sample { duration: *d, keyframe: true, data }).collect();
    let av1c = vec![0x81, 0x04, 0x0C, 0x00, 0x0A, 0x0B, 0x00, 0x00, 0x00, 0x24];
    let track = VideoTrack { codec: VideoCodec::Av1 { av1c: av1c.clone() }, width: 100, height: 50, timescale: 90_000 };
    let file = mux(&track, &samples, &MuxLimits::default()).unwrap();
    assert_eq!(top_level(&file), ["ftyp", "moov", "mdat"]);
    assert!(file[8..32].windows(4).any(|w| w == b"av01"), "av01 brand in ftyp");
    let at = file.windows(4).position(|w| w == b"av1C").unwrap();
    assert_eq!(&file[at + 4..at + 4 + av1c.len()], av1c.as_slice());
    assert_eq!(u32::from_be_bytes(file[at - 4..at].try_into().unwrap()) as usize, av1c.len() + 8);

    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(&file), file.len() as u64).unwrap();
    let t = reader.tracks().get(&1).unwrap();
    assert_eq!((t.width(), t.height()), (100, 50), "tkhd size");
    assert_eq!(reader.sample_count(1).unwrap(), frames.len() as u32);
    for (i, (duration, _, data)) in frames.iter().enumerate() {
        let s = reader.read_sample(1, i as u32 + 1).unwrap().unwrap();
        assert_eq!((s.bytes.as_ref(), s.duration, s.is_sync), (data.as_slice(), *duration, true), "sample {i}");
    }
    // No stss when every sample is a key frame.
    assert!(!file.windows(4).any(|w| w == b"stss"));
}
