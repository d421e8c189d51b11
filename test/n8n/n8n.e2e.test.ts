/**
 * End to end in a real n8n 2.40.7 on Node 24 (installed by scripts/n8n-install.sh): loads the built
 * package through N8N_CUSTOM_EXTENSIONS, imports credentials and workflows with n8n's CLI, publishes
 * them, starts n8n and talks to it over HTTP only. Dry-run accounts: nothing reaches WhatsApp.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { tempDir } from '../support/temp';
import { CONCURRENT_EXECUTIONS } from '../../nodes/n8n/common/executions';
import { harness, startImported, type N8nInstance } from './e2e-harness';
import { credentials, dedicatedPortWorkflow, DRY_RUN_PHONE, PASS_WEBHOOK_ID, QUEUE_WEBHOOK_ID, QUOTA_TOKEN, QUOTA_WEBHOOK_ID, TOKEN, workflows } from './e2e-workflows';

const EXAMPLE_1 = ['{', '"action": "send",', '"whatsapp account phone" : "+15105566777",\u00a0', '"phone": "+14151231234",\u00a0', '"text": "lorem ipsum"', '}'].join('\n');
const EXAMPLE_2 = ['{', '"action": "send",\u00a0', '"chat_id": "77234",\u00a0', '"text": "lorem ipsum"', '"file_url" : "https://timelines.ai/logo.png",', '"file_name" : "logo.png"', '}'].join('\n');
const SEND = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hello from n8n' });
const MESSAGE_ID = /^wa_backend:3EB0[0-9A-F]{18}$/;

jest.setTimeout(240_000);

const dir = tempDir('wahook-n8n-e2e-');
let n8n: N8nInstance;
let token = TOKEN;
let userFolder = '';
let dedicatedPort = 0;
const startedAt = Date.now();

beforeAll(async () => {
  // No silent skip: a missing n8n or build fails the suite with what to run (startImported checks both).
  dedicatedPort = await harness.freePort();
  ({ n8n, userFolder } = await startImported(dir.path, credentials, [...workflows, dedicatedPortWorkflow(dedicatedPort)]));
  await workflowsActive();
});

/** n8n reports ready before it has activated every workflow: wait until each webhook answers as ours. */
async function workflowsActive(): Promise<void> {
  const ours = async () =>
    (await Promise.all([queueUrl('probe'), passUrl('probe'), `${QUOTA_WEBHOOK_ID}/whatsapp-quota/probe`].map((url) => post(url, '{}')))).every(
      (answer) => answer.status === 404 && (answer.body as { data?: unknown }).data !== undefined,
    ) &&
    (await post('manage-enabled', JSON.stringify({ enabled: true }))).status === 200 &&
    (await fetch(`http://127.0.0.1:${dedicatedPort}/whatsapp/probe`, { method: 'POST' }).then((answer) => answer.status, () => 0)) === 404;
  const until = Date.now() + 60_000;
  while (!(await ours())) {
    if (Date.now() > until) throw new Error(`The imported workflows were not active within 60 s:\n${n8n.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

afterAll(async () => {
  await n8n?.stop();
  dir.cleanup();
  process.stdout.write(`n8n end-to-end: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including install checks, imports and start\n`);
});

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function post(path: string, body: string, contentType = 'application/json', method = 'POST'): Promise<Answer> {
  const response = await fetch(`${n8n.url}/webhook/${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(method === 'GET' ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const queueUrl = (t = token) => `${QUEUE_WEBHOOK_ID}/whatsapp/${t}`;
const passUrl = (t = token) => `${PASS_WEBHOOK_ID}/whatsapp-pass/${t}`;
const error = (status: number, message: string) => ({ status, data: {}, message });

describe('the seed examples, as printed', () => {
  it('Example 1 is accepted with a message id', async () => {
    const answer = await post(queueUrl(), EXAMPLE_1);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(MESSAGE_ID) } });
  });

  it('Example 2 is refused where its JSON breaks', async () => {
    expect(await post(queueUrl(), EXAMPLE_2)).toMatchObject({
      status: 400,
      body: error(400, "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1."),
    });
  });
});

describe('every status of the spec, with its body', () => {
  it('404 for a wrong token', async () => {
    expect(await post(queueUrl('wrong-token'), SEND)).toMatchObject({ status: 404, body: error(404, 'Webhook not found') });
  });

  it('405 with Allow: POST', async () => {
    const answer = await post(queueUrl(), '', 'application/json', 'GET');
    expect(answer).toMatchObject({ status: 405, body: error(405, 'Method GET is not allowed: send the request with POST.') });
    expect(answer.headers.get('allow')).toBe('POST');
  });

  it('415 for another content type', async () => {
    expect(await post(queueUrl(), SEND, 'text/plain')).toMatchObject({
      status: 415,
      body: error(415, 'The Content-Type header is "text/plain"; send the body as application/json.'),
    });
  });

  it('413 above 256 KiB', async () => {
    const big = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x'.repeat(262_144) });
    expect(await post(queueUrl(), big)).toMatchObject({
      status: 413,
      body: error(413, 'The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request.'),
    });
  });

  it('400 naming the field', async () => {
    expect(await post(queueUrl(), JSON.stringify({ action: 'send', phone: '12', text: 'x' }))).toMatchObject({
      status: 400,
      body: error(400, 'Field "phone" must be a phone number in international format with its country code, such as "+14151231234".'),
    });
  });

  it('422 for an unknown chat id', async () => {
    expect(await post(queueUrl(), JSON.stringify({ action: 'send', chat_id: 77234, text: 'hi' }))).toMatchObject({
      status: 422,
      body: error(422, 'Field "chat_id" is 77234, but no chat with that id exists in this workspace; list the chats to find its id.'),
    });
  });

  it('429 once the quota is spent (a workspace with one unit)', async () => {
    const url = `${QUOTA_WEBHOOK_ID}/whatsapp-quota/${QUOTA_TOKEN}`;
    expect((await post(url, SEND)).status).toBe(200);
    expect(await post(url, SEND)).toMatchObject({
      status: 429,
      body: error(429, 'Not enough messaging quota: 0 units are available and this request needs 1; nothing was queued.'),
    });
  });

  it('403 while disabled (through the WhatsApp node in a workflow), 200 again once enabled', async () => {
    expect(await post('manage-enabled', JSON.stringify({ enabled: false }))).toMatchObject({ status: 200, body: { enabled: false } });
    expect(await post(queueUrl(), SEND)).toMatchObject({ status: 403, body: error(403, 'Webhook disabled') });
    expect(await post('manage-enabled', JSON.stringify({ enabled: true }))).toMatchObject({ status: 200, body: { enabled: true } });
    expect((await post(queueUrl(), SEND)).status).toBe(200);
  });
});

describe('a Send step inside a real execution, on a dry-run account', () => {
  it('"Pass to workflow": the WhatsApp Send step sends and answers the call; the message is delivered', async () => {
    const answer = await post(passUrl(), JSON.stringify({ action: 'send', phone: '+14151231234', text: 'sent by a Send step', whatsapp_account_phone: DRY_RUN_PHONE }));
    expect(answer.status).toBe(200);
    const messageId = (answer.body as { data: { message_id: string } }).data.message_id;
    expect(messageId).toMatch(MESSAGE_ID);
    let status = '';
    for (let attempt = 0; attempt < 50 && status !== 'delivered'; attempt++) {
      const found = await post('manage-status', JSON.stringify({ message_id: messageId }));
      status = (found.body as { status: string }).status;
      if (status !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('delivered');
  });

  it('"Pass to workflow": a refusal from the Send step is answered with its status and sentence', async () => {
    expect(await post(passUrl(), JSON.stringify({ action: 'send', chat_id: 4, text: 'x' }))).toMatchObject({
      status: 422,
      body: error(422, 'Field "chat_id" is 4, but no chat with that id exists in this workspace; list the chats to find its id.'),
    });
  });

  it('"Pass to workflow": the trigger answers contract errors itself', async () => {
    expect(await post(passUrl(), EXAMPLE_2)).toMatchObject({ status: 400 });
    expect(await post(passUrl('nope'), SEND)).toMatchObject({ status: 404, body: error(404, 'Webhook not found') });
  });
});

describe('executions', () => {
  it('"Each message" starts one execution per accepted call; "Not at all" starts none', async () => {
    const before = executions();
    expect((await post(queueUrl(), SEND)).status).toBe(200);
    expect((await post(`${QUOTA_WEBHOOK_ID}/whatsapp-quota/${QUOTA_TOKEN}`, SEND)).status).toBe(429);
    let after = executions();
    // An execution's row appears when it starts; wait for it to finish too.
    const settled = () =>
      (after.wahookQueueWf01?.length ?? 0) > (before.wahookQueueWf01?.length ?? 0) && after.wahookQueueWf01!.every((status) => status !== 'new' && status !== 'running');
    for (let attempt = 0; attempt < 50 && !settled(); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = executions();
    }
    expect(after.wahookQueueWf01!.length).toBe((before.wahookQueueWf01?.length ?? 0) + 1);
    expect(after.wahookQueueWf01!.every((status) => status === 'success')).toBe(true);
    // The one-unit workspace's trigger emits nothing: its accepted and refused calls left no execution.
    expect(after.wahookQuotaWf01).toBeUndefined();
    expect(after.wahookPassWf001!.length).toBeGreaterThan(0);
  });
});

/** Executions n8n recorded per workflow, read from its own database. */
function executions(): Record<string, string[]> {
  const db = new DatabaseSync(join(userFolder, '.n8n', 'database.sqlite'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT workflowId, status FROM execution_entity').all() as { workflowId: string; status: string }[];
    const byWorkflow: Record<string, string[]> = {};
    for (const row of rows) (byWorkflow[row.workflowId] ??= []).push(row.status);
    return byWorkflow;
  } finally {
    db.close();
  }
}

describe('the Dedicated Port', () => {
  it('answers outside n8n and starts one execution per accepted call, more calls than it runs at once', async () => {
    // More calls than the trigger keeps running at once: the held ones start only if real n8n reports
    // the end of each execution back to the trigger.
    const calls = CONCURRENT_EXECUTIONS * 2 + 1;
    const answers = await Promise.all(
      Array.from({ length: calls }, () =>
        fetch(`http://127.0.0.1:${dedicatedPort}/whatsapp/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEND }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(calls).fill(200));
    const finished = () => (executions().wahookPortWf001 ?? []).filter((status) => status === 'success').length;
    const until = Date.now() + 60_000;
    while (finished() < calls && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(executions().wahookPortWf001).toEqual(Array(calls).fill('success'));
  });
});

describe('rotation', () => {
  it('Rotate Webhook URL makes the old URL answer 404 at once and the new one work', async () => {
    const rotated = await post('manage-rotate', '{}');
    expect(rotated.status).toBe(200);
    const next = (rotated.body as { token: string }).token;
    expect(next).not.toBe(token);
    expect(await post(queueUrl(token), SEND)).toMatchObject({ status: 404, body: error(404, 'Webhook not found') });
    expect(await post(passUrl(token), SEND)).toMatchObject({ status: 404 });
    token = next;
    expect((await post(queueUrl(), SEND)).status).toBe(200);
  });
});
