//! The widget's own texts in English, French, German, Spanish and Arabic.
//!
//! One [`Text`] key per string and one exhaustive `match` per locale in
//! [`t`]: the compiler checks that every locale has every key. There is no
//! runtime map and no `format!`: a parameterised text carries a `{name}`
//! placeholder that [`fill`] replaces (`str::replace`).
//!
//! Why not `leptos_i18n` or Fluent: they bring ICU data, `leptos-use` and
//! `leptos_meta`, and they manage the document's `<html lang>` and a cookie;
//! an embedded widget must not touch its host page, and they would not fit
//! the 100 KB size budget (ARCHITECTURE.md).
//!
//! The locale is, in this order (issue 15): `EdgeChat('setLocale', code)`
//! ([`set_locale`]), the script tag's `data-locale`, the browser's
//! `navigator.languages`; a tag matches by its primary subtag (`fr-CA` is
//! French), anything else is English. It is one signal, provided to the
//! panels as context ([`provide`]), so a `setLocale` re-renders every text.

use reactive_graph::owner::{provide_context, use_context};
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;

/// A language of the widget: the server texts' languages (`shared::texts`),
/// so the widget and the server always speak the same five.
pub use edgechat_shared::texts::Lang as Locale;

thread_local! {
    /// The widget's locale, shared by every redraw of the panel.
    static LOCALE: RwSignal<Locale> = RwSignal::new(Locale::default());
}

/// The locale to start with: `asked` (the loader's `host.locale`:
/// `EdgeChat('setLocale', code)`'s code, else the script tag's
/// `data-locale`, else `navigator.language`) when it names a language of the
/// widget, else the first of the browser's `navigator.languages` that does,
/// else English.
pub fn initial(asked: Option<String>) -> Locale {
    let browser = || {
        let languages = web_sys::window()?.navigator().languages();
        languages.iter().filter_map(|l| l.as_string()).find_map(|l| Locale::parse(&l))
    };
    asked.as_deref().and_then(Locale::parse).or_else(browser).unwrap_or_default()
}

/// Sets the widget's locale (at mount, from [`initial`]).
pub fn start(locale: Locale) {
    LOCALE.with(|signal| signal.set(locale));
}

/// `EdgeChat('setLocale', code)`: switches every text at once; a code the
/// widget has no language for changes nothing.
pub fn set_locale(code: &str) {
    if let Some(locale) = Locale::parse(code) {
        start(locale);
    }
}

/// The locale signal as context of a panel.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub RwSignal<Locale>);

/// Provides the widget's locale to the panel being built and answers it.
pub fn provide() -> RwSignal<Locale> {
    let signal = LOCALE.with(|signal| *signal);
    provide_context(Lang(signal));
    signal
}

/// The panel's locale signal (its context, else the widget's).
pub fn locale() -> RwSignal<Locale> {
    use_context::<Lang>().map(|lang| lang.0).unwrap_or_else(|| LOCALE.with(|signal| *signal))
}

/// The text `key` in the panel's current locale, as a reactive closure for
/// `view!` children and attributes.
pub fn text(key: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let locale = locale();
    move || t(locale.get(), key)
}

/// The text `key` in the current locale, read once (for notices and errors
/// that keep the words they were written in).
pub fn now(key: Text) -> &'static str {
    t(locale().get_untracked(), key)
}

/// `text` with its `{placeholder}` replaced by `value`.
pub fn fill(text: &str, placeholder: &str, value: &str) -> String {
    text.replace(placeholder, value)
}

/// `value` (a name or an address someone typed) between FIRST STRONG
/// ISOLATE (U+2068) and POP DIRECTIONAL ISOLATE (U+2069), for [`fill`]ing
/// into a sentence: Unicode's plain-text `<bdi>` (UAX #9, "Explicit
/// Directional Isolates"), so a bidi override in it (U+202E) cannot reorder
/// the words around it, and a right-to-left name keeps its place.
pub fn isolate(value: &str) -> String {
    ["\u{2068}", value, "\u{2069}"].concat()
}

