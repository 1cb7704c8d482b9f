//! Length caps of the lists in request bodies (issue 16: "every list a
//! length cap").
//!
//! Each list field of a request type is read with
//! `#[serde(deserialize_with = "at_most::<N>")]` (or [`at_most_or_none`] for
//! an `Option<Vec<_>>`), and documents the same `N` as `maxItems` with
//! `#[schema(max_items = N)]`. The cap holds while the list is read: the
//! `N + 1`th item fails the deserialization before it is stored, so a
//! million-item list costs at most `N` items of memory.
//!
//! The failure is a serde custom error whose message starts with
//! [`TOO_MANY_ITEMS`]; the worker's JSON reader recognises it
//! ([`too_many_items`]), finds the list's JSON path ([`over_cap_path`]) and
//! answers 422 `too_many_items` naming the field.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde::Deserialize;

/// Prefix of the serde error message of an over-long list:
/// `too_many_items: at most N items`.
pub const TOO_MANY_ITEMS: &str = "too_many_items";

/// Reads a JSON array of at most `N` items; the `N + 1`th item is an error
/// (`too_many_items: at most N items`), raised before it is kept.
pub fn at_most<'de, const N: usize, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_seq(Capped::<T, N>(PhantomData))
}

/// [`at_most`] for an optional list: `null` (or a missing field, with
/// `#[serde(default)]`) is `None`.
pub fn at_most_or_none<'de, const N: usize, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    /// A list read by [`at_most`], for `Option`'s own deserialization.
    struct List<T, const N: usize>(Vec<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for List<T, N> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            at_most::<N, D, T>(deserializer).map(List)
        }
    }
    Ok(Option::<List<T, N>>::deserialize(deserializer)?.map(|list| list.0))
}

/// The cap `N` of a serde error message raised by [`at_most`], or `None`
/// for any other error.
pub fn too_many_items(message: &str) -> Option<usize> {
    let rest = message.strip_prefix(TOO_MANY_ITEMS)?.strip_prefix(": at most ")?;
    rest.split(' ').next()?.parse().ok()
}

/// How many lists [`over_cap_path`] tries before it gives up.
pub const MAX_PATH_TRIES: usize = 16;

thread_local! {
    /// The capped lists a read has entered so far ([`over_cap_path`] sets it
    /// to zero before each read): the ordinal in an over-cap message, so
    /// that two lists over the same cap refuse a body with different texts.
    static ENTERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The JSON path of the list that made `read` refuse `body` with
/// [`too_many_items`] `max`, written as `serde_path_to_error` writes it
/// (`request_reasons[0].subs`).
///
/// Only the error path pays for it (the typed read itself tracks no path):
/// `read(value)` answers the message of reading `value` (`None` when it
/// reads). The lists of `body` longer than `max` are the candidates,
/// children before their parents (serde reads an item, and the lists in
/// it, before it counts the item against its list's cap); the culprit is
/// the first whose truncation to `max` items changes how `body` reads.
/// Truncating any other list changes nothing: a list within its own cap
/// stays within it, a list not read (an unknown field, or after the
/// culprit) is not read, and each over-cap message names its list's
/// ordinal among the capped lists entered, so another list over the same
/// cap fails with another text. (One case could still mislead it: a list
/// within a larger cap, read before the culprit, whose items past `max`
/// hold capped lists: truncating it shifts the culprit's ordinal. No
/// request type nests lists that way.) At most [`MAX_PATH_TRIES`] candidates are tried, each truncated
/// in place and restored (no copy of the body); `.` when none is the one.
pub fn over_cap_path(body: &mut serde_json::Value, max: usize, read: impl Fn(&serde_json::Value) -> Option<String>) -> String {
    let fresh = |value: &serde_json::Value| {
        ENTERED.with(|entered| entered.set(0));
        read(value)
    };
    let mut candidates = Vec::new();
    long_lists(body, max, &mut Vec::new(), &mut candidates);
    let refused = fresh(body);
    for segments in candidates {
        let at = pointer(&segments);
        let Some(serde_json::Value::Array(items)) = body.pointer_mut(&at) else { continue };
        let rest = items.split_off(max);
        let changed = fresh(body) != refused;
        if let Some(serde_json::Value::Array(items)) = body.pointer_mut(&at) {
            items.extend(rest);
        }
        if changed {
            return display(&segments);
        }
    }
    ".".to_string()
}

/// One step of a JSON path: an object's key or an array's index.
#[derive(Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

/// Appends to `found`, in post-order (children first), the path of each
/// array under `value` with more than `max` items, the first
/// [`MAX_PATH_TRIES`] of them.
fn long_lists(value: &serde_json::Value, max: usize, at: &mut Vec<Segment>, found: &mut Vec<Vec<Segment>>) {
    if found.len() == MAX_PATH_TRIES {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                at.push(Segment::Key(key.clone()));
                long_lists(child, max, at, found);
                at.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                at.push(Segment::Index(index));
                long_lists(child, max, at, found);
                at.pop();
            }
            if items.len() > max && found.len() < MAX_PATH_TRIES {
                found.push(at.clone());
            }
        }
        _ => {}
    }
}

