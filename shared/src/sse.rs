//! Server-Sent Events framing (WHATWG HTML, "Server-sent events"): the one
//! encoder the worker uses and the one incremental parser the widget and the
//! tests use to read `POST /api/v1/chat/stream` and `GET /api/v1/chat/events`.

/// One SSE event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// `id:` field (EdgeChat sends the message `seq`), kept by the browser as `Last-Event-ID`.
    pub id: Option<String>,
    /// `event:` field; absent means the default `message` type.
    pub event: Option<String>,
    /// `data:` payload (JSON in EdgeChat). Newlines become several `data:` lines.
    pub data: String,
    /// `retry:` reconnection hint, in milliseconds.
    pub retry: Option<u32>,
}

impl Frame {
    /// A frame carrying only `data`.
    pub fn data(data: impl Into<String>) -> Frame {
        Frame { data: data.into(), ..Frame::default() }
    }

    /// The frame's bytes on the wire, ending with the blank line that dispatches it.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 16);
        if let Some(id) = &self.id {
            out.push_str("id: ");
            out.push_str(id);
            out.push('\n');
        }
        if let Some(event) = &self.event {
            out.push_str("event: ");
            out.push_str(event);
            out.push('\n');
        }
        if let Some(retry) = self.retry {
            out.push_str(&format!("retry: {retry}\n"));
        }
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        out
    }
}

/// A comment line (`: …`), ignored by clients: used as a heartbeat that keeps
/// idle connections open.
pub fn comment(text: &str) -> String {
    format!(": {text}\n\n")
}

/// A lone `retry:` field: tells the client how long to wait, in ms, before
/// reconnecting; dispatches no event.
pub fn retry(ms: u32) -> String {
    format!("retry: {ms}\n\n")
}

/// Largest SSE event [`Parser`] accepts, in bytes: the lengths of its
/// lines (`data:`, `id:`, `event:` and the rest) added up, line ends
/// excluded. 1 MiB: an EdgeChat event is at most a message of
/// [`crate::limits::MAX_MESSAGE_CHARS`] characters (40 KB of UTF-8) in JSON
/// with its metadata, and an upstream model's chunk is a few hundred bytes;
/// a bigger event is a broken or hostile server, and buffering it would let
/// that server take the reader's memory.
pub const MAX_SSE_EVENT_BYTES: usize = 1024 * 1024;

/// An event grew past [`MAX_SSE_EVENT_BYTES`] before its blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTooLarge;

impl std::fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an SSE event is larger than {MAX_SSE_EVENT_BYTES} bytes")
    }
}

impl std::error::Error for EventTooLarge {}

/// Incremental SSE parser: feed it the bytes as they arrive, in any split,
/// and it returns each complete event once.
///
/// Follows the WHATWG "event stream interpretation": a line ends with CRLF,
/// LF or a lone CR; a blank line dispatches the event; `:` lines are
/// comments; a leading byte-order mark is skipped. Each byte is looked at
/// once (time O(n) in the bytes pushed, whatever their split), and the
/// memory held is the current event, at most [`MAX_SSE_EVENT_BYTES`].
#[derive(Debug, Default)]
pub struct Parser {
    /// The bytes of the current, unfinished line (none kept while skipping).
    line: Vec<u8>,
    /// Length of the current line so far, kept or not.
    line_bytes: usize,
    current: Frame,
    has_data: bool,
    /// Bytes of the current event so far (its finished lines and `line`).
    event_bytes: usize,
    /// The last byte pushed was a CR: an LF right after it ends no line.
    after_cr: bool,
    /// How many bytes of a leading byte-order mark were skipped; 3 once
    /// the stream's start is past.
    bom: usize,
    /// The current event is over the cap: its lines are dropped up to its
    /// blank line.
    skipping: bool,
    /// `try_push` reported [`EventTooLarge`]: the stream is abandoned.
    failed: bool,
}

