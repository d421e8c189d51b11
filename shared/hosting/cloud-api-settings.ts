import { fail, ok, reject, type Result } from '../rejection';
import type { CloudApiSettings } from '../transport/cloud-api/connection';
import { optionalText, type RawSettings } from './setting-fields';

/** The four values a Cloud API number needs, by setting name, in the order they are checked. */
export const CLOUD_API_FIELDS = ['cloudApiPhoneNumberId', 'cloudApiAccessToken', 'cloudApiAppSecret', 'cloudApiVerifyToken'] as const;

/** What each field holds, as the sentences name it. */
export const CLOUD_API_FIELD_LABELS: Record<(typeof CLOUD_API_FIELDS)[number], string> = {
  cloudApiPhoneNumberId: 'the phone number ID (WhatsApp > API Setup in the Meta app)',
  cloudApiAccessToken: 'the access token (a System User token of the business)',
  cloudApiAppSecret: 'the app secret (App settings > Basic), which checks the webhook signatures',
  cloudApiVerifyToken: 'the verify token, the text you choose and enter with the callback URL in the Meta app',
};

/**
 * A workspace's WhatsApp Cloud API number: off while all four fields are blank; once one is set, every one
 * is needed, and the first one missing is named. The phone number ID is digits (Meta's own id of the
 * number, not the phone number).
 */
export function cloudApiSetting(raw: RawSettings): Result<CloudApiSettings | undefined> {
  const values = CLOUD_API_FIELDS.map((field) => optionalText(raw, field));
  if (values.every((value) => value === undefined)) return ok(undefined);
  for (const [index, field] of CLOUD_API_FIELDS.entries()) {
    if (values[index] === undefined) {
      return fail(reject(400, `Setting "${field}" is needed for the WhatsApp Cloud API number: set ${CLOUD_API_FIELD_LABELS[field]}, or clear all four Cloud API fields.`, field));
    }
  }
  const [phoneNumberId, accessToken, appSecret, verifyToken] = values as [string, string, string, string];
  if (!/^\d{5,32}$/.test(phoneNumberId)) {
    return fail(reject(400, `Setting "cloudApiPhoneNumberId" must be the number's ID in digits, as Meta's API Setup page shows it (not the phone number itself); got ${JSON.stringify(phoneNumberId)}.`, 'cloudApiPhoneNumberId'));
  }
  if (/\s/.test(accessToken)) return fail(reject(400, 'Setting "cloudApiAccessToken" must be the token without spaces or line breaks.', 'cloudApiAccessToken'));
  return ok({ phoneNumberId, accessToken, appSecret, verifyToken });
}
