//! `sse::Parser`: the widget's and the worker's reader of event streams
//! from the network (`POST /api/v1/chat/stream`, a model's completion).

use edgechat_shared::sse::{EventTooLarge, Frame, Parser, MAX_SSE_EVENT_BYTES};
use proptest::prelude::*;

use crate::timing::assert_linear;
use crate::{run, run_with};

/// Pushes `wire` in pieces cut at `cuts` (positions, any order, any value).
fn push_split(parser: &mut Parser, wire: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    let mut frames = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([wire.len()]) {
        frames.extend(parser.push(&wire[from..cut]));
        from = cut;
    }
    frames
}

/// A frame as servers send them: data without CR (the encoder splits only
/// on LF), id and event on one line.
fn frame() -> impl Strategy<Value = Frame> {
    let line = "[^\r\n]{0,12}";
    (proptest::option::of(line), proptest::option::of("[a-z]{1,8}"), "[^\r]{0,40}", proptest::option::of(any::<u32>()))
        .prop_map(|(id, event, data, retry)| Frame { id, event, data, retry })
}

/// The wire form of `frames` with every line end written as `ends[n % 3]`
/// (LF, CRLF or CR: all three end a line), and comments between them.
fn wire(frames: &[Frame], ends: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    for frame in frames {
        let text = format!(": comment\n{}", frame.encode());
        for line in text.split_terminator('\n') {
            out.extend_from_slice(line.as_bytes());
            let end: &[u8] = match ends.get(n % ends.len().max(1)).copied().unwrap_or(0) % 3 {
                // After a CR, a blank line ended by LF would read as one CRLF.
                0 if line.is_empty() && out.ends_with(b"\r") => b"\r",
                0 => b"\n",
                1 => b"\r\n",
                _ => b"\r",
            };
            out.extend_from_slice(end);
            n += 1;
        }
    }
    out
}

#[test]
fn encoded_frames_parse_back_whatever_the_split_and_line_ends() {
    let input =
        (prop::collection::vec(frame(), 0..6), prop::collection::vec(any::<u8>(), 1..8), prop::collection::vec(any::<usize>(), 0..12));
    run("sse_encoded_frames_parse_back", input, |(frames, ends, cuts)| {
        let bytes = wire(&frames, &ends);
        let got = push_split(&mut Parser::new(), &bytes, &cuts);
        prop_assert_eq!(got, frames);
        Ok(())
    });
}

#[test]
fn any_bytes_in_any_split_parse_as_in_one_piece_without_panic() {
    // Bytes biased towards the characters that mean something to the parser.
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"\r\n:data: id event retry \xef\xbb\xbf".to_vec())];
    let input = (prop::collection::vec(byte, 0..400), prop::collection::vec(any::<usize>(), 0..20));
    run("sse_any_bytes_any_split", input, |(bytes, cuts)| {
        let whole = Parser::new().push(&bytes);
        let split = push_split(&mut Parser::new(), &bytes, &cuts);
        prop_assert_eq!(&split, &whole);
        let mut parser = Parser::new();
        prop_assert_eq!(parser.try_push(&bytes), Ok(whole));
        Ok(())
    });
}

#[test]
fn events_over_the_cap_are_refused_and_the_stream_goes_on_after_them() {
    // A first event of (cap + extra) bytes, fed in chunks of `chunk` bytes.
    let input = (0usize..3, 64usize..65_536, prop_oneof![Just(0usize), 1usize..=4096]);
    run_with("sse_event_cap", 24, input, |(field, chunk, extra)| {
        let name = ["data", "id", "x-unknown"][field];
        let over = format!("{name}:{}\n\ndata: after\n\n", "a".repeat(MAX_SSE_EVENT_BYTES - name.len() - 1 + extra));
        let mut parser = Parser::new();
        let mut frames = Vec::new();
        let mut refused = false;
        for piece in over.as_bytes().chunks(chunk) {
            match parser.try_push(piece) {
                Ok(got) => frames.extend(got),
                Err(EventTooLarge) => refused = true,
            }
        }
        // The line is cap + extra bytes long: over the cap whenever extra > 0.
        if extra > 0 {
            prop_assert!(refused);
            prop_assert!(frames.is_empty(), "nothing after a refused event");
            let lenient = Parser::new().push(over.as_bytes());
            prop_assert_eq!(lenient, vec![Frame::data("after")]);
        } else {
            prop_assert!(!refused);
        }
        Ok(())
    });
}

/// Time O(n): the bytes of one event are looked at once, however they are
/// split (the parser that lost this rescanned its buffer on every push).
#[test]
fn parsing_is_linear_in_the_bytes_however_they_arrive() {
    let chunked = |chunk: usize| {
        move |wire: &str| {
            let mut parser = Parser::new();
            for piece in wire.as_bytes().chunks(chunk) {
                std::hint::black_box(parser.push(piece));
            }
        }
    };
    // One long line in small reads.
    let long_line = |n: usize| format!("data: {}\n\n", "x".repeat(n));
    assert_linear("one long line in 16-byte reads", 256_000, long_line, chunked(16));
    // Many short lines in one read.
    let many_lines = |n: usize| "data: x\n".repeat(n / 8) + "\n";
    assert_linear("many lines in one read", 256_000, many_lines, chunked(usize::MAX));
    // Lone CRs, one per read.
    let crs = |n: usize| "data: y\r".repeat(n / 8) + "\r";
    assert_linear("lone CR line ends", 256_000, crs, chunked(7));
}

/// Regression: a CRLF split between two reads is one line end, not a CR
/// line end and then a blank line that dispatches the event early.
#[test]
fn crlf_split_across_reads_does_not_dispatch_early() {
    let mut parser = Parser::new();
    assert!(parser.push(b"data: a\r").is_empty());
    assert!(parser.push(b"\ndata: b\r\n").is_empty());
    assert_eq!(parser.push(b"\r\n"), vec![Frame::data("a\nb")]);
}
