//! The texts the server writes to a visitor (issue 15), in English, French,
//! German, Spanish and Arabic: the knowledge-base "not sure" answer, the
//! offer of a person, the failure notice, the handoff-accepted notice and the
//! automatic reply of a token conversation.
//!
//! The language comes from the visitor's `lang` (BCP 47, seed 001): its
//! primary subtag picks the texts (`fr-CA` → French), anything else is
//! English. The widget's own texts are the widget's; the button named in
//! [`Texts::handoff_offer`] is the widget's "Talk to a person" button.

/// A language the server texts exist in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Spanish.
    Es,
    /// Arabic (written right to left).
    Ar,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Fr, Lang::De, Lang::Es, Lang::Ar];

    /// The language of a BCP 47 tag by its primary subtag, in any case
    /// (`fr`, `fr-CA`, `FR_ca` → French); `None` for another language.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Lang::ALL.into_iter().find(|lang| lang.code().eq_ignore_ascii_case(primary))
    }

    /// [`Lang::parse`] with English for an unknown or absent tag.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        tag.and_then(Lang::parse).unwrap_or_default()
    }

    /// The writing direction, the HTML `dir`: `rtl` for Arabic, else `ltr`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// The ISO 639-1 code: `en`, `fr`, `de`, `es`, `ar`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Es => "es",
            Lang::Ar => "ar",
        }
    }

    /// The language's English name, for a language model's prompt.
    pub fn english_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "French",
            Lang::De => "German",
            Lang::Es => "Spanish",
            Lang::Ar => "Arabic",
        }
    }

    /// The server texts in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
            Lang::De => &DE,
            Lang::Es => &ES,
            Lang::Ar => &AR,
        }
    }
}

/// The server texts of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Texts {
    /// The `kb` responder's answer when no passage is confident; a person is offered.
    pub not_sure: &'static str,
    /// The answer to a visitor who asks for a person (issue 6).
    pub handoff_offer: &'static str,
    /// The stream's last `error` event when the language model failed.
    pub failure: &'static str,
    /// The `message` of `POST /api/v1/chat/handoff`: a person will reply.
    pub handoff_accepted: &'static str,
    /// The `auto_reply` of `POST /api/v1/chat/conversations` (seed 004).
    pub auto_reply: &'static str,
}

/// English.
pub const EN: Texts = Texts {
    not_sure: "I'm not sure I know the answer to that. Would you like me to connect you with a person from our team?",
    handoff_offer: "Of course. Would you like me to connect you with a person from our team? Press \u{201c}Talk to a person\u{201d} and they will reply here.",
    failure: "Sorry, I can't answer right now. Would you like to talk to a person from our team?",
    handoff_accepted: "A person from our team will reply here as soon as possible.",
    auto_reply: "Thanks for reaching out! We'll get back to you soon.",
};

/// French (no-break spaces before `?` and `!`, guillemets, as French typography has them).
pub const FR: Texts = Texts {
    not_sure: "Je ne suis pas sûr de connaître la réponse. Voulez-vous que je vous mette en relation avec une personne de notre équipe\u{a0}?",
    handoff_offer: "Bien sûr. Voulez-vous que je vous mette en relation avec une personne de notre équipe\u{a0}? Appuyez sur «\u{a0}Parler à une personne\u{a0}» et elle vous répondra ici.",
    failure: "Désolé, je ne peux pas répondre pour le moment. Voulez-vous parler à une personne de notre équipe\u{a0}?",
    handoff_accepted: "Une personne de notre équipe vous répondra ici dès que possible.",
    auto_reply: "Merci de nous avoir contactés\u{a0}! Nous vous répondrons bientôt.",
};

/// German (formal address).
pub const DE: Texts = Texts {
    not_sure: "Ich bin mir nicht sicher, ob ich die Antwort darauf kenne. Möchten Sie, dass ich Sie mit einer Person aus unserem Team verbinde?",
    handoff_offer: "Gern. Möchten Sie, dass ich Sie mit einer Person aus unserem Team verbinde? Tippen Sie auf \u{201e}Mit einer Person sprechen\u{201c}, dann antwortet sie Ihnen hier.",
    failure: "Entschuldigung, ich kann gerade nicht antworten. Möchten Sie mit einer Person aus unserem Team sprechen?",
    handoff_accepted: "Eine Person aus unserem Team antwortet Ihnen hier so bald wie möglich.",
    auto_reply: "Danke für Ihre Nachricht! Wir melden uns bald bei Ihnen.",
};

/// Spanish (formal address).
pub const ES: Texts = Texts {
    not_sure: "No estoy seguro de saber la respuesta. ¿Quiere que le ponga en contacto con una persona de nuestro equipo?",
    handoff_offer: "Por supuesto. ¿Quiere que le ponga en contacto con una persona de nuestro equipo? Pulse «Hablar con una persona» y le responderá aquí.",
    failure: "Lo siento, ahora no puedo responder. ¿Quiere hablar con una persona de nuestro equipo?",
    handoff_accepted: "Una persona de nuestro equipo le responderá aquí lo antes posible.",
    auto_reply: "¡Gracias por escribirnos! Le responderemos pronto.",
};

/// Arabic (Modern Standard Arabic).
pub const AR: Texts = Texts {
    not_sure: "لست متأكدًا من أنني أعرف الإجابة عن ذلك. هل تريد أن أوصلك بأحد أعضاء فريقنا؟",
    handoff_offer: "بالتأكيد. هل تريد أن أوصلك بأحد أعضاء فريقنا؟ اضغط على «التحدث إلى شخص» وسيرد عليك هنا.",
    failure: "عذرًا، لا يمكنني الإجابة الآن. هل تريد التحدث إلى أحد أعضاء فريقنا؟",
    handoff_accepted: "سيرد عليك أحد أعضاء فريقنا هنا في أقرب وقت ممكن.",
    auto_reply: "شكرًا لتواصلك معنا! سنرد عليك قريبًا.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_subtag_picks_the_language_and_anything_else_is_english() {
        assert_eq!(Lang::from_tag(Some("fr")), Lang::Fr);
        assert_eq!(Lang::from_tag(Some("fr-CA")), Lang::Fr);
        assert_eq!(Lang::from_tag(Some("DE-at")), Lang::De);
        assert_eq!(Lang::from_tag(Some("es-419")), Lang::Es);
        assert_eq!(Lang::from_tag(Some("ar-EG")), Lang::Ar);
        for other in [Some("pt-BR"), Some("frr"), Some("x-fr"), Some(""), None] {
            assert_eq!(Lang::from_tag(other), Lang::En, "{other:?}");
        }
    }

    #[test]
    fn every_language_has_every_text_and_none_is_the_english_one() {
        for lang in Lang::ALL {
            let t = lang.texts();
            let all = [t.not_sure, t.handoff_offer, t.failure, t.handoff_accepted, t.auto_reply];
            assert!(all.iter().all(|text| !text.trim().is_empty()), "{lang:?}");
            if lang != Lang::En {
                let en = [EN.not_sure, EN.handoff_offer, EN.failure, EN.handoff_accepted, EN.auto_reply];
                assert!(all.iter().zip(en).all(|(text, en)| *text != en), "{lang:?} is translated");
            }
        }
    }
}
