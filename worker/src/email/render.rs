//! A conversation's transcript as an email: plain text and HTML, every
//! piece of user text escaped in the HTML (`html-escape`, the HTML Living
//! Standard's text and attribute escapes). Pure: unit-tested natively.

use html_escape::{encode_double_quoted_attribute, encode_text};

/// One message of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// ISO 8601 UTC, as stored (`2026-12-02T10:00:00.000Z`).
    pub created_at: String,
    /// The visitor's name, the operator's name, or "AI".
    pub author: String,
    pub content: String,
    /// Attachments: file name and absolute URL.
    pub files: Vec<(String, String)>,
}

/// What a transcript is made of.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// The site's name ("Your conversation with {site name}").
    pub site_name: String,
    /// The newest messages, oldest first.
    pub lines: Vec<Line>,
    /// Earlier messages left out by the cap.
    pub omitted: usize,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `2026-12-02T10:00:00.000Z` → `2026-12-02 10:00 UTC` (anything else as is).
fn when(created_at: &str) -> String {
    match (created_at.get(..10), created_at.get(11..16)) {
        (Some(day), Some(time)) if created_at.as_bytes().get(10) == Some(&b'T') => format!("{day} {time} UTC"),
        _ => created_at.to_string(),
    }
}

impl Transcript {
    /// The email: subject "Your conversation with {site name}", the text
    /// part verbatim, the HTML part escaped.
    pub fn render(&self) -> Rendered {
        let subject = format!("Your conversation with {}", self.site_name.replace(['\r', '\n'], " "));
        let omitted = (self.omitted > 0)
            .then(|| format!("{} earlier messages are not included; this transcript holds the newest {}.", self.omitted, self.lines.len()));
        let mut text = format!("{subject}\n\n");
        let mut html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><h1 style=\"font-size:18px\">{}</h1>",
            encode_text(&subject)
        );
        if let Some(note) = &omitted {
            text.push_str(&format!("({note})\n\n"));
            html.push_str(&format!("<p><em>{}</em></p>", encode_text(note)));
        }
        for line in &self.lines {
            let when = when(&line.created_at);
            text.push_str(&format!("[{when}] {}:\n{}\n", line.author, line.content));
            html.push_str(&format!(
                "<div style=\"margin:12px 0\"><div style=\"color:#666;font-size:12px\">{} &middot; <strong>{}</strong></div>\
                 <div style=\"white-space:pre-wrap\">{}</div>",
                encode_text(&when),
                encode_text(&line.author),
                encode_text(&line.content)
            ));
            for (name, url) in &line.files {
                text.push_str(&format!("Attachment: {name} <{url}>\n"));
                html.push_str(&format!(
                    "<div>Attachment: <a href=\"{}\">{}</a></div>",
                    encode_double_quoted_attribute(url),
                    encode_text(name)
                ));
            }
            text.push('\n');
            html.push_str("</div>");
        }
        if self.lines.is_empty() {
            text.push_str("(no messages)\n");
            html.push_str("<p>(no messages)</p>");
        }
        html.push_str("</body></html>");
        Rendered { subject, text, html }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(author: &str, content: &str) -> Line {
        Line { created_at: "2026-12-02T10:04:05.123Z".into(), author: author.into(), content: content.into(), files: Vec::new() }
    }

    #[test]
    fn every_message_is_in_both_parts_with_its_time_and_author() {
        let transcript = Transcript {
            site_name: "Acme".into(),
            lines: vec![line("Jane", "Hello"), line("Bob (operator)", "Hi Jane"), line("AI", "Try restarting")],
            omitted: 0,
        };
        let email = transcript.render();
        assert_eq!(email.subject, "Your conversation with Acme");
        for (author, content) in [("Jane", "Hello"), ("Bob (operator)", "Hi Jane"), ("AI", "Try restarting")] {
            assert!(email.text.contains(&format!("[2026-12-02 10:04 UTC] {author}:\n{content}\n")), "{}", email.text);
            assert!(email.html.contains(&format!("<strong>{}</strong>", encode_text(author))));
            assert!(email.html.contains(content));
        }
        assert!(!email.text.contains("not included"));
    }

    #[test]
    fn markup_is_escaped_in_html_and_verbatim_in_text() {
        let mut evil = line("<b>Mallory</b>", "<script>alert('x')</script> & \"quotes\"");
        evil.files.push(("<img src=x>.png".into(), "https://chat.example.com/f?a=1&t=\"x\"".into()));
        let transcript = Transcript { site_name: "<Acme & Co>".into(), lines: vec![evil], omitted: 0 };
        let email = transcript.render();
        assert!(!email.html.contains("<script>"));
        assert!(!email.html.contains("<b>Mallory"));
        assert!(!email.html.contains("<img"));
        assert!(email.html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; \"quotes\""));
        assert!(email.html.contains("href=\"https://chat.example.com/f?a=1&amp;t=&quot;x&quot;\""));
        assert!(email.text.contains("<script>alert('x')</script> & \"quotes\""));
        assert!(email.text.contains("Attachment: <img src=x>.png <https://chat.example.com/f?a=1&t=\"x\">"));
        assert_eq!(email.subject, "Your conversation with <Acme & Co>");
        assert!(email.html.contains("Your conversation with &lt;Acme &amp; Co&gt;"));
    }

    #[test]
    fn a_capped_transcript_says_how_many_messages_it_left_out() {
        let transcript = Transcript { site_name: "Acme".into(), lines: vec![line("Jane", "last")], omitted: 1500 };
        let email = transcript.render();
        assert!(email.text.contains("1500 earlier messages are not included; this transcript holds the newest 1."));
        assert!(email.html.contains("1500 earlier messages are not included"));
    }

    #[test]
    fn a_subject_cannot_carry_a_header_break() {
        let transcript = Transcript { site_name: "Acme\r\nBcc: x@example.com".into(), lines: Vec::new(), omitted: 0 };
        assert_eq!(transcript.render().subject, "Your conversation with Acme  Bcc: x@example.com");
    }
}
