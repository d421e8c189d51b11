import { join } from 'node:path';
import type { MessageChange } from '../../shared/model';
import { WorkspaceRegistry } from '../../shared/hosting/registry';
import { SqliteStore } from '../../shared/store/sqlite';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { FakeTransport, until } from '../support/fake-transport';
import { Workspace } from '../../shared/workspace/workspace';
import { validateSendPayload } from '../../shared/contract';
import { tempDir } from '../support/temp';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

describe('Workspace', () => {
  let t: TestWorkspace;
  beforeEach(async () => {
    t = await openTestWorkspace({ quota: { period: 'daily', allowance: 10 } });
    await t.workspace.addDryRunAccount('15105566777');
  });
  afterEach(async () => {
    await t.close();
    expect(t.errors).toEqual([]);
  });

  const post = (payload: object) =>
    handleWebhookCall(t.workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(payload),
      token: t.workspace.webhookState().token,
      remoteAddress: null,
    });

  const idOf = (answer: Awaited<ReturnType<typeof post>>) =>
    (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);

  it('fails a number that is not on WhatsApp, refunds its unit and writes the outcome to the attempt log', async () => {
    const changes: MessageChange[] = [];
    t.workspace.onMessageChange((change) => changes.push(change));
    const id = idOf(await post({ action: 'send', phone: '+1 415 000 0000', text: 'hi' }));
    expect((await t.workspace.quota()).used).toBe(1);
    await until(async () => (await t.workspace.message(id))?.status === 'failed');
    expect((await t.workspace.quota()).used).toBe(0);
    expect(changes.map((change) => change.status)).toEqual(['queued', 'sending', 'failed']);
    expect(changes.at(-1)).toMatchObject({ messageId: id, requestId: id, reason: '+14150000000 is not on WhatsApp' });
    await until(async () => (await t.workspace.attempts())[0]?.outcome === 'failed: +14150000000 is not on WhatsApp');
  });

  it('sends text and file as two messages of one request, the answer carrying the first id', async () => {
    const changes: MessageChange[] = [];
    t.workspace.onMessageChange((change) => changes.push(change));
    const answer = await post({ action: 'send', jid: '14151231234@s.whatsapp.net', text: 'see attached', file_url: 'http://127.0.0.1:9/a.pdf', file_name: 'a.pdf' });
    const requestId = idOf(answer);
    await until(() => changes.filter((change) => change.status === 'failed' || change.status === 'delivered').length === 2);
    const messages = await t.workspace.store.outbox.byRequest(requestId);
    expect(messages.map((message) => [message.part, message.requestId])).toEqual([
      ['text', requestId],
      ['file', requestId],
    ]);
    expect(messages[0]!.id).toBe(requestId);
    expect(messages[0]!.status).toBe('delivered');
    // The file host refuses loopback addresses by default: the file fails with that reason and is refunded.
    expect(messages[1]!.status).toBe('failed');
    expect(messages[1]!.reason).toMatch(/private or local address/);
    expect((await t.workspace.quota()).used).toBe(1);
  });

  it('keeps the quota of a failed message spent until its refund delay passes', async () => {
    let now = Date.UTC(2026, 10, 28, 12);
    const delayed = await openTestWorkspace({ quota: { period: 'daily', allowance: 10, refundDelayMs: 3_600_000 }, now: () => now });
    try {
      await delayed.workspace.addDryRunAccount('15105566777');
      await handleWebhookCall(delayed.workspace, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ action: 'send', phone: '+14150000000', text: 'hi' }),
        token: delayed.workspace.webhookState().token,
        remoteAddress: null,
      });
      await until(async () => (await delayed.workspace.store.outbox.countByStatus()).failed === 1);
      expect(await delayed.workspace.quota()).toMatchObject({ used: 1, available: 9, pendingRefunds: 1 });
      now += 3_600_000;
      expect(await delayed.workspace.quota()).toMatchObject({ used: 0, available: 10, pendingRefunds: 0 });
    } finally {
      await delayed.close();
    }
  });

  it('fails and refunds the queued messages of an account that is removed, and tells the listeners', async () => {
    const slow = await openTestWorkspace({ quota: { period: 'daily', allowance: 10 }, pacing: { gap: { minMs: 60_000, maxMs: 60_000 } } });
    try {
      const account = await slow.workspace.addDryRunAccount('15105566777');
      const send = (text: string) =>
        handleWebhookCall(slow.workspace, {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
          token: slow.workspace.webhookState().token,
          remoteAddress: null,
        });
      const ids = [idOf(await send('one')), idOf(await send('two')), idOf(await send('three'))];
      // The first goes out at once; the pacing gap holds the other two in the queue.
      await until(async () => (await slow.workspace.message(ids[0]!))?.status === 'delivered');
      const changes: MessageChange[] = [];
      slow.workspace.onMessageChange((change) => changes.push(change));
      await slow.workspace.removeAccount(account.id);
      const reason = 'The account was removed before this message was sent';
      expect(await Promise.all(ids.map(async (id) => (await slow.workspace.message(id))?.status))).toEqual(['delivered', 'failed', 'failed']);
      expect((await slow.workspace.message(ids[1]!))?.reason).toBe(reason);
      expect(changes.map(({ messageId, status }) => [messageId, status])).toEqual([[ids[1], 'failed'], [ids[2], 'failed']]);
      expect(await slow.workspace.quota()).toMatchObject({ used: 1, available: 9 });
      expect(await slow.workspace.store.outbox.countWaiting()).toBe(0);
    } finally {
      await slow.close();
    }
    expect(slow.errors).toEqual([]);
  });

  it('resumes queued messages after a restart, with their ids', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'restart.sqlite');
    const account = { id: 'phone', kind: 'baileys' as const, phone: '15105566777', name: null, createdAt: 1, connectedAt: 1, active: true };
    const offline = new FakeTransport();
    offline.state = 'reconnecting';
    const online = new FakeTransport();
    try {
      const store = new SqliteStore({ path });
      await store.accounts.put(account);
      const first = await Workspace.open({ store, openTransport: () => offline });
      const answer = await handleWebhookCall(first, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'after restart' }),
        token: first.webhookState().token,
        remoteAddress: null,
      });
      await first.close();
      expect(offline.sent).toEqual([]);
      const again = await Workspace.open({ store: new SqliteStore({ path }), openTransport: () => online });
      await until(() => online.sent.length === 1);
      expect(online.sent[0]).toMatchObject({ messageId: idOf(answer), text: 'after restart' });
      await again.close();
    } finally {
      dir.cleanup();
    }
  });
});