/// The shown label of a ticket status (`submitted`, `in_progress`,
/// `waiting_on_customer`, `resolved`, `closed`); `None` for another.
#[cfg(feature = "app")]
pub fn ticket_status(status: &str) -> Option<Text> {
    match status {
        "submitted" => Some(Text::Submitted),
        "in_progress" => Some(Text::InProgress),
        "waiting_on_customer" => Some(Text::WaitingOnCustomer),
        "resolved" => Some(Text::Resolved),
        "closed" => Some(Text::Closed),
        _ => None,
    }
}

/// Every text the widget writes itself. Server texts (answers, the
/// server's errors) come in the `lang` sent with each message. The texts of
/// the signed-in users' requests are unused in the anonymous build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "app"), allow(dead_code))]
pub enum Text {
    /// The chat panel's accessible name.
    Chat,
    /// The message list's accessible name.
    Messages,
    CloseChat,
    EndChat,
    Placeholder,
    Message,
    Send,
    AttachImage,
    ImageToSend,
    RemoveImage,
    TalkToPerson,
    Blocked,
    ConversationClosed,
    /// An operator's name when the event has none.
    Support,
    /// `{name}`: the operator's name.
    Joined,
    PersonWillReply,
    AssistantAgain,
    AskEmailNoAnswer,
    AskEmail,
    /// `{email}`: the address the visitor left.
    ContactSaved,
    NoUpload,
    NoSession,
    /// `{name}`: the operator's name.
    IsTyping,
    Typing,
    Edited,
    Seen,
    Email,
    NameOptional,
    Name,
    PhoneOptional,
    Phone,
    Save,
    ChooseStars,
    ThanksFeedback,
    HowWasIt,
    HowDidWeDo,
    Rating,
    /// `{n}`: 1 to 5.
    StarsOfFive,
    TellUsMore,
    Comment,
    SendRating,
    EmailCopy,
    Sending,
    Sent,
    YourRequests,
    BackToRequests,
    SigningIn,
    Conversation,
    Open,
    Closed,
    Snoozed,
    NewRequest,
    NoRequests,
    UnreadMessages,
    PickTopic,
    Topic,
    ChooseTopic,
    SubTopic,
    ChooseOne,
    DescribeRequest,
    Start,
    Submitted,
    InProgress,
    WaitingOnCustomer,
    Resolved,
}

/// The text `key` in `locale`.
pub fn t(locale: Locale, key: Text) -> &'static str {
    match locale {
        Locale::En => en(key),
        Locale::Fr => fr(key),
        Locale::De => de(key),
        Locale::Es => es(key),
        Locale::Ar => ar(key),
    }
}

fn en(key: Text) -> &'static str {
    use Text::*;
    match key {
        Chat => "Chat",
        Messages => "Messages",
        CloseChat => "Close chat",
        EndChat => "End chat",
        Placeholder => "Type your message…",
        Message => "Message",
        Send => "Send",
        AttachImage => "Attach an image",
        ImageToSend => "Image to send",
        RemoveImage => "Remove the image",
        TalkToPerson => "Talk to a person",
        Blocked => "You can no longer send messages in this chat.",
        ConversationClosed => "This conversation was closed",
        Support => "Support",
        Joined => "{name} joined the conversation",
        PersonWillReply => "A person from our team will reply here as soon as possible.",
        AssistantAgain => "You are chatting with our assistant again",
        AskEmailNoAnswer => "No one can answer that right away. Leave your email and a person will get back to you.",
        AskEmail => "Leave your email so we can follow up if needed.",
        ContactSaved => "Thanks! We will reply to {email} if we miss you here.",
        NoUpload => "This browser cannot upload files",
        NoSession => "This browser cannot start a chat session",
        IsTyping => "{name} is typing…",
        Typing => "Typing",
        Edited => "edited",
        Seen => "Seen",
        Email => "Email",
        NameOptional => "Name (optional)",
        Name => "Name",
        PhoneOptional => "Phone, e.g. +14155550123 (optional)",
        Phone => "Phone",
        Save => "Save",
        ChooseStars => "Choose 1 to 5 stars",
        ThanksFeedback => "Thanks for your feedback!",
        HowWasIt => "How was this conversation?",
        HowDidWeDo => "How did we do?",
        Rating => "Rating",
        StarsOfFive => "{n} of 5 stars",
        TellUsMore => "Tell us more (optional)",
        Comment => "Comment",
        SendRating => "Send rating",
        EmailCopy => "Email me a copy",
        Sending => "Sending…",
        Sent => "Sent",
        YourRequests => "Your requests",
        BackToRequests => "Back to your requests",
        SigningIn => "Signing in…",
        Conversation => "Conversation",
        Open => "Open",
        Closed => "Closed",
        Snoozed => "Snoozed",
        NewRequest => "New request",
        NoRequests => "No requests yet.",
        UnreadMessages => "unread messages",
        PickTopic => "Pick a topic or write a message",
        Topic => "Topic",
        ChooseTopic => "Choose a topic",
        SubTopic => "Sub-topic",
        ChooseOne => "Choose one (optional)",
        DescribeRequest => "Describe your request (optional with a topic)",
        Start => "Start",
        Submitted => "Submitted",
        InProgress => "In progress",
        WaitingOnCustomer => "Waiting on customer",
        Resolved => "Resolved",
    }
}

