// The numbering-plan check of visitors' phone numbers (worker/src/phone.rs):
// libphonenumber-js's code, bundled into the worker by wrangler, with
// Google's libphonenumber metadata in its complete ("max") form read from the
// worker's static assets (`public/data/phone-metadata.json`, copied there by
// `cargo xtask build`), once per isolate, on the first phone number checked.
// The metadata is 39 KB of gzip that the upload no longer carries and that
// no start of the worker parses (issue 16).
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';

export const METADATA_PATH = '/data/phone-metadata.json';

// The metadata's promise: one load per isolate; a failed load is not kept,
// so the next check tries again.
let metadata;

function load(assets) {
  if (!metadata) {
    metadata = assets.fetch(`https://assets.invalid${METADATA_PATH}`).then((answer) => {
      if (!answer.ok) throw new Error(`the phone metadata ${METADATA_PATH} is not in the assets (HTTP ${answer.status}; cargo xtask build)`);
      return answer.json();
    });
    metadata.catch(() => { metadata = undefined; });
  }
  return metadata;
}

// `true` when `phone` is a valid number of its country's numbering plan,
// written in E.164 exactly as libphonenumber formats it. `assets` is the
// worker's `ASSETS` binding; rejects when the metadata cannot be read.
export async function isValidE164(assets, phone) {
  const number = parsePhoneNumberFromString(phone, await load(assets));
  return number !== undefined && number.isValid() && number.number === phone;
}
