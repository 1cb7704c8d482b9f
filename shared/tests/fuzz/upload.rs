//! Upload checks (`POST /api/v1/chat/upload-image`, `/upload-file`, the
//! console's media): magic-byte sniffing and the name/size/kind check. The
//! multipart body itself is parsed by the runtime's `FormData` (workerd),
//! not by our code; its cap is `upload::max_body_bytes`.

use edgechat_shared::upload::{check, sniff, FileKind, Refusal};
use proptest::prelude::*;

use crate::run;

/// The magic bytes of each kind, and of kinds we refuse.
const MAGIC: &[&[u8]] = &[
    b"\xFF\xD8\xFF",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBP",
    b"BM",
    b"%PDF-",
    b"\0\0\0\x18ftypmp42",
    b"<svg ",
    b"<html>",
    b"  <script>",
    b"MZ",
    b"PK\x03\x04",
    b"\x7fELF",
    b"\xEF\xBB\xBF",
];

fn file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        (prop::sample::select(MAGIC), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(magic, tail)| [magic, &tail[..]].concat()),
        "\\PC{0,200}".prop_map(String::into_bytes),
    ]
}

fn name() -> impl Strategy<Value = String> {
    let ext = prop::sample::select(&["", ".png", ".PNG", ".jpg", ".txt", ".svg", ".html", ".pdf.exe", ".exe.png", ".", ".mp4", ".csv"][..]);
    ("\\PC{0,20}", ext).prop_map(|(stem, ext)| stem + ext)
}

#[test]
fn sniffing_any_bytes_never_calls_markup_text() {
    run("upload_sniff", file(), |bytes| {
        if sniff(&bytes) == Some(FileKind::Text) {
            let text = std::str::from_utf8(&bytes);
            prop_assert!(text.is_ok());
            prop_assert!(!text.unwrap_or_default().trim_start().starts_with('<'), "markup taken as text: {:?}", bytes);
        }
        Ok(())
    });
}

#[test]
fn checks_keep_the_size_cap_the_allowed_kinds_and_the_names_word() {
    let input = (file(), name(), 0u64..400, any::<bool>());
    run("upload_check", input, |(bytes, name, max, images_only)| {
        let allowed = |kind: FileKind| !images_only || kind.is_chat_image();
        match check(&bytes, &name, max, allowed) {
            Ok(kind) => {
                prop_assert!(bytes.len() as u64 <= max);
                prop_assert_eq!(Some(kind), sniff(&bytes));
                prop_assert!(allowed(kind));
            }
            Err(Refusal::TooLarge(cap)) => {
                prop_assert_eq!(cap, max);
                prop_assert!(bytes.len() as u64 > max);
            }
            Err(Refusal::Unsupported(message)) => prop_assert!(!message.is_empty()),
        }
        Ok(())
    });
}