/// The JSON Pointer (RFC 6901) of `segments`.
fn pointer(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// `a.b[0].c`: keys joined by dots, indices in brackets.
fn display(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The serde visitor of [`at_most`]: a sequence of at most `N` `T`s.
struct Capped<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Capped<T, N> {
    type Value = Vec<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "a list of at most {N} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // This list's ordinal among the capped lists of the read, counted
        // as it is entered (lists inside its items come after it).
        let ordinal = ENTERED.with(|entered| {
            entered.set(entered.get() + 1);
            entered.get()
        });
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
        while let Some(item) = seq.next_element()? {
            if items.len() == N {
                return Err(A::Error::custom(format!("{TOO_MANY_ITEMS}: at most {N} items (list {ordinal})")));
            }
            items.push(item);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "at_most::<3, _, _>")]
        ids: Vec<i64>,
        #[serde(default, deserialize_with = "at_most_or_none::<2, _, _>")]
        names: Option<Vec<String>>,
    }

    fn read(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn lists_up_to_the_cap_are_read_whole() {
        let body = read(r#"{"ids": [1, 2, 3], "names": ["a", "b"]}"#).unwrap();
        assert_eq!(body.ids, [1, 2, 3]);
        assert_eq!(body.names.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
        let empty = read("{}").unwrap();
        assert!(empty.ids.is_empty() && empty.names.is_none());
        assert!(read(r#"{"names": null}"#).unwrap().names.is_none());
    }

    #[test]
    fn one_item_over_the_cap_is_refused_with_the_cap_in_the_message() {
        let err = read(r#"{"ids": [1, 2, 3, 4]}"#).unwrap_err().to_string();
        assert!(err.starts_with("too_many_items: at most 3 items"), "{err}");
        assert_eq!(too_many_items(&err), Some(3));
        let err = serde_json::from_value::<Body>(serde_json::json!({"names": ["a", "b", "c"]})).unwrap_err().to_string();
        assert_eq!(too_many_items(&err), Some(2), "{err}");
    }

    #[test]
    fn other_errors_are_not_mistaken_for_a_cap() {
        let err = read(r#"{"ids": ["x"]}"#).unwrap_err().to_string();
        assert_eq!(too_many_items(&err), None, "{err}");
        assert_eq!(too_many_items("too_many_items"), None);
    }

    #[derive(Debug, Deserialize)]
    struct Reason {
        #[allow(dead_code)]
        main: String,
        #[serde(default, deserialize_with = "at_most::<3, _, _>")]
        #[allow(dead_code)]
        subs: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    struct Nested {
        /// Free-form JSON: its arrays have no cap.
        #[allow(dead_code)]
        #[serde(default)]
        meta: serde_json::Value,
        #[serde(default, deserialize_with = "at_most::<5, _, _>")]
        #[allow(dead_code)]
        first: Vec<i64>,
        #[serde(default, deserialize_with = "at_most::<3, _, _>")]
        #[allow(dead_code)]
        reasons: Vec<Reason>,
    }

    /// The path [`over_cap_path`] names for `body` read as [`Nested`].
    fn path_of(mut body: serde_json::Value) -> String {
        let read = |v: &serde_json::Value| Nested::deserialize(v).err().map(|e| e.to_string());
        let max = too_many_items(&read(&body).expect("refused")).expect("a cap");
        let before = body.clone();
        let path = over_cap_path(&mut body, max, read);
        assert_eq!(body, before, "the body is given back as it was");
        path
    }

    #[test]
    fn the_path_names_the_list_over_its_cap_as_serde_path_to_error_would() {
        use serde_json::json;
        assert_eq!(path_of(json!({"reasons": [{"main": "a"}, {"main": "b"}, {"main": "c"}, {"main": "d"}]})), "reasons");
        assert_eq!(path_of(json!({"reasons": [{"main": "a"}, {"main": "b", "subs": ["1", "2", "3", "4"]}]})), "reasons[1].subs");
        // Lists longer than the failing cap but within their own, and
        // uncapped free-form arrays, before the culprit are not named.
        let four = json!(["1", "2", "3", "4"]);
        assert_eq!(
            path_of(json!({"meta": {"tags": [1, 2, 3, 4, 5]}, "first": [1, 2, 3, 4], "reasons": [{"main": "a", "subs": four}]})),
            "reasons[0].subs"
        );
        // A child over its cap inside a parent over the failing cap: the
        // child is reached first.
        let parent: Vec<_> =
            (0..4).map(|i| json!({"main": i.to_string(), "subs": if i == 0 { four.clone() } else { json!([]) }})).collect();
        assert_eq!(path_of(json!({"reasons": parent})), "reasons[0].subs");
        // A parent one item over its cap: serde reads that item (and the
        // lists in it) before it counts it, as serde_path_to_error reports.
        let parent: Vec<_> =
            (0..4).map(|i| json!({"main": i.to_string(), "subs": if i == 3 { four.clone() } else { json!([]) }})).collect();
        assert_eq!(path_of(json!({"reasons": parent})), "reasons[3].subs");
        let parent: Vec<_> = (0..4).map(|i| json!({"main": i.to_string()})).collect();
        assert_eq!(path_of(json!({"reasons": parent})), "reasons");
        // Two lists over the same cap: the first one read, not another list
        // longer than that cap but within its own.
        let two = json!({"first": [1, 2, 3, 4, 5], "reasons": [{"main": "a", "subs": four}, {"main": "b", "subs": four}]});
        assert_eq!(path_of(two), "reasons[0].subs");
        // Decoys under unknown keys are never the answer.
        let decoys: Vec<_> = (0..40).map(|_| json!([1, 2, 3, 4])).collect();
        assert_eq!(path_of(json!({"aaa": decoys, "reasons": [{"main": "a", "subs": four}]})), ".");
        assert_eq!(path_of(json!({"aaa": [[1, 2, 3, 4]], "reasons": [{"main": "a", "subs": four}]})), "reasons[0].subs");
        // Keys that need escaping in a JSON Pointer.
        let mut odd = json!({"a/b~c": [1, 2, 3, 4]});
        assert_eq!(over_cap_path(&mut odd, 3, |v| (v["a/b~c"].as_array().unwrap().len() > 3).then(|| "over".into())), "a/b~c");
    }

    #[test]
    fn the_path_of_a_site_input_names_the_first_list_over_the_cap() {
        use crate::api::sites::SiteInput;
        use serde_json::json;
        let origins: Vec<String> = (0..11).map(|i| format!("https://{i}.example.com")).collect();
        let subs: Vec<String> = (0..11).map(|i| format!("Sub {i}")).collect();
        let mut body = json!({
            "name": "Shop",
            "allowed_origins": origins,
            "request_reasons": [{"main": "a", "subs": subs}, {"main": "b", "subs": subs}],
        });
        let read = |v: &serde_json::Value| SiteInput::deserialize(v).err().map(|e| e.to_string());
        let max = too_many_items(&read(&body).expect("refused")).expect("a cap");
        assert_eq!(over_cap_path(&mut body, max, read), "request_reasons[0].subs");
    }

    #[test]
    fn the_path_search_is_bounded() {
        // Many long lists: at most MAX_PATH_TRIES reads after the first.
        let mut body: serde_json::Value =
            (0..1000).map(|i| (format!("k{i}"), serde_json::json!([1, 2, 3, 4]))).collect::<serde_json::Map<_, _>>().into();
        let reads = std::cell::Cell::new(0);
        let path = over_cap_path(&mut body, 3, |_| {
            reads.set(reads.get() + 1);
            Some("too_many_items: at most 3 items (list 1)".into())
        });
        assert_eq!(reads.get(), 1 + MAX_PATH_TRIES);
        assert_eq!(path, ".");
    }

    #[test]
    fn a_huge_list_stops_at_the_cap() {
        let json = format!(r#"{{"ids": [{}]}}"#, vec!["1"; 100_000].join(","));
        assert_eq!(too_many_items(&read(&json).unwrap_err().to_string()), Some(3));
    }
}