describe('WorkspaceRegistry', () => {
  it('opens one workspace per key, shares it and closes it with its last user', async () => {
    const dir = tempDir();
    const registry = new WorkspaceRegistry();
    const options = () => ({ store: new SqliteStore({ path: join(dir.path, 'shared.sqlite') }) });
    try {
      const [a, b] = await Promise.all([registry.acquire('k', options), registry.acquire('k', options)]);
      expect(a.workspace).toBe(b.workspace);
      await a.release();
      await a.release();
      expect(registry.openKeys()).toEqual(['k']);
      await b.release();
      expect(registry.openKeys()).toEqual([]);
      const c = await registry.acquire('k', options);
      expect(c.workspace).not.toBe(a.workspace);
      await c.release();
    } finally {
      dir.cleanup();
    }
  });
});

describe('Workspace: files attached by an engine', () => {
  const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);
  let t: TestWorkspace;
  beforeEach(async () => {
    t = await openTestWorkspace({ quota: { period: 'none', allowance: 10 } });
    await t.workspace.addDryRunAccount('15105566777');
  });
  afterEach(async () => {
    await t.close();
    expect(t.errors).toEqual([]);
  });

  const source = { remoteAddress: null, request: '{}' };
  const request = (attachedName: string | undefined, text = 'see attached') => {
    const parsed = validateSendPayload({ action: 'send', phone: '+14151231234', text }, attachedName === undefined ? undefined : { name: attachedName });
    if (!parsed.ok) throw new Error(parsed.rejection.message);
    return parsed.value;
  };

  it('stores the bytes with the message, sends them by their real type, then drops them', async () => {
    const accepted = await t.workspace.accept(request('photo.bin', ''), source, { data: PNG, mimetype: 'application/octet-stream' });
    if (!accepted.ok) throw new Error(accepted.rejection.message);
    expect(accepted.value.units).toBe(1);
    const id = accepted.value.messageId;
    await until(async () => (await t.workspace.store.dryRun.list()).some((record) => record.id === id));
    expect((await t.workspace.store.dryRun.list())[0]).toMatchObject({ id, kind: 'image', mimetype: 'image/png', fileName: 'photo.bin', bytes: PNG.length });
    await until(async () => (await t.workspace.store.outbox.attachment(id)) === undefined);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), 400, 'The attached file is empty.'],
    ['a file over 2 MB', Buffer.alloc(2 * 1024 * 1024 + 1, 7), 413, 'The attached file is 2.0 MB; the limit is 2.0 MB.'],
    ['a web page', Buffer.from('<!DOCTYPE html><html><body>login</body></html>'), 400, 'The attached file is a web page, not a file.'],
  ])('refuses %s with nothing queued or charged', async (_what, data, status, message) => {
    expect(await t.workspace.accept(request('a.pdf'), source, { data })).toEqual({ ok: false, rejection: { status, field: 'attachment', message } });
    expect(await t.workspace.store.outbox.countByStatus()).toEqual({});
    expect((await t.workspace.quota()).used).toBe(0);
  });

  it('refuses bytes that the request does not name, and a named file without bytes', async () => {
    expect(await t.workspace.accept(request(undefined), source, { data: PNG })).toMatchObject({ ok: false, rejection: { status: 400, message: 'A file was attached to a request that does not name one.' } });
    expect(await t.workspace.accept(request('a.png'), source)).toMatchObject({ ok: false, rejection: { status: 400, message: 'The request names an attached file, but no file was attached.' } });
  });
});
