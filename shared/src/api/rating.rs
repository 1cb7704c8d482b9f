//! CSAT (seed 001, seed 003): the widget's `POST /api/v1/chat/rate` and
//! `POST /api/v1/chat/rate/comment`, a signed-in user's
//! `POST /api/v1/app/csat`, and the operators' report `GET /v1/ratings`.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Body of `POST /api/v1/chat/rate` (seed 001): a CSAT score of the
/// visitor's conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// 1 (very unhappy) to 5 (very happy).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub score: i64,
}

/// Answer of `POST /api/v1/chat/rate`: one rating per conversation; a
/// second answers `{"success":true,"id":null,"duplicate":true}` and changes
/// nothing (seed 003's CSAT rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateResponse {
    /// Always `true`.
    pub success: bool,
    /// The rating's id; `null` for a duplicate.
    pub id: Option<i64>,
    /// `true` when the conversation was already rated.
    pub duplicate: bool,
}

/// Body of `POST /api/v1/chat/rate/comment` (seed 001): a comment on the rating.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateCommentRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// 1 to 2,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub comment: String,
}

/// Largest accepted rating comment, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 2_000;

/// Body of `POST /api/v1/app/csat` (seed 003, "CSAT & complaints"): a
/// signed-in user's rating of one of their conversations or tickets. Seed
/// 003's camelCase names (`ticketId`, `conversationId`) are accepted too.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatRequest {
    /// 1 (very unhappy) to 5 (very happy).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub stars: i64,
    /// Optional, at most [`MAX_RATING_COMMENT_CHARS`] characters; blank is none.
    #[serde(default)]
    pub comment: Option<String>,
    /// The user's ticket to rate (exactly one of `ticket_id`, `conversation_id`).
    #[serde(default, alias = "ticketId")]
    pub ticket_id: Option<i64>,
    /// The user's conversation to rate (exactly one of `ticket_id`, `conversation_id`).
    #[serde(default, alias = "conversationId")]
    pub conversation_id: Option<i64>,
}

/// What a [`CsatRequest`] rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsatTarget {
    /// A conversation (`ratings`, one per conversation, shared with the widget's rating).
    Conversation(i64),
    /// A ticket (`ticket_ratings`, one per ticket and user).
    Ticket(i64),
}

impl CsatRequest {
    /// Checks the request; answers what it rates and the trimmed comment
    /// (`None` when absent or blank).
    ///
    /// Exactly one of `ticket_id` and `conversation_id`: seed 003 makes a
    /// rating idempotent per (user, ticket), so a rating names the one thing
    /// it is about; with neither there is nothing to dedupe on or to show
    /// operators, and with both it would be unclear whether the ticket or
    /// the chat it came from was rated (a ticket outlives its chat).
    ///
    /// Errors (422): `stars` outside 1 to 5; neither or both ids; a comment
    /// over [`MAX_RATING_COMMENT_CHARS`] characters.
    pub fn validate(&self) -> Result<(CsatTarget, Option<String>), FieldError> {
        if !(1..=5).contains(&self.stars) {
            return Err(FieldError::new("stars", "stars must be 1 to 5"));
        }
        let target = match (self.conversation_id, self.ticket_id) {
            (Some(id), None) => CsatTarget::Conversation(id),
            (None, Some(id)) => CsatTarget::Ticket(id),
            _ => return Err(FieldError::new("ticket_id", "give exactly one of ticket_id and conversation_id")),
        };
        let comment = self.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > MAX_RATING_COMMENT_CHARS) {
            return Err(FieldError::new("comment", format!("comment must be at most {MAX_RATING_COMMENT_CHARS} characters")));
        }
        Ok((target, comment.map(str::to_string)))
    }
}

/// Answer of `POST /api/v1/app/csat`: 201 `{"id": 7, "duplicate": false}`
/// the first time, 200 `{"id": null, "duplicate": true}` for a second
/// rating of the same conversation or ticket by the same user (seed 003;
/// the first rating stays).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatResponse {
    /// The rating's id; `null` for a duplicate.
    pub id: Option<i64>,
    /// `true` when this was rated already.
    pub duplicate: bool,
}

/// Query of `GET /v1/ratings`: the period is whole UTC days, both ends
/// included (`from=2026-12-01&to=2026-12-31` is December).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct RatingsQuery {
    /// Only this site's ratings.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// First day, `YYYY-MM-DD` (UTC); absent: from the first rating.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC); absent: up to now.
    #[serde(default)]
    pub to: Option<String>,
}

/// A period of [`RatingsQuery`] as `created_at` bounds: `[from, until)`,
/// RFC 3339 UTC strings as stored (`2026-12-01T00:00:00.000Z`), comparable as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Period {
    /// Included lower bound.
    pub from: Option<String>,
    /// Excluded upper bound (the day after `to`).
    pub until: Option<String>,
}