fn fr(key: Text) -> &'static str {
    use Text::*;
    match key {
        Chat => "Discussion",
        Messages => "Messages",
        CloseChat => "Fermer la discussion",
        EndChat => "Terminer",
        Placeholder => "Écrivez votre message…",
        Message => "Message",
        Send => "Envoyer",
        AttachImage => "Joindre une image",
        ImageToSend => "Image à envoyer",
        RemoveImage => "Retirer l’image",
        TalkToPerson => "Parler à une personne",
        Blocked => "Vous ne pouvez plus envoyer de messages dans cette discussion.",
        ConversationClosed => "Cette conversation a été fermée",
        Support => "Le support",
        Joined => "{name} a rejoint la conversation",
        PersonWillReply => "Une personne de notre équipe vous répondra ici dès que possible.",
        AssistantAgain => "Vous discutez de nouveau avec notre assistant",
        AskEmailNoAnswer => "Personne ne peut répondre tout de suite. Laissez votre e-mail et quelqu’un vous recontactera.",
        AskEmail => "Laissez votre e-mail pour que nous puissions vous recontacter si besoin.",
        ContactSaved => "Merci ! Nous répondrons à {email} si nous vous manquons ici.",
        NoUpload => "Ce navigateur ne peut pas envoyer de fichiers",
        NoSession => "Ce navigateur ne peut pas démarrer de discussion",
        IsTyping => "{name} écrit…",
        Typing => "En train d’écrire",
        Edited => "modifié",
        Seen => "Vu",
        Email => "E-mail",
        NameOptional => "Nom (facultatif)",
        Name => "Nom",
        PhoneOptional => "Téléphone, ex. +14155550123 (facultatif)",
        Phone => "Téléphone",
        Save => "Enregistrer",
        ChooseStars => "Choisissez de 1 à 5 étoiles",
        ThanksFeedback => "Merci pour votre avis !",
        HowWasIt => "Comment s’est passée cette conversation ?",
        HowDidWeDo => "Comment nous en sommes-nous sortis ?",
        Rating => "Note",
        StarsOfFive => "{n} étoiles sur 5",
        TellUsMore => "Dites-nous en plus (facultatif)",
        Comment => "Commentaire",
        SendRating => "Envoyer la note",
        EmailCopy => "M’envoyer une copie par e-mail",
        Sending => "Envoi…",
        Sent => "Envoyé",
        YourRequests => "Vos demandes",
        BackToRequests => "Retour à vos demandes",
        SigningIn => "Connexion…",
        Conversation => "Conversation",
        Open => "Ouverte",
        Closed => "Fermée",
        Snoozed => "En pause",
        NewRequest => "Nouvelle demande",
        NoRequests => "Aucune demande pour l’instant.",
        UnreadMessages => "messages non lus",
        PickTopic => "Choisissez un sujet ou écrivez un message",
        Topic => "Sujet",
        ChooseTopic => "Choisissez un sujet",
        SubTopic => "Sous-sujet",
        ChooseOne => "Choisissez (facultatif)",
        DescribeRequest => "Décrivez votre demande (facultatif avec un sujet)",
        Start => "Commencer",
        Submitted => "Envoyée",
        InProgress => "En cours",
        WaitingOnCustomer => "En attente de votre réponse",
        Resolved => "Résolue",
    }
}

