import { join } from 'node:path';
import { AccountDispatcher, type DispatchDeps, type DispatchOptions } from '../../shared/dispatch/dispatcher';
import type { DownloadedFile } from '../../shared/attachments/types';
import type { MessageChange } from '../../shared/model';
import { SqliteStore } from '../../shared/store/sqlite';
import { TransportError } from '../../shared/transport/types';
import { FakeTransport, until } from '../support/fake-transport';
import { attempt, textMessage } from '../support/messages';
import { tempDir } from '../support/temp';
import type { NewMessage } from '../../shared/store/types';

const options: DispatchOptions = {
  gap: { minMs: 40, maxMs: 60 },
  caps: {},
  retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 },
  refundDelayMs: 0,
};

describe('AccountDispatcher', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let transport: FakeTransport;
  let dispatcher: AccountDispatcher;
  let changes: MessageChange[];
  let errors: unknown[];
  let download: jest.Mock<Promise<DownloadedFile>, [string, string]>;

  const start = (overrides: Partial<DispatchOptions> = {}, hold: Partial<Pick<DispatchDeps, 'owner' | 'holdsSafely' | 'linkedAt'>> = {}) => {
    dispatcher = new AccountDispatcher('acc', { ...options, ...overrides }, {
      ...hold,
      outbox: store.outbox,
      transport,
      download,
      loadAttachment: async () => {
        throw new Error('no attachments in these tests');
      },
      now: Date.now,
      random: Math.random,
      onChange: (change) => changes.push(change),
      onError: (error) => errors.push(error),
    });
    dispatcher.wake();
  };

  const queue = async (...messages: NewMessage[]) => {
    await store.accept({
      messages,
      units: messages.length,
      quota: { period: 'none', allowance: 1_000_000 },
      periodKey: 'all',
      attempt: attempt(),
      now: Date.now(),
    });
  };

  const statusOf = async (id: string) => (await store.outbox.get(id))?.status;

  beforeEach(() => {
    dir = tempDir();
    store = new SqliteStore({ path: join(dir.path, 's.sqlite') });
    transport = new FakeTransport();
    changes = [];
    errors = [];
    download = jest.fn(async (url: string, fileName: string) => ({
      buffer: Buffer.from('png'),
      mimetype: 'image/png',
      kind: 'image' as const,
      fileName,
      finalUrl: url,
    }));
  });

  afterEach(async () => {
    await dispatcher.close();
    await store.close();
    dir.cleanup();
    expect(errors).toEqual([]);
  });

  it('sends in order, one at a time, with every gap inside the configured range', async () => {
    const messages = Array.from({ length: 8 }, () => textMessage());
    await queue(...messages);
    start();
    await until(() => transport.sent.length === 8);
    expect(transport.sent.map((sent) => sent.messageId)).toEqual(messages.map((message) => message.id));
    const gaps = transport.sent.slice(1).map((sent, i) => sent.at - transport.sent[i]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(40);
      // The upper bound only shows the gap is not stuck: timers on a loaded CI machine (n8n and Chromium
      // run beside this suite) fire late, so it leaves 200 ms of room. The bench measures accuracy.
      expect(gap).toBeLessThan(60 + 200);
    }
    await until(async () => (await statusOf(messages[7]!.id)) === 'sent');
  });

  it('sends the text, then the downloaded file, of one request', async () => {
    const text = textMessage();
    const file = textMessage({ requestId: text.id, part: 'file', text: null, fileUrl: 'https://files.test/a.png', fileName: 'a.png' });
    await queue(text, file);
    start();
    await until(() => transport.sent.length === 2);
    expect(transport.sent[0]).toMatchObject({ messageId: text.id, text: text.text });
    expect(transport.sent[1]).toMatchObject({ messageId: file.id, media: { kind: 'image', mimetype: 'image/png', fileName: 'a.png' } });
    expect(download).toHaveBeenCalledWith('https://files.test/a.png', 'a.png');
  });

  it('resolves a phone when sending, and fails every part of the request when it is not on WhatsApp', async () => {
    transport.notOnWhatsApp.add('14150000000');
    const recipient = { field: 'phone' as const, value: '14150000000' };
    const text = textMessage({ jid: null, recipient });
    const file = textMessage({ jid: null, recipient, requestId: text.id, part: 'file', text: null, fileUrl: 'https://f.test/x', fileName: 'x' });
    const ok = textMessage({ jid: null });
    await queue(text, file, ok);
    start();
    await until(async () => (await statusOf(ok.id)) === 'sent');
    expect(await store.outbox.get(text.id)).toMatchObject({ status: 'failed', reason: '+14150000000 is not on WhatsApp' });
    expect(await store.outbox.get(file.id)).toMatchObject({ status: 'failed', reason: '+14150000000 is not on WhatsApp' });
    expect(await store.outbox.get(ok.id)).toMatchObject({ jid: '14151231234@s.whatsapp.net' });
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([ok.id]);
    expect((await store.quota.state({ period: 'none', allowance: 1_000_000 }, 'all', Date.now())).used).toBe(1);
  });

  it('retries a transient failure with the same id, then fails and refunds after the last attempt', async () => {
    const flaky = textMessage();
    const doomed = textMessage();
    let flakyFailures = 1;
    transport.beforeSend = (id) => {
      if (id === flaky.id && flakyFailures-- > 0) throw new TransportError('transient', 'WhatsApp did not answer in time');
      if (id === doomed.id) throw new TransportError('transient', 'WhatsApp server error 500');
    };
    await queue(flaky, doomed);
    start();
    await until(async () => (await statusOf(doomed.id)) === 'failed');
    await until(async () => (await statusOf(flaky.id)) === 'sent');
    expect(await store.outbox.get(doomed.id)).toMatchObject({ attempts: 3, reason: 'WhatsApp server error 500' });
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([flaky.id]);
    expect((await store.quota.state({ period: 'none', allowance: 1_000_000 }, 'all', Date.now())).used).toBe(1);
  });

  it('fails a permanent error at once with its reason', async () => {
    const message = textMessage();
    transport.beforeSend = () => {
      throw new TransportError('permanent', 'WhatsApp restricted this account from starting new chats');
    };
    await queue(message);
    start();
    await until(async () => (await statusOf(message.id)) === 'failed');
    expect(await store.outbox.get(message.id)).toMatchObject({ attempts: 1, reason: 'WhatsApp restricted this account from starting new chats' });
    expect(changes.map((change) => change.status)).toEqual(['sending', 'failed']);
  });

  it('waits while the account is not connected and sends when it comes back', async () => {
    transport.setState('reconnecting');
    const message = textMessage();
    await queue(message);
    start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await statusOf(message.id)).toBe('queued');
    transport.setState('open');
    await until(async () => (await statusOf(message.id)) === 'sent');
  });

  it('puts a message back untouched when the account drops during the send', async () => {
    const message = textMessage();
    let drops = 1;
    transport.beforeSend = () => {
      if (drops-- > 0) {
        transport.state = 'reconnecting';
        throw new TransportError('unavailable', 'the account is reconnecting');
      }
    };
    await queue(message);
    start();
    await until(async () => (await statusOf(message.id)) === 'queued' && changes.some((c) => c.status === 'queued'));
    transport.setState('open');
    await until(async () => (await statusOf(message.id)) === 'sent');
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([message.id]);
  });

  it('applies receipts in order and an error acknowledgement as a failure', async () => {
    const read = textMessage();
    const rejected = textMessage();
    await queue(read, rejected);
    start();
    await until(async () => (await statusOf(rejected.id)) === 'sent');
    transport.emitStatus({ messageId: read.id, status: 'read' });
    transport.emitStatus({ messageId: read.id, status: 'delivered' });
    transport.emitStatus({ messageId: rejected.id, status: 'failed', reason: 'WhatsApp refused the message (error 463)' });
    await until(async () => (await statusOf(read.id)) === 'read' && (await statusOf(rejected.id)) === 'failed');
    expect((await store.outbox.history(read.id)).map((event) => event.status)).toEqual(['queued', 'sending', 'sent', 'read']);
  });

  it("matches receipts by the provider's own id where the transport assigns one, keeping ours for the message", async () => {
    transport.providerIdFor = (id) => `wamid.${id}`;
    const delivered = textMessage();
    const refused = textMessage();
    await queue(delivered, refused);
    start();
    await until(async () => (await statusOf(refused.id)) === 'sent');
    expect(await store.outbox.idForProviderId(`wamid.${delivered.id}`)).toBe(delivered.id);
    transport.emitStatus({ messageId: `wamid.${delivered.id}`, status: 'delivered' });
    transport.emitStatus({ messageId: `wamid.${refused.id}`, status: 'failed', reason: 'Outside the 24-hour window a template is required' });
    transport.emitStatus({ messageId: 'wamid.unknown', status: 'read' });
    await until(async () => (await statusOf(delivered.id)) === 'delivered' && (await statusOf(refused.id)) === 'failed');
    expect(changes.filter((change) => change.status === 'delivered' || change.status === 'failed').map((change) => [change.messageId, change.status])).toEqual([
      [delivered.id, 'delivered'],
      [refused.id, 'failed'],
    ]);
    expect(await store.outbox.idForProviderId('wamid.unknown')).toBeUndefined();
  });

  it('holds sends while the hourly cap is reached', async () => {
    const messages = Array.from({ length: 3 }, () => textMessage());
    await queue(...messages);
    start({ caps: { perHour: 2 } });
    await until(() => transport.sent.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(transport.sent).toHaveLength(2);
    expect(await statusOf(messages[2]!.id)).toBe('queued');
  });
  it('holds sends while the per-minute cap is reached', async () => {
    const messages = Array.from({ length: 3 }, () => textMessage());
    await queue(...messages);
    start({ caps: { perMinute: 2, perHour: 100 } });
    await until(() => transport.sent.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(transport.sent).toHaveLength(2);
    expect(await statusOf(messages[2]!.id)).toBe('queued');
  });

  it('warms up from the link time: a number linked today sends a tenth of its hourly cap', async () => {
    const messages = Array.from({ length: 4 }, () => textMessage());
    await queue(...messages);
    start({ caps: { perHour: 20 }, warmup: { days: 10, startFraction: 0.1 } }, { linkedAt: Date.now() });
    await until(() => transport.sent.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(transport.sent).toHaveLength(2);
  });

  it('a number linked longer ago than its warm-up sends up to the full cap', async () => {
    const messages = Array.from({ length: 4 }, () => textMessage());
    await queue(...messages);
    start({ caps: { perHour: 3 }, warmup: { days: 10, startFraction: 0.1 } }, { linkedAt: Date.now() - 11 * 24 * 3_600_000 });
    await until(() => transport.sent.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(transport.sent).toHaveLength(3);
  });

  it('keeps a sent message whose record failed (a full disk) ahead of the rest, and records it once the store works', async () => {
    const first = textMessage();
    const second = textMessage();
    await queue(first, second);
    // The store refuses to record the hand-over twice (as SQLite does when its disk is full), then works.
    const markSent = store.outbox.markSent.bind(store.outbox);
    let refusals = 2;
    store.outbox.markSent = async (...args) => {
      if (refusals-- > 0) throw new Error('database or disk is full');
      return markSent(...args);
    };
    start();
    await until(async () => (await statusOf(second.id)) === 'sent', 10_000);
    // Sent once each, in order: the first was not resent, and the second did not overtake it.
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([first.id, second.id]);
    expect(await statusOf(first.id)).toBe('sent');
    expect(changes.filter((change) => change.status === 'sent').map((change) => change.messageId)).toEqual([first.id, second.id]);
    expect(errors.map(String)).toEqual(['Error: database or disk is full', 'Error: database or disk is full']);
    errors.length = 0;
  });

  it('puts back a message a claim moved to sending when the answer to that claim was lost, and sends it', async () => {
    const claimNext = store.outbox.claimNext.bind(store.outbox);
    let lost = 0;
    // The store commits the claim, but the connection dies before its answer arrives (once).
    store.outbox.claimNext = async (...args) => {
      const claimed = await claimNext(...args);
      if (claimed && lost++ === 0) throw new Error('Connection terminated unexpectedly');
      return claimed;
    };
    const orphan = textMessage();
    const next = textMessage();
    await queue(orphan, next);
    start();
    await until(async () => (await statusOf(orphan.id)) === 'sent' && (await statusOf(next.id)) === 'sent', 5000);
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([orphan.id, next.id]);
    expect(errors.map(String)).toEqual(['Error: Connection terminated unexpectedly']);
    errors.length = 0;
  });

  it('sends nothing once its hold ran short (a stalled process) and leaves the message to the new owner', async () => {
    const ttl = 60_000;
    expect(await store.ownership.acquire('acc', 'me', Date.now(), ttl)).toBe(true);
    const message = textMessage();
    await queue(message);
    let checks = 0;
    // The stall: by the time the send would start, another process took the account.
    start({}, {
      owner: 'me',
      holdsSafely: () => {
        checks++;
        return false;
      },
    });
    await until(() => checks > 0);
    await store.ownership.release('acc', 'me');
    expect(await store.ownership.acquire('acc', 'other', Date.now(), ttl)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(transport.sent).toEqual([]);
    // Still `sending` for the new owner to recover (with its id), not requeued by the one that lost the hold.
    expect(await statusOf(message.id)).toBe('sending');
    expect(await store.outbox.recoverInFlight(Date.now(), 'acc', 'me')).toBe(0);
    expect(await store.outbox.recoverInFlight(Date.now(), 'acc', 'other')).toBe(1);
  });

  it('sends a message it held back for a short hold once the hold is renewed, once and in order', async () => {
    expect(await store.ownership.acquire('acc', 'me', Date.now(), 60_000)).toBe(true);
    const first = textMessage();
    const second = textMessage();
    await queue(first, second);
    let short = 1;
    start({}, { owner: 'me', holdsSafely: () => short-- <= 0 });
    await until(async () => (await statusOf(second.id)) === 'sent', 5000);
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([first.id, second.id]);
    expect((await store.outbox.history(first.id)).map((event) => [event.status, event.detail])).toEqual([
      ['queued', null],
      ['sending', 'attempt 1'],
      ['queued', 'recovered after a restart'],
      ['sending', 'attempt 2'],
      ['sent', null],
    ]);
  });

  it('retries a requeue the store refused, instead of leaving the message in sending', async () => {
    const flaky = textMessage();
    let failures = 1;
    transport.beforeSend = (id) => {
      if (id === flaky.id && failures-- > 0) throw new TransportError('transient', 'WhatsApp did not answer in time');
    };
    await queue(flaky);
    const requeue = store.outbox.requeue.bind(store.outbox);
    let refusals = 1;
    store.outbox.requeue = async (...args) => {
      if (refusals-- > 0) throw new Error('database or disk is full');
      return requeue(...args);
    };
    start();
    await until(async () => (await statusOf(flaky.id)) === 'sent', 10_000);
    expect(transport.sent.map((sent) => sent.messageId)).toEqual([flaky.id]);
    expect(errors.map(String)).toEqual(['Error: database or disk is full']);
    errors.length = 0;
  });
});
