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

/// Incremental SSE parser: feed it the bytes as they arrive, in any split,
/// and it returns each complete event once.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    current: Frame,
    has_data: bool,
}

impl Parser {
    /// An empty parser.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Consumes `bytes` and answers the events they complete, in order.
    /// Comment lines and events without data are skipped, as browsers do.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                let frame = std::mem::take(&mut self.current);
                if std::mem::take(&mut self.has_data) {
                    frames.push(frame);
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
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
                "retry" => self.current.retry = value.parse().ok(),
                _ => {}
            }
        }
        frames
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
}
