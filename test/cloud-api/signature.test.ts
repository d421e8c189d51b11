import { createHmac } from 'node:crypto';
import { answerVerification, signBody, verifySignature } from '../../shared/transport/cloud-api/signature';

const secret = 'app-secret';
const body = '{"object":"whatsapp_business_account","entry":[]}';

describe('Cloud API webhook signature', () => {
  it('accepts the HMAC-SHA256 of the raw body with the app secret', () => {
    const hex = createHmac('sha256', secret).update(body).digest('hex');
    expect(signBody(body, secret)).toBe(`sha256=${hex}`);
    expect(verifySignature(body, `sha256=${hex}`, secret)).toEqual({ ok: true });
    expect(verifySignature(Buffer.from(body), `sha256=${hex.toUpperCase()}`, secret)).toEqual({ ok: true });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifySignature(body, signBody(body, 'other'), secret)).toEqual({ ok: false, reason: 'the signature does not match the body' });
  });

  it('refuses a missing or malformed header', () => {
    expect(verifySignature(body, undefined, secret)).toEqual({ ok: false, reason: 'the X-Hub-Signature-256 header is missing' });
    expect(verifySignature(body, '', secret)).toEqual({ ok: false, reason: 'the X-Hub-Signature-256 header is missing' });
    expect(verifySignature(body, 'sha1=abc', secret)).toEqual({ ok: false, reason: 'the X-Hub-Signature-256 header is not sha256=<64 hex digits>' });
    expect(verifySignature(body, 'sha256=zz', secret)).toMatchObject({ ok: false });
  });

  it('refuses a genuine signature replayed with another body', () => {
    const signature = signBody(body, secret);
    expect(verifySignature(body.replace('[]', '[{}]'), signature, secret)).toEqual({ ok: false, reason: 'the signature does not match the body' });
  });

  it('refuses everything when no app secret is set', () => {
    expect(verifySignature(body, signBody(body, ''), '')).toMatchObject({ ok: false });
  });
});

describe('Cloud API webhook verification (GET)', () => {
  it('answers hub.challenge to subscribe with our verify token', () => {
    const query = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt', 'hub.challenge': '1158201444' });
    expect(answerVerification(query, 'vt')).toEqual({ ok: true, challenge: '1158201444' });
    expect(answerVerification({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt', 'hub.challenge': 'x' }, 'vt')).toEqual({ ok: true, challenge: 'x' });
  });

  it('refuses another token, another mode, no challenge or no token set', () => {
    expect(answerVerification({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': 'c' }, 'vt')).toEqual({ ok: false, reason: 'hub.verify_token does not match' });
    expect(answerVerification({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'vt', 'hub.challenge': 'c' }, 'vt')).toEqual({ ok: false, reason: 'hub.mode is not subscribe' });
    expect(answerVerification({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt' }, 'vt')).toEqual({ ok: false, reason: 'hub.challenge is missing' });
    expect(answerVerification({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': 'c' }, '')).toEqual({ ok: false, reason: 'no verify token is set' });
  });
});
