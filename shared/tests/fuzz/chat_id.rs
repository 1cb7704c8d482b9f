//! Chat ids (`/chat/*` routes of seed 000) and ticket references
//! (`GET /api/v1/app/tickets/search?q=`): strings straight from a request.

use edgechat_shared::api::tickets::TicketSearch;
use edgechat_shared::chat_id::{ChatId, MAX_CHAT_ID_CHARS};
use proptest::prelude::*;

use crate::run;

/// Strings near the forms: `customer:` prefixes, `|`, emails, session ids.
fn id() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(
        &[
            "customer:",
            ":",
            "|",
            "a@b.co",
            "Z@example.com",
            "ann@x.io",
            "abcdefghijklmnopqrstuvwx",
            "-",
            "_",
            "@",
            ".",
            " ",
            "\u{0}",
            "é",
            "\n",
        ][..],
    );
    prop_oneof![prop::collection::vec(piece, 0..8).prop_map(|p| p.concat()), "\\PC{0,240}", any::<String>()]
}

#[test]
fn chat_ids_parse_or_refuse_on_chat_id_and_round_trip() {
    run("chat_id_parse", id(), |id| {
        match ChatId::parse(&id) {
            Ok(parsed) => {
                prop_assert_eq!(parsed.to_string(), id.clone(), "Display writes the id back as parsed");
                prop_assert_eq!(ChatId::parse(&parsed.to_string()), Ok(parsed.clone()));
                prop_assert!(!id.chars().any(char::is_control));
                if let ChatId::External(external) = parsed {
                    prop_assert!((1..=MAX_CHAT_ID_CHARS).contains(&external.chars().count()));
                }
            }
            Err(error) => {
                prop_assert_eq!(error.field, "chat_id");
                prop_assert!(!error.message.is_empty());
            }
        }
        Ok(())
    });
}

#[test]
fn ticket_references_are_bounded_upper_case_letters_digits_and_dashes() {
    let q = prop_oneof!["(?i)(ec-)?[0-9]{0,40}", "\\PC{0,40}", any::<String>()];
    run("ticket_reference", q, |q| {
        if let Ok(reference) = (TicketSearch { q: q.clone() }).validate() {
            prop_assert!((1..=32).contains(&reference.chars().count()), "{:?}", reference);
            prop_assert!(reference.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'), "{:?}", reference);
            prop_assert_eq!(reference, q.trim().to_ascii_uppercase());
        }
        Ok(())
    });
}