fn de(key: Text) -> &'static str {
    use Text::*;
    match key {
        Chat => "Chat",
        Messages => "Nachrichten",
        CloseChat => "Chat schließen",
        EndChat => "Chat beenden",
        Placeholder => "Nachricht eingeben…",
        Message => "Nachricht",
        Send => "Senden",
        AttachImage => "Bild anhängen",
        ImageToSend => "Zu sendendes Bild",
        RemoveImage => "Bild entfernen",
        TalkToPerson => "Mit einer Person sprechen",
        Blocked => "Sie können in diesem Chat keine Nachrichten mehr senden.",
        ConversationClosed => "Diese Unterhaltung wurde beendet",
        Support => "Support",
        Joined => "{name} ist der Unterhaltung beigetreten",
        PersonWillReply => "Jemand aus unserem Team antwortet hier so bald wie möglich.",
        AssistantAgain => "Sie chatten wieder mit unserem Assistenten",
        AskEmailNoAnswer => {
            "Darauf kann gerade niemand antworten. Hinterlassen Sie Ihre E-Mail-Adresse, dann meldet sich jemand bei Ihnen."
        }
        AskEmail => "Hinterlassen Sie Ihre E-Mail-Adresse, damit wir uns bei Bedarf melden können.",
        ContactSaved => "Danke! Wir antworten an {email}, falls wir Sie hier verpassen.",
        NoUpload => "Dieser Browser kann keine Dateien hochladen",
        NoSession => "Dieser Browser kann keinen Chat starten",
        IsTyping => "{name} schreibt…",
        Typing => "Schreibt",
        Edited => "bearbeitet",
        Seen => "Gesehen",
        Email => "E-Mail",
        NameOptional => "Name (optional)",
        Name => "Name",
        PhoneOptional => "Telefon, z. B. +14155550123 (optional)",
        Phone => "Telefon",
        Save => "Speichern",
        ChooseStars => "Wählen Sie 1 bis 5 Sterne",
        ThanksFeedback => "Danke für Ihr Feedback!",
        HowWasIt => "Wie war diese Unterhaltung?",
        HowDidWeDo => "Wie zufrieden sind Sie?",
        Rating => "Bewertung",
        StarsOfFive => "{n} von 5 Sternen",
        TellUsMore => "Erzählen Sie uns mehr (optional)",
        Comment => "Kommentar",
        SendRating => "Bewertung senden",
        EmailCopy => "Kopie per E-Mail senden",
        Sending => "Wird gesendet…",
        Sent => "Gesendet",
        YourRequests => "Ihre Anfragen",
        BackToRequests => "Zurück zu Ihren Anfragen",
        SigningIn => "Anmeldung…",
        Conversation => "Unterhaltung",
        Open => "Offen",
        Closed => "Geschlossen",
        Snoozed => "Zurückgestellt",
        NewRequest => "Neue Anfrage",
        NoRequests => "Noch keine Anfragen.",
        UnreadMessages => "ungelesene Nachrichten",
        PickTopic => "Wählen Sie ein Thema oder schreiben Sie eine Nachricht",
        Topic => "Thema",
        ChooseTopic => "Thema wählen",
        SubTopic => "Unterthema",
        ChooseOne => "Auswählen (optional)",
        DescribeRequest => "Beschreiben Sie Ihr Anliegen (optional mit Thema)",
        Start => "Starten",
        Submitted => "Eingereicht",
        InProgress => "In Bearbeitung",
        WaitingOnCustomer => "Wartet auf Ihre Antwort",
        Resolved => "Gelöst",
    }
}