impl Parser {
    /// An empty parser.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Consumes `bytes` and answers the events they complete, in order.
    /// Comment lines and events without data are skipped, as browsers do.
    /// An event over [`MAX_SSE_EVENT_BYTES`] is dropped (use [`Parser::try_push`]
    /// to be told).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        self.feed(bytes, &mut |event| {
            if let Ok(frame) = event {
                frames.push(frame);
            }
        });
        frames
    }

    /// Like [`Parser::push`], but an event over [`MAX_SSE_EVENT_BYTES`] is
    /// an error: the stream is not to be trusted further, so this call and
    /// every later one answer `Err(EventTooLarge)` (events completed before
    /// it in the same call are dropped too).
    pub fn try_push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, EventTooLarge> {
        if self.failed {
            return Err(EventTooLarge);
        }
        let mut frames = Vec::new();
        let mut failed = false;
        self.feed(bytes, &mut |event| match event {
            Ok(frame) => frames.push(frame),
            Err(EventTooLarge) => failed = true,
        });
        self.failed = failed;
        if failed {
            *self = Parser { failed: true, ..Parser::default() };
            return Err(EventTooLarge);
        }
        Ok(frames)
    }

    /// Splits `bytes` into lines, each byte looked at once; `on` gets each
    /// dispatched event, and one `Err` per event over the cap.
    fn feed(&mut self, mut bytes: &[u8], on: &mut dyn FnMut(Result<Frame, EventTooLarge>)) {
        const BOM: &[u8] = "\u{feff}".as_bytes();
        while self.bom < BOM.len() && !bytes.is_empty() {
            if bytes[0] == BOM[self.bom] {
                self.bom += 1;
                bytes = &bytes[1..];
            } else {
                // Not a byte-order mark: what looked like one is text.
                let seen = &BOM[..self.bom];
                self.bom = BOM.len();
                self.lines(seen, on);
            }
        }
        self.lines(bytes, on);
    }

    fn lines(&mut self, mut bytes: &[u8], on: &mut dyn FnMut(Result<Frame, EventTooLarge>)) {
        while !bytes.is_empty() {
            if std::mem::take(&mut self.after_cr) && bytes[0] == b'\n' {
                bytes = &bytes[1..];
                continue;
            }
            let end = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
            let part = &bytes[..end.unwrap_or(bytes.len())];
            self.line_bytes += part.len();
            self.event_bytes = self.event_bytes.saturating_add(part.len());
            if !self.skipping && self.event_bytes > MAX_SSE_EVENT_BYTES {
                self.skipping = true;
                self.current = Frame::default();
                self.has_data = false;
                self.line = Vec::new();
                on(Err(EventTooLarge));
            }
            if !self.skipping {
                self.line.extend_from_slice(part);
            }
            let Some(end) = end else { return };
            self.after_cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            let blank = std::mem::take(&mut self.line_bytes) == 0;
            if self.skipping {
                // Only the blank line that ends the oversized event matters.
                if blank {
                    self.skipping = false;
                    self.event_bytes = 0;
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            if let Some(frame) = self.line_done(&line) {
                on(Ok(frame));
            }
            self.line = line;
            self.line.clear();
        }
    }

    /// Interprets one complete line; a blank line answers the event it ends.
    fn line_done(&mut self, line: &[u8]) -> Option<Frame> {
        if line.is_empty() {
            self.event_bytes = 0;
            let frame = std::mem::take(&mut self.current);
            return std::mem::take(&mut self.has_data).then_some(frame);
        }
        if line[0] == b':' {
            return None;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "id" => self.current.id = Some(value.to_string()),
            "event" => self.current.event = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => self.current.retry = value.parse().ok(),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_frames_parse_back_in_any_split() {
        let frames = vec![
            Frame { id: Some("7".into()), event: Some("message".into()), data: "{\"a\":1}".into(), retry: Some(3000) },
            Frame::data("line one\nline two"),
            Frame::data("héllo wörld"),
        ];
        let wire: String = frames.iter().map(Frame::encode).collect::<String>() + &comment("heartbeat");
        let bytes = wire.as_bytes();
        for split in 1..bytes.len() {
            let mut parser = Parser::new();
            let mut got = parser.push(&bytes[..split]);
            got.extend(parser.push(&bytes[split..]));
            assert_eq!(got, frames, "split at byte {split}");
        }
    }

    #[test]
    fn data_frame_is_a_data_line_and_a_blank_line() {
        assert_eq!(Frame::data("{\"type\":\"chunk\"}").encode(), "data: {\"type\":\"chunk\"}\n\n");
    }

    #[test]
    fn crlf_line_ends_and_comments_are_understood() {
        let mut parser = Parser::new();
        let got = parser.push(b": ping\r\n\r\ndata: x\r\n\r\n");
        assert_eq!(got, vec![Frame::data("x")]);
    }

    #[test]
    fn incomplete_event_waits_for_its_blank_line() {
        let mut parser = Parser::new();
        assert!(parser.push(b"data: partial\n").is_empty());
        assert_eq!(parser.push(b"\n"), vec![Frame::data("partial")]);
    }

    #[test]
    fn lone_cr_ends_a_line_and_crlf_split_between_pushes_is_one_line_end() {
        let mut parser = Parser::new();
        assert_eq!(parser.push(b"data: a\rdata: b\r\r"), vec![Frame::data("a\nb")]);
        let mut parser = Parser::new();
        assert!(parser.push(b"data: x\r").is_empty());
        assert!(parser.push(b"\n").is_empty(), "the LF completes the CRLF, it is no blank line");
        assert_eq!(parser.push(b"\r\n"), vec![Frame::data("x")]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_even_when_split() {
        let mut parser = Parser::new();
        let wire = "\u{feff}data: x\n\n".as_bytes();
        assert!(parser.push(&wire[..1]).is_empty());
        assert_eq!(parser.push(&wire[1..]), vec![Frame::data("x")]);
        // Only at the start: later it is part of the field name.
        assert!(parser.push("\u{feff}data: y\n\n".as_bytes()).is_empty());
    }

    #[test]
    fn an_event_over_the_cap_is_reported_by_try_push_and_dropped_by_push() {
        let big = format!("data: {}\n", "x".repeat(MAX_SSE_EVENT_BYTES));
        let mut parser = Parser::new();
        assert_eq!(parser.try_push(b"data: ok\n\n"), Ok(vec![Frame::data("ok")]));
        assert_eq!(parser.try_push(big.as_bytes()), Err(EventTooLarge));
        assert_eq!(parser.try_push(b"\ndata: later\n\n"), Err(EventTooLarge), "the stream stays refused");

        let mut parser = Parser::new();
        // Fed in small pieces the cap holds too, and the parser keeps no more than it.
        for piece in big.as_bytes().chunks(4096) {
            assert!(parser.push(piece).is_empty());
            assert!(parser.line.capacity() <= MAX_SSE_EVENT_BYTES + 4096);
        }
        assert_eq!(parser.push(b"\ndata: next\n\n"), vec![Frame::data("next")]);
    }

    #[test]
    fn an_event_just_under_the_cap_is_kept() {
        let data = "y".repeat(MAX_SSE_EVENT_BYTES - "data: ".len());
        let mut parser = Parser::new();
        assert_eq!(parser.try_push(format!("data: {data}\n\n").as_bytes()), Ok(vec![Frame::data(data)]));
    }

    #[test]
    fn retry_takes_only_digits() {
        let mut parser = Parser::new();
        assert_eq!(
            parser.push(b"retry: +5\ndata: a\n\nretry: 70\ndata: b\n\n")[..],
            [Frame::data("a"), Frame { retry: Some(70), ..Frame::data("b") }]
        );
    }
}