impl RatingsQuery {
    /// The period's bounds.
    ///
    /// Errors (422): a day that is not a real `YYYY-MM-DD` date; `from` after `to`.
    pub fn period(&self) -> Result<Period, FieldError> {
        fn day(field: &'static str, value: Option<&str>) -> Result<Option<time::Date>, FieldError> {
            value
                .map(|v| {
                    crate::validate::calendar_day(v.trim())
                        .ok_or_else(|| FieldError::new(field, format!("{field} must be a date YYYY-MM-DD")))
                })
                .transpose()
        }
        let from = day("from", self.from.as_deref())?;
        let to = day("to", self.to.as_deref())?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(FieldError::new("from", "from must not be after to"));
            }
        }
        let stamp = |d: time::Date| crate::validate::stored_time(d.midnight().assume_utc());
        Ok(Period { from: from.and_then(stamp), until: to.and_then(|d| d.next_day()).and_then(stamp) })
    }
}

/// Answer of `GET /v1/ratings`: the account's CSAT in the period, widget and
/// app conversation ratings and ticket ratings together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingsReport {
    /// How many ratings.
    pub count: u32,
    /// Mean stars, 1.0 to 5.0; `null` without ratings.
    pub average: Option<f64>,
    /// How many ratings gave 1, 2, 3, 4 and 5 stars (index 0 is 1 star).
    pub distribution: Vec<u32>,
    /// The newest ratings with a comment, newest first (at most [`MAX_REPORT_COMMENTS`]).
    pub comments: Vec<RatingComment>,
}

/// Most comments in a [`RatingsReport`].
pub const MAX_REPORT_COMMENTS: u32 = 50;

/// One rating with a comment, with what it rated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RatingComment {
    /// 1 to 5.
    pub stars: i64,
    /// The comment.
    pub comment: String,
    /// When it was rated, RFC 3339 UTC.
    pub created_at: String,
    /// The site of what was rated.
    pub site_id: Option<i64>,
    /// The rated conversation (`/v1/chat/conversations/{id}`); for a ticket, its linked chat if any.
    pub conversation_id: Option<i64>,
    /// The rated ticket (`/v1/tickets/{id}`); `null` for a conversation rating.
    pub ticket_id: Option<i64>,
    /// The rated ticket's reference, e.g. `EC-1042`.
    pub ticket_reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csat(json: &str) -> CsatRequest {
        serde_json::from_str(json).expect("a CSAT body")
    }

    #[test]
    fn a_rating_names_exactly_one_conversation_or_ticket_in_either_spelling() {
        let (target, comment) = csat(r#"{"stars": 5, "conversationId": 7, "comment": "  great  "}"#).validate().unwrap();
        assert_eq!((target, comment.as_deref()), (CsatTarget::Conversation(7), Some("great")));
        assert_eq!(csat(r#"{"stars": 1, "ticket_id": 3, "comment": " "}"#).validate().unwrap(), (CsatTarget::Ticket(3), None));
        assert_eq!(csat(r#"{"stars": 4}"#).validate().unwrap_err().field, "ticket_id");
        assert_eq!(csat(r#"{"stars": 4, "ticketId": 1, "conversation_id": 2}"#).validate().unwrap_err().field, "ticket_id");
    }

    #[test]
    fn stars_are_one_to_five_and_comments_are_capped() {
        for stars in [0, 6, -1] {
            assert_eq!(CsatRequest { stars, ticket_id: Some(1), ..Default::default() }.validate().unwrap_err().field, "stars");
        }
        let long = "x".repeat(MAX_RATING_COMMENT_CHARS + 1);
        let request = CsatRequest { stars: 3, ticket_id: Some(1), comment: Some(long), ..Default::default() };
        assert_eq!(request.validate().unwrap_err().field, "comment");
    }

    #[test]
    fn a_period_is_whole_utc_days_with_both_ends_included() {
        let query = RatingsQuery { from: Some("2026-02-01".into()), to: Some("2026-02-28".into()), ..Default::default() };
        let period = query.period().unwrap();
        assert_eq!(period.from.as_deref(), Some("2026-02-01T00:00:00.000Z"));
        assert_eq!(period.until.as_deref(), Some("2026-03-01T00:00:00.000Z"));
        assert_eq!(RatingsQuery::default().period().unwrap(), Period::default());
        for (from, to, field) in
            [("2026-02-30", "2026-03-01", "from"), ("yesterday", "2026-03-01", "from"), ("2026-03-02", "2026-03-01", "from")]
        {
            let query = RatingsQuery { from: Some(from.into()), to: Some(to.into()), ..Default::default() };
            assert_eq!(query.period().unwrap_err().field, field, "{from}..{to}");
        }
    }
}
