//! Handoff to a human (ARCHITECTURE.md, "AI responders"; issue 6): does a
//! visitor message ask for a person rather than an answer? English, French,
//! German and Spanish.
//!
//! A message asks for a person when
//! - a verb of talking ("talk", "speak", "parler", "sprechen", "hablar", …),
//!   or of passing the visitor on ("connect me", "passez-moi"), is within a
//!   few words of a person word ("human", "agent",
//!   "quelqu'un", "Mitarbeiter", "persona", …): "can I talk to a human?",
//!   "je voudrais parler à un conseiller";
//! - it holds a fixed phrase ("real person", "live agent", "vrai humain",
//!   "echten Menschen", "persona real", …);
//! - or it is a short request: person words and fillers only ("agent",
//!   "human please", "Mensch bitte", "un agente por favor").
//!
//! Questions that merely mention a person word ("how do I change my browser's
//! user agent?") are not requests.

/// Verbs of talking to someone (lower case, accents folded).
const CONTACT_VERBS: &[&str] = &[
    // English
    "talk",
    "speak",
    // French
    "parler",
    "discuter",
    "joindre",
    // German
    "sprechen",
    "reden",
    // Spanish
    "hablar",
    "conversar",
    "comunicarme",
    "pasame",
    "comunicame",
    "transfiereme",
    "conectame",
];

/// Verbs of passing the visitor on: they ask for a person only with the
/// visitor as object ("connect me", "passez-moi", "verbinden Sie mich"), so
/// "how do I transfer a conversation to another agent" is a question.
const PASS_ON_VERBS: &[&str] = &[
    "connect",
    "transfer",
    "put",
    "escalate",
    "passez",
    "mettez",
    "transferez",
    "verbinden",
    "weiterleiten",
    "verbindest",
    "leite",
    "leiten",
];

/// The visitor as object of a pass-on verb.
const ME: &[&str] = &["me", "moi", "mich", "mir"];

/// Words naming a person to talk to (lower case, accents folded).
const PERSON_WORDS: &[&str] = &[
    // English
    "human",
    "person",
    "someone",
    "somebody",
    "agent",
    "operator",
    "representative",
    "rep",
    "staff",
    // French
    "humain",
    "personne",
    "quelqu",
    "conseiller",
    "conseillere",
    "operateur",
    "operatrice",
    "agent",
    // German
    "mensch",
    "menschen",
    "jemandem",
    "jemand",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "beraterin",
    "person",
    // Spanish
    "humano",
    "persona",
    "alguien",
    "agente",
    "operador",
    "operadora",
    "asesor",
    "asesora",
];

/// Phrases that ask for a person wherever they stand (words, accents folded).
const PHRASES: &[&str] = &[
    "real person",
    "real human",
    "live person",
    "live agent",
    "human agent",
    "human being",
    "customer service",
    "vrai humain",
    "vraie personne",
    "service client",
    "etre humain",
    "echten menschen",
    "echte person",
    "echter mensch",
    "kundendienst",
    "kundenservice",
    "persona real",
    "ser humano",
    "servicio al cliente",
    "atencion al cliente",
];

/// Most words between a contact verb and the person word it asks for, on either side.
const VERB_REACH: usize = 4;

/// Words that may stand beside a person word in a short request
/// ("an agent please", "un agente por favor", "Mensch bitte").
const REQUEST_FILLERS: &[&str] = &[
    "a", "an", "the", "please", "pls", "plz", "now", "i", "want", "need", "hi", "hello", "real", "un", "une", "svp", "stp", "s", "il",
    "vous", "plait", "bonjour", "je", "veux", "vrai", "ein", "einen", "einem", "bitte", "jetzt", "hallo", "ich", "will", "una", "por",
    "favor", "ahora", "hola", "quiero",
];

/// `true` when `message` asks to talk to a person (see the module docs).
pub fn asks_for_person(message: &str) -> bool {
    let words = words(message);
    let joined = format!(" {} ", words.join(" "));
    if PHRASES.iter().any(|p| joined.contains(&format!(" {p} "))) {
        return true;
    }
    let is_person = |w: &String| PERSON_WORDS.contains(&w.as_str());
    // Either order: German puts the verb last ("mit einem Menschen sprechen").
    let near_person = |i: usize| words.iter().skip(i.saturating_sub(VERB_REACH + 1)).take(2 * VERB_REACH + 3).any(is_person);
    let passes_me_on = |i: usize| words.iter().skip(i + 1).take(2).any(|w| ME.contains(&w.as_str()));
    let verb_near_person = words
        .iter()
        .enumerate()
        .any(|(i, w)| (CONTACT_VERBS.contains(&w.as_str()) || (PASS_ON_VERBS.contains(&w.as_str()) && passes_me_on(i))) && near_person(i));
    let short_request = words.iter().any(is_person) && words.iter().all(|w| is_person(w) || REQUEST_FILLERS.contains(&w.as_str()));
    verb_near_person || short_request
}

/// Lower-cased words of `text` with accents folded; apostrophes split words
/// ("quelqu'un" → "quelqu", "un").
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(crate::retrieval::fold_diacritic).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_requests_for_a_person() {
        for m in [
            "Can I talk to a human?",
            "I want to speak with someone from your team",
            "agent",
            "Agent please!",
            "live agent",
            "Please connect me to an operator",
            "Can you transfer me to an agent?",
            "Is there a real person there?",
            "human",
        ] {
            assert!(asks_for_person(m), "{m}");
        }
    }

    #[test]
    fn french_german_spanish_requests_for_a_person() {
        for m in [
            "Je voudrais parler à un humain",
            "Puis-je parler à quelqu'un ?",
            "un conseiller svp",
            "Je veux un vrai humain",
            "Ich möchte mit einem Menschen sprechen",
            "Kann ich mit einem Mitarbeiter reden?",
            "Mensch bitte",
            "Bitte verbinden Sie mich mit einem Berater",
            "Passez-moi un conseiller",
            "Quiero hablar con un humano",
            "¿Puedo hablar con una persona real?",
            "un agente por favor",
            "Pásame con alguien",
        ] {
            assert!(asks_for_person(m), "{m}");
        }
    }

    #[test]
    fn questions_that_mention_a_person_word_are_not_requests() {
        for m in [
            "How do I change my browser's user agent?",
            "How do I install the widget on my website?",
            "How can I tag a person in a Facebook photo?",
            "Who can see the people I follow on Twitter?",
            "Comment installer le widget ?",
            "Wie ändere ich mein Passwort?",
            "¿Cómo cambio mi contraseña?",
            "",
            "How do I transfer a conversation to another agent?",
            "How do I chat with someone on Facebook?",
            "Can staff members chat with visitors?",
            "¿Cómo transferir mi cuenta a otra persona?",
            "Comment passer une commande pour quelqu'un d'autre ?",
        ] {
            assert!(!asks_for_person(m), "{m}");
        }
    }

    #[test]
    fn none_of_the_stackfaq_help_centre_questions_asks_for_a_person() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/stackfaq/queries-dev.jsonl");
        let text = std::fs::read_to_string(path).expect("the StackFAQ data beside the repository");
        let asking: Vec<&str> = text.lines().filter(|l| asks_for_person(l)).collect();
        assert!(asking.is_empty(), "{asking:#?}");
    }
}
