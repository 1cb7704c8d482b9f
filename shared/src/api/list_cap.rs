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
//! ([`too_many_items`]) and answers 422 `too_many_items` naming the field.

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

/// The serde visitor of [`at_most`]: a sequence of at most `N` `T`s.
struct Capped<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Capped<T, N> {
    type Value = Vec<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "a list of at most {N} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
        while let Some(item) = seq.next_element()? {
            if items.len() == N {
                return Err(A::Error::custom(format!("{TOO_MANY_ITEMS}: at most {N} items")));
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

    #[test]
    fn a_huge_list_stops_at_the_cap() {
        let json = format!(r#"{{"ids": [{}]}}"#, vec!["1"; 100_000].join(","));
        assert_eq!(too_many_items(&read(&json).unwrap_err().to_string()), Some(3));
    }
}