fn es(key: Text) -> &'static str {
    use Text::*;
    match key {
        Chat => "Chat",
        Messages => "Mensajes",
        CloseChat => "Cerrar el chat",
        EndChat => "Finalizar chat",
        Placeholder => "Escribe tu mensaje…",
        Message => "Mensaje",
        Send => "Enviar",
        AttachImage => "Adjuntar una imagen",
        ImageToSend => "Imagen para enviar",
        RemoveImage => "Quitar la imagen",
        TalkToPerson => "Hablar con una persona",
        Blocked => "Ya no puedes enviar mensajes en este chat.",
        ConversationClosed => "Esta conversación se ha cerrado",
        Support => "Soporte",
        Joined => "{name} se unió a la conversación",
        PersonWillReply => "Una persona de nuestro equipo responderá aquí lo antes posible.",
        AssistantAgain => "Vuelves a hablar con nuestro asistente",
        AskEmailNoAnswer => "Nadie puede responder a eso ahora mismo. Deja tu correo y una persona te contestará.",
        AskEmail => "Deja tu correo para que podamos contactarte si hace falta.",
        ContactSaved => "¡Gracias! Responderemos a {email} si no te encontramos aquí.",
        NoUpload => "Este navegador no puede subir archivos",
        NoSession => "Este navegador no puede iniciar un chat",
        IsTyping => "{name} está escribiendo…",
        Typing => "Escribiendo",
        Edited => "editado",
        Seen => "Visto",
        Email => "Correo electrónico",
        NameOptional => "Nombre (opcional)",
        Name => "Nombre",
        PhoneOptional => "Teléfono, p. ej. +14155550123 (opcional)",
        Phone => "Teléfono",
        Save => "Guardar",
        ChooseStars => "Elige de 1 a 5 estrellas",
        ThanksFeedback => "¡Gracias por tu opinión!",
        HowWasIt => "¿Qué tal fue esta conversación?",
        HowDidWeDo => "¿Qué tal lo hicimos?",
        Rating => "Valoración",
        StarsOfFive => "{n} de 5 estrellas",
        TellUsMore => "Cuéntanos más (opcional)",
        Comment => "Comentario",
        SendRating => "Enviar valoración",
        EmailCopy => "Enviarme una copia por correo",
        Sending => "Enviando…",
        Sent => "Enviado",
        YourRequests => "Tus solicitudes",
        BackToRequests => "Volver a tus solicitudes",
        SigningIn => "Iniciando sesión…",
        Conversation => "Conversación",
        Open => "Abierta",
        Closed => "Cerrada",
        Snoozed => "Pospuesta",
        NewRequest => "Nueva solicitud",
        NoRequests => "Aún no hay solicitudes.",
        UnreadMessages => "mensajes no leídos",
        PickTopic => "Elige un tema o escribe un mensaje",
        Topic => "Tema",
        ChooseTopic => "Elige un tema",
        SubTopic => "Subtema",
        ChooseOne => "Elige uno (opcional)",
        DescribeRequest => "Describe tu solicitud (opcional con un tema)",
        Start => "Empezar",
        Submitted => "Enviada",
        InProgress => "En curso",
        WaitingOnCustomer => "Esperando tu respuesta",
        Resolved => "Resuelta",
    }
}

