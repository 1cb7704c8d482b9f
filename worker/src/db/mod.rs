//! D1 access: the one place that turns D1 rows into EdgeChat types, one
//! module per resource. Every query binds its values; none formats them into SQL.

pub mod api_keys;
pub mod app_conversations;
pub mod app_sessions;
pub mod articles;
pub mod breakers;
pub mod chat;
pub mod complaints;
pub mod conversations;
pub mod devices;
pub mod edits;
pub mod inbound;
pub mod media;
pub mod messages;
pub mod proactive;
pub mod ratings;
pub mod search;
pub mod sites;
pub mod team;
pub mod tickets;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod visitors;
pub mod webhooks;

pub use messages::MessageRow;

use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// The SQL condition: operator `?{u}` of account `?{a}` may see
/// conversation `c` (the alias the query gives it), where `u` and `a` are
/// the query's parameter numbers. Seed 002's visibility: every `visitor`
/// conversation of the account, and the `internal` ones the operator takes
/// part in. Queries built with `format!` take the rule from here;
/// `conversations::SUMMARY_SELECT` and `conversations::unread_counts`, whose
/// SQL is constant text, spell it out the same way.
fn visible(u: usize, a: usize) -> String {
    format!(
        "c.account_id = ?{a} AND (c.kind = 'visitor' OR EXISTS (SELECT 1 FROM participants vp WHERE vp.conversation_id = c.id AND vp.user_id = ?{u}))"
    )
}

/// Whether D1 answers a trivial query (`GET /ready`).
pub async fn ping(db: &D1Database) -> bool {
    matches!(db.prepare("SELECT 1 AS one").first::<i64>(Some("one")).await, Ok(Some(1)))
}

/// The D1 binding (`[[d1_databases]] binding = "DB"` in `wrangler.toml`).
///
/// With the var `D1_DELAY_MS` (bench only, never set in `wrangler.toml`:
/// `cargo xtask bench live-far`), each D1 call (`first`, `all`, `run`,
/// `raw`, `batch`) first waits that many milliseconds, standing in for a
/// D1 primary a continent away from the isolate.
pub fn database(env: &Env) -> worker::Result<D1Database> {
    let db = env.d1("DB")?;
    match env.var("D1_DELAY_MS").ok().and_then(|v| v.to_string().parse::<u32>().ok()).filter(|ms| *ms > 0) {
        Some(ms) => Ok(wasm_bindgen::JsCast::unchecked_into(far::delayed_d1(db.as_ref(), ms))),
        None => Ok(db),
    }
}

/// The delayed D1 of [`database`]: a `Proxy` of the binding whose calls
/// wait `ms` first; `batch` unwraps the proxied statements it is given.
mod far {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
export function delayed_d1(db, ms) {
  const wait = () => new Promise((resolve) => setTimeout(resolve, ms));
  const real = new WeakMap();
  const statement = (s) => {
    const proxy = new Proxy(s, { get(t, k) {
      const v = t[k];
      if (typeof v !== "function") return v;
      if (k === "bind") return (...a) => statement(v.apply(t, a));
      if (k === "first" || k === "all" || k === "run" || k === "raw") return async (...a) => { await wait(); return v.apply(t, a); };
      return v.bind(t);
    } });
    real.set(proxy, s);
    return proxy;
  };
  return new Proxy(db, { get(t, k) {
    const v = t[k];
    if (typeof v !== "function") return v;
    if (k === "prepare") return (...a) => statement(v.apply(t, a));
    if (k === "batch") return async (list) => { await wait(); return v.call(t, list.map((s) => real.get(s) ?? s)); };
    return v.bind(t);
  } });
}
"#)]
    extern "C" {
        pub fn delayed_d1(db: &JsValue, ms: u32) -> JsValue;
    }
}

/// A page of `rows` read with `LIMIT limit + 1`: the first `limit` rows and
/// whether more follow (the extra row, dropped, tells).
pub fn page_of<T>(mut rows: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    (rows, more)
}

/// A D1 integer parameter. D1 takes JavaScript numbers; ids stay far below 2^53.
pub fn int(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// The SQL expression of the next id of `table`, one of the tables whose
/// ids are never reused (`accounts`, `sites`, `users`, `visitors`,
/// `conversations`, `uploads`): its high-water mark + 1, kept by the
/// triggers of migration 0008, which refuse any lower id. Inserts into those
/// tables name their `id` with it, so a deleted row's id never comes back
/// and a Durable Object named by an id never meets a new owner.
pub fn next_id(table: &str) -> String {
    format!("(SELECT last_id + 1 FROM id_sequences WHERE name = '{table}')")
}

/// A nullable D1 integer parameter.
pub fn opt_int(value: Option<i64>) -> JsValue {
    value.map(int).unwrap_or(JsValue::NULL)
}

/// A D1 text parameter.
pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A JSON array of ids, bound for `json_each(?)`.
pub fn id_array(ids: &[i64]) -> JsValue {
    text(&serde_json::to_string(ids).expect("ids serialize"))
}

/// A nullable D1 text parameter.
pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn a_page_keeps_limit_rows_and_tells_of_the_extra_one() {
        assert_eq!(page_of(vec![1, 2, 3], 2), (vec![1, 2], true));
        assert_eq!(page_of(vec![1, 2], 2), (vec![1, 2], false));
        assert_eq!(page_of(Vec::<i32>::new(), 2), (vec![], false));
    }
}
