// The numbering-plan check of visitors' phone numbers (worker/src/phone.rs):
// libphonenumber-js, Google's libphonenumber metadata in its complete form,
// bundled into the worker by wrangler from node_modules.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// `true` when `phone` is a valid number of its country's numbering plan,
// written in E.164 exactly as libphonenumber formats it.
export function isValidE164(phone) {
  const number = parsePhoneNumberFromString(phone);
  return number !== undefined && number.isValid() && number.number === phone;
}
