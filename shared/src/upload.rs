//! Upload rules (seed 003, "Upload validation"): a fixed allow-list
//! checked by magic bytes — never by name or declared type — plus size and
//! count caps. A file whose name claims another type than its bytes (a
//! renamed or polyglot file) is refused.

/// Default size cap, in MiB (`MAX_FILE_MB`; seed 003's default is 20, issue 5 sets 10).
pub const DEFAULT_MAX_FILE_MB: u64 = 10;
/// Default cap of attachments per message (`MAX_FILES_PER_MSG`, seed 003).
pub const DEFAULT_MAX_FILES_PER_MSG: usize = 10;

/// Bytes an upload's multipart body may carry beyond the file itself
/// (boundaries, part headers, the file name, `site_key` and `session_id`):
/// 64 KiB. The body is read as a stream and refused (413) as soon as it
/// passes the file cap plus this, whatever its `Content-Length` or
/// `Transfer-Encoding`.
pub const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

/// The most bytes an upload's multipart body may have for a file cap of
/// `max_file_bytes`: the cap plus [`MULTIPART_OVERHEAD_BYTES`].
pub fn max_body_bytes(max_file_bytes: u64) -> u64 {
    max_file_bytes + MULTIPART_OVERHEAD_BYTES
}

/// An allowed file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Pdf,
    Mp4,
    Text,
}

impl FileKind {
    /// The `Content-Type` the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Bmp => "image/bmp",
            FileKind::Pdf => "application/pdf",
            FileKind::Mp4 => "video/mp4",
            FileKind::Text => "text/plain; charset=utf-8",
        }
    }

    /// `true` for the types `POST /api/v1/chat/upload-image` takes (JPEG, PNG, GIF, WEBP).
    pub fn is_chat_image(self) -> bool {
        matches!(self, FileKind::Jpeg | FileKind::Png | FileKind::Gif | FileKind::Webp)
    }

    /// The allowed kind a declared `Content-Type` names (its essence, any
    /// case, parameters such as `charset` ignored), or `None` when it is not
    /// on the allow-list. A declaration is only a claim: the bytes decide
    /// ([`sniff`]), and a file whose bytes are another kind is refused.
    pub fn from_content_type(content_type: &str) -> Option<FileKind> {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let kind = match essence.as_str() {
            "image/jpeg" | "image/jpg" => FileKind::Jpeg,
            "image/png" => FileKind::Png,
            "image/gif" => FileKind::Gif,
            "image/webp" => FileKind::Webp,
            "image/bmp" => FileKind::Bmp,
            "application/pdf" => FileKind::Pdf,
            "video/mp4" => FileKind::Mp4,
            "text/plain" => FileKind::Text,
            _ => return None,
        };
        Some(kind)
    }

    /// The kind a file name's extension claims, if it names one we know.
    fn from_extension(name: &str) -> Option<Option<FileKind>> {
        let (_, ext) = name.rsplit_once('.')?;
        let kind = match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" | "jfif" => Some(FileKind::Jpeg),
            "png" => Some(FileKind::Png),
            "gif" => Some(FileKind::Gif),
            "webp" => Some(FileKind::Webp),
            "bmp" => Some(FileKind::Bmp),
            "pdf" => Some(FileKind::Pdf),
            "mp4" | "m4v" => Some(FileKind::Mp4),
            "txt" | "text" | "log" | "csv" | "md" => Some(FileKind::Text),
            _ => None,
        };
        Some(kind)
    }
}

/// The allowed kind of `bytes` by their magic bytes (the `infer` crate's
/// matchers of the allow-list's types, in this order), or plain UTF-8 text
/// that is not markup; `None` for anything else.
///
/// Only the allow-list's matchers are asked, not `infer::get` over every
/// type it knows: that table (some 200 matchers and their MIME names) cost
/// the worker about 5 KiB of its gzip upload. Whatever bytes pass are served
/// as their kind's `Content-Type` with `nosniff`, so text that another
/// format would also claim (`#!`, `MZ`…) is only text here.
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    use infer::{archive, image, video};
    type Matcher = fn(&[u8]) -> bool;
    const MAGIC: [(Matcher, FileKind); 7] = [
        (image::is_jpeg, FileKind::Jpeg),
        (image::is_png, FileKind::Png),
        (image::is_gif, FileKind::Gif),
        (image::is_webp, FileKind::Webp),
        (image::is_bmp, FileKind::Bmp),
        (archive::is_pdf, FileKind::Pdf),
        (video::is_mp4, FileKind::Mp4),
    ];
    // Programs are no allowed kind, whatever else their bytes look like (a
    // PE's loader ignores the bytes the WEBP and MP4 matchers read).
    if infer::app::is_exe(bytes) || infer::app::is_elf(bytes) || infer::app::is_mach(bytes) || infer::app::is_wasm(bytes) {
        return None;
    }
    if let Some((_, kind)) = MAGIC.iter().find(|(is, _)| is(bytes)) {
        // `is_webp` reads only bytes 8 to 11: a WEBP is a RIFF container.
        return (*kind != FileKind::Webp || bytes.starts_with(b"RIFF")).then_some(*kind);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let plain = !text.is_empty()
        && !text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        && !text.trim_start().starts_with('<');
    plain.then_some(FileKind::Text)
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not an allowed type (or a name that claims another type): 415.
    Unsupported(String),
    /// Over the size cap: 413.
    TooLarge(u64),
}