fn ar(key: Text) -> &'static str {
    use Text::*;
    match key {
        Chat => "الدردشة",
        Messages => "الرسائل",
        CloseChat => "إغلاق الدردشة",
        EndChat => "إنهاء الدردشة",
        Placeholder => "اكتب رسالتك…",
        Message => "رسالة",
        Send => "إرسال",
        AttachImage => "إرفاق صورة",
        ImageToSend => "الصورة المراد إرسالها",
        RemoveImage => "إزالة الصورة",
        TalkToPerson => "التحدث إلى شخص",
        Blocked => "لم يعد بإمكانك إرسال رسائل في هذه الدردشة.",
        ConversationClosed => "تم إغلاق هذه المحادثة",
        Support => "الدعم",
        Joined => "انضم {name} إلى المحادثة",
        PersonWillReply => "سيرد عليك أحد أعضاء فريقنا هنا في أقرب وقت ممكن.",
        AssistantAgain => "أنت تتحدث مع مساعدنا مرة أخرى",
        AskEmailNoAnswer => "لا يمكن لأحد الإجابة عن ذلك الآن. اترك بريدك الإلكتروني وسيتواصل معك أحد أعضاء الفريق.",
        AskEmail => "اترك بريدك الإلكتروني لنتمكن من المتابعة معك عند الحاجة.",
        ContactSaved => "شكرًا! سنرد على {email} إذا لم نجدك هنا.",
        NoUpload => "لا يمكن لهذا المتصفح رفع الملفات",
        NoSession => "لا يمكن لهذا المتصفح بدء محادثة",
        IsTyping => "{name} يكتب…",
        Typing => "يكتب",
        Edited => "معدّلة",
        Seen => "تمت القراءة",
        Email => "البريد الإلكتروني",
        NameOptional => "الاسم (اختياري)",
        Name => "الاسم",
        PhoneOptional => "الهاتف، مثل ‎+14155550123 (اختياري)",
        Phone => "الهاتف",
        Save => "حفظ",
        ChooseStars => "اختر من 1 إلى 5 نجوم",
        ThanksFeedback => "شكرًا على ملاحظاتك!",
        HowWasIt => "كيف كانت هذه المحادثة؟",
        HowDidWeDo => "ما تقييمك لخدمتنا؟",
        Rating => "التقييم",
        StarsOfFive => "{n} من 5 نجوم",
        TellUsMore => "أخبرنا بالمزيد (اختياري)",
        Comment => "تعليق",
        SendRating => "إرسال التقييم",
        EmailCopy => "أرسل لي نسخة بالبريد الإلكتروني",
        Sending => "جارٍ الإرسال…",
        Sent => "تم الإرسال",
        YourRequests => "طلباتك",
        BackToRequests => "العودة إلى طلباتك",
        SigningIn => "جارٍ تسجيل الدخول…",
        Conversation => "محادثة",
        Open => "مفتوحة",
        Closed => "مغلقة",
        Snoozed => "مؤجلة",
        NewRequest => "طلب جديد",
        NoRequests => "لا توجد طلبات بعد.",
        UnreadMessages => "رسائل غير مقروءة",
        PickTopic => "اختر موضوعًا أو اكتب رسالة",
        Topic => "الموضوع",
        ChooseTopic => "اختر موضوعًا",
        SubTopic => "الموضوع الفرعي",
        ChooseOne => "اختر واحدًا (اختياري)",
        DescribeRequest => "صف طلبك (اختياري مع موضوع)",
        Start => "ابدأ",
        Submitted => "مُرسل",
        InProgress => "قيد المعالجة",
        WaitingOnCustomer => "بانتظار ردك",
        Resolved => "تم الحل",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_matches_by_its_primary_subtag_in_any_case() {
        assert_eq!(Locale::parse("fr-CA"), Some(Locale::Fr));
        assert_eq!(Locale::parse("DE_at"), Some(Locale::De));
        assert_eq!(Locale::parse("ar"), Some(Locale::Ar));
        assert_eq!(Locale::parse("pt-BR"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn only_arabic_is_right_to_left() {
        assert_eq!(Locale::Ar.dir(), "rtl");
        assert_eq!(Locale::Es.dir(), "ltr");
    }

    #[test]
    fn every_placeholder_is_kept_in_every_locale() {
        for locale in [Locale::En, Locale::Fr, Locale::De, Locale::Es, Locale::Ar] {
            for (key, placeholder) in
                [(Text::Joined, "{name}"), (Text::IsTyping, "{name}"), (Text::ContactSaved, "{email}"), (Text::StarsOfFive, "{n}")]
            {
                assert!(t(locale, key).contains(placeholder), "{locale:?} {key:?}");
            }
        }
        assert_eq!(fill(t(Locale::Fr, Text::IsTyping), "{name}", "Ann"), "Ann écrit…");
        assert_eq!(
            fill(t(Locale::En, Text::IsTyping), "{name}", &isolate("Eve \u{202E}gpj.exe")),
            "\u{2068}Eve \u{202E}gpj.exe\u{2069} is typing…"
        );
    }
}
