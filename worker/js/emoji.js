// The emoji check of reactions (worker/src/emoji.rs): Unicode's RGI emoji
// set (UTS #51, "recommended for general interchange": what keyboards and
// pickers offer), from the runtime's own Unicode data through the
// ECMAScript 2024 `v` flag's property of strings `RGI_Emoji`.
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

// `true` when `value` is one RGI emoji, with or without its emoji
// presentation selector U+FE0F (`❤` as well as `❤️`).
export function isRgiEmoji(value) {
  if (RGI_EMOJI.test(value)) {
    return true;
  }
  const bare = value.replace(/\uFE0F+$/u, '');
  return RGI_EMOJI.test(bare) || RGI_EMOJI.test(`${bare}\uFE0F`);
}
