import { LINK_PAGE_SENTENCES, LinkPages, type LinkPageAnswer } from '../../shared/linking/link-pages';
import type { Account } from '../../shared/model';

const QR_1 = { qr: '2@first', dataUrl: 'data:image/png;base64,Zmlyc3Q=' };
const QR_2 = { qr: '2@second', dataUrl: 'data:image/png;base64,c2Vjb25k' };
const ACCOUNT: Account = { id: 'wa-15550000001', kind: 'baileys', phone: '15550000001', name: 'Crab Phone', createdAt: 1, connectedAt: 1, active: true };

let clock = 1_000_000;
const pages = () => new LinkPages(() => clock);
const body = (answer: LinkPageAnswer) => JSON.parse(answer.body) as unknown;
const viewKeyOf = (answer: LinkPageAnswer) => /encodeURIComponent\("([A-Za-z0-9_-]{43})"\)/.exec(answer.body)![1]!;
const htmlRefusal = (sentence: string) => ({
  status: 404,
  headers: expect.objectContaining({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }),
  body: expect.stringContaining(`<p id="message">${sentence.replace(/'/g, '&#39;')}</p>`),
});
const jsonRefusal = (sentence: string) => ({
  status: 404,
  headers: expect.objectContaining({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }),
  body: JSON.stringify({ status: 404, message: sentence }),
});

beforeEach(() => {
  clock = 1_000_000;
});

describe('a link page', () => {
  it('has an unguessable 43-character token, different for every session', async () => {
    const links = pages();
    const tokens = new Set(Array.from({ length: 50 }, () => links.start(clock + 60_000).token));
    expect(tokens.size).toBe(50);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('opens once (HTML with a view key), then its polls follow the rotating QR and report the outcome once', async () => {
    const links = pages();
    const session = links.start(clock + 60_000);
    const opened = await links.serve(session.token, undefined);
    expect(opened.status).toBe(200);
    expect(opened.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    expect(opened.headers['content-security-policy']).toContain("connect-src 'self'");
    const view = viewKeyOf(opened);
    expect(body(await links.serve(session.token, view))).toEqual({ status: 'waiting', qr: null, pairing_code: null, expires_at: new Date(clock + 60_000).toISOString() });
    session.show(QR_1);
    expect(body(await links.serve(session.token, view))).toMatchObject({ status: 'waiting', qr: QR_1.dataUrl });
    session.show(QR_2);
    expect(body(await links.serve(session.token, view))).toMatchObject({ status: 'waiting', qr: QR_2.dataUrl });
    session.linked(ACCOUNT);
    expect(body(await links.serve(session.token, view))).toEqual({ status: 'linked', phone: '+15550000001', name: 'Crab Phone' });
    // The poll that reported the outcome was the last one.
    expect(await links.serve(session.token, view)).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.used));
    expect(await links.serve(session.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.used));
  });

  it('shows a pairing code, and a failure with its sentence', async () => {
    const links = pages();
    const session = links.start(clock + 60_000);
    const view = viewKeyOf(await links.serve(session.token, undefined));
    session.showPairingCode('ABCD-1234');
    expect(body(await links.serve(session.token, view))).toMatchObject({ status: 'waiting', pairing_code: 'ABCD-1234' });
    session.failed('WhatsApp refused the pairing code: request a new one.');
    expect(body(await links.serve(session.token, view))).toEqual({ status: 'failed', message: 'WhatsApp refused the pairing code: request a new one.' });
  });
});

describe('every bad input of the link route: status and body', () => {
  it('malformed: not a token at all', async () => {
    const links = pages();
    for (const token of ['', 'short', 'x'.repeat(44), `${'a'.repeat(42)}!`, '../../etc/passwd']) {
      expect(await links.serve(token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.malformed));
      expect(await links.serve(token, 'anything')).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.malformed));
    }
  });

  it('unknown: well formed, but no session has it', async () => {
    const links = pages();
    links.start(clock + 60_000);
    expect(await links.serve('A'.repeat(43), undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.unknown));
    expect(await links.serve('A'.repeat(43), 'view')).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.unknown));
  });

  it('expired: its linking session is over, opened or not', async () => {
    const links = pages();
    const unopened = links.start(clock + 60_000);
    const opened = links.start(clock + 60_000);
    const view = viewKeyOf(await links.serve(opened.token, undefined));
    clock += 60_000;
    expect(await links.serve(unopened.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.expired));
    expect(await links.serve(opened.token, view)).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.expired));
    expect(await links.serve(opened.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.expired));
  });

  it('expired: a session that ended early (no first code) answers the same', async () => {
    const links = pages();
    const session = links.start(clock + 60_000);
    links.end(session);
    expect(await links.serve(session.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.expired));
  });

  it('used: a second page load, or a poll without the first load\'s view key', async () => {
    const links = pages();
    const session = links.start(clock + 60_000);
    session.show(QR_1);
    expect(await links.serve(session.token, 'a-guessed-view-key')).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.used));
    const view = viewKeyOf(await links.serve(session.token, undefined));
    expect(await links.serve(session.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.used));
    expect(await links.serve(session.token, `${view.slice(0, -1)}x`)).toEqual(jsonRefusal(LINK_PAGE_SENTENCES.used));
    // The first page still works.
    expect(body(await links.serve(session.token, view))).toMatchObject({ status: 'waiting', qr: QR_1.dataUrl });
  });

  it('forgets used and expired links after an hour: they are then unknown', async () => {
    const links = pages();
    const session = links.start(clock + 1000);
    clock += 1000;
    expect(await links.serve(session.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.expired));
    clock += 60 * 60_000;
    expect(await links.serve(session.token, undefined)).toEqual(htmlRefusal(LINK_PAGE_SENTENCES.unknown));
  });
});
