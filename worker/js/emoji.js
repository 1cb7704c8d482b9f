// The emoji check of reactions (worker/src/emoji.rs): Unicode's RGI emoji
// set (UTS #51, "recommended for general interchange": what keyboards and
// pickers offer), from the runtime's own Unicode data through the
// ECMAScript 2024 `v` flag's property of strings `RGI_Emoji`.
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

// The RGI form of `value` when it is one RGI emoji with or without its
// trailing emoji presentation selector U+FE0F (`❤`, `❤️` and `❤️️` are all
// `❤️`, the form keyboards send), else `undefined`: one reaction is stored
// under one key, whichever variant a client sends.
export function rgiEmoji(value) {
  if (RGI_EMOJI.test(value)) {
    return value;
  }
  const bare = value.replace(/\uFE0F+$/u, '');
  for (const form of [`${bare}\uFE0F`, bare]) {
    if (RGI_EMOJI.test(form)) {
      return form;
    }
  }
  return undefined;
}
