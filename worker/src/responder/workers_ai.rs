//! The `workers-ai` responder's upstream: the Workers AI binding
//! (`env.AI.run(model, {messages, stream: true})`), which answers Server-Sent
//! Events of `{"response":"…"}` ending with `data: [DONE]`.
//!
//! Enabling it (it cannot run under a local `wrangler dev` without a
//! Cloudflare login): add to `wrangler.toml`
//! ```toml
//! [ai]
//! binding = "AI"
//! ```
//! optionally set `WORKERS_AI_MODEL` (default [`DEFAULT_MODEL`]), deploy, and
//! set a site's `responder` to `{"kind":"workers-ai"}`. Without the binding
//! the responder fails with "not configured" and the visitor is offered a
//! person.

use serde::Serialize;
use worker::Env;

use super::llm::{self, Failure, Watch};
use super::prompt::ChatTurn;

/// The binding name in `wrangler.toml`.
pub const BINDING: &str = "AI";

/// The model when neither the site nor `WORKERS_AI_MODEL` names one.
pub const DEFAULT_MODEL: &str = "@cf/meta/llama-3.1-8b-instruct";

/// Input of a Workers AI text-generation model (Workers AI docs, "Text
/// Generation", messages form).
#[derive(Debug, Serialize)]
pub struct TextGenerationInput<'a> {
    pub messages: &'a [ChatTurn],
    pub stream: bool,
    pub max_tokens: u32,
    pub temperature: f64,
}

/// The streaming input for `turns`.
pub fn input(turns: &[ChatTurn], max_tokens: u32) -> TextGenerationInput<'_> {
    TextGenerationInput { messages: turns, stream: true, max_tokens, temperature: 0.2 }
}

/// Streams the completion of `turns` by `model`, handing each piece of text
/// to `on_text`; answers the whole text. The binding offers no abort: when
/// the visitor leaves, reading stops and the stream is dropped.
///
/// Errors: [`Failure::NotConfigured`] without the `AI` binding,
/// [`Failure::Transport`] when the run is refused, and those of
/// [`llm::read_stream`].
pub async fn complete(
    env: &Env,
    model: &str,
    turns: &[ChatTurn],
    max_tokens: u32,
    watch: &Watch<'_>,
    on_text: impl FnMut(&str),
) -> Result<String, Failure> {
    let ai = env.ai(BINDING).map_err(|_| Failure::NotConfigured("no [ai] binding named AI"))?;
    let stream = llm::started(ai.run_bytes(model, input(turns, max_tokens)), watch, None).await?;
    llm::read_stream(stream, watch, None, on_text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_streams_the_chat_messages() {
        let turns =
            [ChatTurn { role: "system".into(), content: "Be brief.".into() }, ChatTurn { role: "user".into(), content: "Hola".into() }];
        let value = serde_json::to_value(input(&turns, 256)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hola"}],
                "stream": true,
                "max_tokens": 256,
                "temperature": 0.2
            })
        );
    }

    #[test]
    fn a_workers_ai_stream_parses_to_its_text() {
        let bytes = "data: {\"response\":\"Ho\"}\n\ndata: {\"response\":\"la\",\"p\":\"xyz\"}\n\ndata: [DONE]\n\n";
        // Split mid-event, as network reads do.
        let (a, b) = bytes.split_at(17);
        let body = futures::stream::iter([Ok::<_, worker::Error>(a.as_bytes().to_vec()), Ok(b.as_bytes().to_vec())]);
        let data = futures::executor::block_on(llm::event_data(body));
        let deltas: Vec<llm::Delta> = data.iter().map(|d| llm::parse_event(d).unwrap()).collect();
        assert_eq!(deltas, [llm::Delta::Text("Ho".into()), llm::Delta::Text("la".into()), llm::Delta::Done]);
    }
}
