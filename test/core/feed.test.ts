import { feedFollowing } from '../../shared/hosting/feed-following';
import { parseSendRequest } from '../../shared/contract';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import type { AcceptedPayload } from '../../shared/outbox/payloads';
import { until } from '../support/fake-transport';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

/** The webhook's feed: what flows are handed, from the durable record, across stops and restarts. */
describe('Workspace.followAccepted', () => {
  let t: TestWorkspace;
  const post = (text: string, extra: Record<string, unknown> = {}) =>
    handleWebhookCall(t.workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text, ...extra }),
      token: t.workspace.webhookState().token,
      remoteAddress: '203.0.113.7',
    });
  const idOf = async (answer: Promise<{ body: unknown }>) => ((await answer).body as { data: { message_id: string } }).data.message_id;

  beforeEach(async () => {
    t = await openTestWorkspace({ quota: { period: 'none', allowance: 1000 } });
    await t.workspace.addDryRunAccount('15105566777', 'Sales phone');
  });
  afterEach(async () => {
    await t.close();
    expect(t.errors).toEqual([]);
  });

  it('hands over each accepted webhook request in the shape the engines emit, and not a flow’s own sends', async () => {
    const seen: AcceptedPayload[] = [];
    const reader = await t.workspace.followAccepted({ reader: 'node-a', deliver: (items) => void seen.push(...items) });
    const id = await idOf(post('hello', { file_url: 'https://files.test/a.pdf', file_name: 'a.pdf', extra_field: 1 }));
    const parsed = parseSendRequest(JSON.stringify({ action: 'send', phone: '+14151231234', text: 'from a flow' }));
    if (!parsed.ok) throw new Error('fixture');
    expect((await t.workspace.accept(parsed.value, { remoteAddress: null, request: '' })).ok).toBe(true);
    await until(() => seen.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([
      {
        message_id: id,
        account: { id: 'dry-run-15105566777', phone: '15105566777' },
        recipient: { field: 'phone', value: '14151231234' },
        messages: [
          { message_id: id, part: 'text' },
          { message_id: expect.stringMatching(/^wa_backend:3EB0/), part: 'file' },
        ],
        units: 2,
        request: {
          text: 'hello',
          file: { url: 'https://files.test/a.pdf', name: 'a.pdf' },
          recipient: { field: 'phone', value: '14151231234' },
          unusedRecipientFields: [],
          ignoredFields: ['extra_field'],
        },
      },
    ]);
    await reader.stop();
  });

  it('resumes where it stopped: what was accepted meanwhile is handed over once, nothing twice', async () => {
    const first: string[] = [];
    const reader = await t.workspace.followAccepted({ reader: 'node-a', deliver: (items) => void first.push(...items.map((item) => item.message_id)) });
    const before = await idOf(post('one'));
    await until(() => first.length === 1);
    await reader.stop();
    const meanwhile = [await idOf(post('two')), await idOf(post('three'))];
    const second: string[] = [];
    const again = await t.workspace.followAccepted({ reader: 'node-a', deliver: (items) => void second.push(...items.map((item) => item.message_id)) });
    await until(() => second.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(first).toEqual([before]);
    expect(second).toEqual(meanwhile);
    // A reader seen for the first time starts at the newest message.
    const fresh: string[] = [];
    const other = await t.workspace.followAccepted({ reader: 'node-b', deliver: (items) => void fresh.push(...items.map((item) => item.message_id)) });
    const latest = await idOf(post('four'));
    await until(() => fresh.length === 1 && second.length === 3);
    expect(fresh).toEqual([latest]);
    await Promise.all([again.stop(), other.stop()]);
  });

  it('a reader moved past what it skipped (nothing wired to it) hands over only what comes after', async () => {
    await t.workspace.followAccepted({ reader: 'node-c', deliver: () => undefined }).then((reader) => reader.stop());
    await idOf(post('while nothing was wired'));
    await t.workspace.skipAccepted('node-c');
    const seen: string[] = [];
    const reader = await t.workspace.followAccepted({ reader: 'node-c', deliver: (items) => void seen.push(...items.map((item) => item.message_id)) });
    const after = await idOf(post('once wired'));
    await until(() => seen.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([after]);
    await reader.stop();
  });

  it('keeps at most `concurrency` deliveries running, one request each, in order, and follows one entry point', async () => {
    const started: string[] = [];
    const finish: (() => void)[] = [];
    const reader = await t.workspace.followAccepted({
      reader: 'n8n',
      via: 'port',
      perDelivery: 1,
      concurrency: 2,
      deliver: (items) => {
        started.push(...items.map((item) => item.message_id));
        return new Promise<void>((resolve) => finish.push(resolve));
      },
    });
    const token = t.workspace.webhookState().token;
    const viaPort = (text: string) =>
      handleWebhookCall(t.workspace, { method: 'POST', contentType: 'application/json', body: JSON.stringify({ action: 'send', phone: '+14151231234', text }), token, remoteAddress: null, via: 'port' });
    const ids = [await idOf(viaPort('a')), await idOf(post('not via the port')), await idOf(viaPort('b')), await idOf(viaPort('c'))];
    await until(() => started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(started).toEqual([ids[0], ids[2]]);
    finish.shift()!();
    await until(() => started.length === 3);
    expect(started).toEqual([ids[0], ids[2], ids[3]]);
    // Stopped while two deliveries still run (they never end): the next start hands those over again.
    await reader.stop();
    const again: string[] = [];
    const restarted = await t.workspace.followAccepted({ reader: 'n8n', via: 'port', perDelivery: 1, concurrency: 8, deliver: (items) => void again.push(...items.map((item) => item.message_id)) });
    await until(() => again.length === 2);
    expect(again).toEqual([ids[2], ids[3]]);
    await restarted.stop();
  }, 15_000);
});

describe('feedFollowing', () => {
  it('follows everything under the node’s name on a store of one process', () => {
    expect(feedFollowing(false, 'node-red:abc', 'node-red:n1')).toEqual({ reader: 'node-red:n1' });
  });

  it('follows what its own process took, from a position of its own, on a store several processes share', () => {
    const first = feedFollowing(true, 'node-red:abc', 'node-red:n1');
    const second = feedFollowing(true, 'node-red:def', 'node-red:n1');
    expect(first).toEqual({ reader: 'node-red:n1@node-red:abc', via: 'node-red:abc' });
    expect(second.reader).not.toBe(first.reader);
    expect(second.via).not.toBe(first.via);
  });
});