/// Checks an upload: at most `max_bytes`, an allowed kind by its bytes,
/// within `allowed`, and a name whose known extension agrees with the bytes.
pub fn check(bytes: &[u8], name: &str, max_bytes: u64, allowed: impl Fn(FileKind) -> bool) -> Result<FileKind, Refusal> {
    if bytes.len() as u64 > max_bytes {
        return Err(Refusal::TooLarge(max_bytes));
    }
    let kind = sniff(bytes).filter(|k| allowed(*k)).ok_or_else(|| Refusal::Unsupported("This type of file is not accepted".into()))?;
    if let Some(claimed) = FileKind::from_extension(name) {
        if claimed != Some(kind) {
            return Err(Refusal::Unsupported(format!("The file's name does not match its contents ({})", kind.content_type())));
        }
    }
    Ok(kind)
}

/// The text an upload URL's signature covers: `"<upload id>:<expiry unix
/// seconds>"`, signed with the site's file-link key (derived from its
/// identity secret, never the secret itself: see the worker's `auth::signing`).
pub fn signed_payload(upload_id: i64, expires: i64) -> String {
    format!("{upload_id}:{expires}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!";
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n";
    const ANY: fn(FileKind) -> bool = |_| true;

    #[test]
    fn allowed_types_are_known_by_their_bytes() {
        assert_eq!(sniff(PNG), Some(FileKind::Png));
        assert_eq!(sniff(JPEG), Some(FileKind::Jpeg));
        assert_eq!(sniff(GIF), Some(FileKind::Gif));
        assert_eq!(sniff(PDF), Some(FileKind::Pdf));
        assert_eq!(sniff(b"Order #42 arrived damaged.\n"), Some(FileKind::Text));
        assert_eq!(sniff(b"\0\x01\x02binary"), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), None, "an executable is no allowed kind");
        let pe_as_webp = b"MZ\x90\0\x03\0\0\0WEBPVP8 \0\0\0\0";
        assert_eq!(sniff(pe_as_webp), None, "a PE whose bytes 8 to 11 spell WEBP");
        assert_eq!(sniff(b"\0\0\0\0\0\0\0\0WEBPVP8 \0\0"), None, "WEBP without RIFF");
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 \0\0"), Some(FileKind::Webp));
        let pe_as_mp4 = b"MZ\x90\0ftypisom\0\0\x02\0";
        assert_eq!(sniff(pe_as_mp4), None, "a PE whose bytes 4 to 11 spell an MP4 brand");
        assert_eq!(sniff(b"#!/bin/sh\necho hi\n"), Some(FileKind::Text), "only the allow-list's magic counts: a script is text");
        assert_eq!(sniff(b"  <svg onload=alert(1)>"), None, "markup is never text");
    }

    #[test]
    fn renamed_and_polyglot_files_are_refused() {
        let html = b"<!doctype html><script>alert(1)</script>";
        assert!(matches!(check(html, "cat.png", 1 << 20, ANY), Err(Refusal::Unsupported(_))));
        assert!(matches!(check(html, "page.txt", 1 << 20, ANY), Err(Refusal::Unsupported(_))), "markup is not plain text");
        assert!(matches!(check(b"alert(1);", "x.jpg", 1 << 20, ANY), Err(Refusal::Unsupported(_))));
        assert!(matches!(check(PNG, "photo.jpg", 1 << 20, ANY), Err(Refusal::Unsupported(_))), "a PNG named .jpg");
        assert_eq!(check(PNG, "photo.png", 1 << 20, ANY), Ok(FileKind::Png));
        assert_eq!(check(PNG, "photo", 1 << 20, ANY), Ok(FileKind::Png), "no extension: the bytes decide");
        assert!(matches!(check(PDF, "doc.pdf", 1 << 20, FileKind::is_chat_image), Err(Refusal::Unsupported(_))));
    }

    #[test]
    fn declared_types_name_allowed_kinds_only() {
        assert_eq!(FileKind::from_content_type("image/png"), Some(FileKind::Png));
        assert_eq!(FileKind::from_content_type("Image/PNG"), Some(FileKind::Png));
        assert_eq!(FileKind::from_content_type("text/plain; charset=utf-8"), Some(FileKind::Text));
        assert_eq!(FileKind::from_content_type("text/html"), None);
        assert_eq!(FileKind::from_content_type("image/svg+xml"), None);
        assert_eq!(FileKind::from_content_type(""), None);
    }

    #[test]
    fn size_cap_is_inclusive() {
        assert_eq!(check(PNG, "a.png", PNG.len() as u64, ANY), Ok(FileKind::Png));
        assert_eq!(check(PNG, "a.png", PNG.len() as u64 - 1, ANY), Err(Refusal::TooLarge(PNG.len() as u64 - 1)));
    }
}
