import { handleWebhookCall, type WebhookCall } from '../../shared/webhook/webhook';
import { until } from '../support/fake-transport';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';
import { SEED_EXAMPLE_1, SEED_EXAMPLE_2 } from '../support/seed-examples';


describe('handleWebhookCall: every status of the contract', () => {
  let t: TestWorkspace;
  let token: string;

  const call = (overrides: Partial<WebhookCall> = {}) =>
    handleWebhookCall(t.workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hello' }),
      token,
      remoteAddress: '203.0.113.7',
      ...overrides,
    });

  const queued = async () => (await t.workspace.store.outbox.countByStatus()).queued ?? 0;
  const totalMessages = async () =>
    Object.values(await t.workspace.store.outbox.countByStatus()).reduce((sum, n) => sum + (n ?? 0), 0);

  beforeEach(async () => {
    t = await openTestWorkspace({ quota: { period: 'none', allowance: 3 } });
    await t.workspace.addDryRunAccount('15105566777', 'Sales phone');
    token = t.workspace.webhookState().token;
  });
  afterEach(async () => {
    await t.close();
    expect(t.errors).toEqual([]);
  });

  it('200: accepts, answers the WhatsApp id it will send with, and sends it', async () => {
    const answer = await call();
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'success', data: { message_id: expect.stringMatching(/^wa_backend:3EB0[0-9A-F]{18}$/) } });
    const id = (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
    await until(async () => (await t.workspace.store.dryRun.list()).some((record) => record.id === id));
    const [record] = await t.workspace.store.dryRun.list();
    expect(record).toMatchObject({ id, jid: '14151231234@s.whatsapp.net', text: 'hello', kind: 'text' });
    const [attempt] = await t.workspace.attempts();
    expect(attempt).toMatchObject({ status: 200, remoteAddress: '203.0.113.7', messageId: id, notes: 'recipient by phone' });
  });

  it("200: the seed's Example 1 as printed, from the named account", async () => {
    const answer = await call({ body: SEED_EXAMPLE_1 });
    expect(answer.status).toBe(200);
    const id = (answer.body as { data: { message_id: string } }).data.message_id.slice('wa_backend:'.length);
    expect(await t.workspace.message(id)).toMatchObject({ accountId: 'dry-run-15105566777', recipient: { field: 'phone', value: '14151231234' } });
  });

  it('404: an unknown token learns nothing else, and is not logged', async () => {
    expect(await call({ token: 'nope', method: 'GET' })).toEqual({
      status: 404,
      headers: {},
      body: { status: 404, data: {}, message: 'Webhook not found' },
    });
    expect(await t.workspace.attempts()).toEqual([]);
  });

  it('404 at once for the old URL after "Generate new URL"; the new one works', async () => {
    await t.workspace.rotateWebhookToken();
    expect((await call()).status).toBe(404);
    expect((await call({ token: t.workspace.webhookState().token })).status).toBe(200);
  });

  it('403: a disabled webhook, until enabled again', async () => {
    await t.workspace.setWebhookEnabled(false);
    expect(await call()).toEqual({ status: 403, headers: {}, body: { status: 403, data: {}, message: 'Webhook disabled' } });
    await t.workspace.setWebhookEnabled(true);
    expect((await call()).status).toBe(200);
  });

  it('405 with Allow: POST for other methods', async () => {
    expect(await call({ method: 'GET', body: undefined })).toEqual({
      status: 405,
      headers: { Allow: 'POST' },
      body: { status: 405, data: {}, message: 'Method GET is not allowed: send the request with POST.' },
    });
  });

  it('415 for a body that is not application/json; any charset parameter is fine', async () => {
    expect(await call({ contentType: 'text/plain' })).toEqual({
      status: 415,
      headers: {},
      body: { status: 415, data: {}, message: 'The Content-Type header is "text/plain"; send the body as application/json.' },
    });
    expect((await call({ contentType: undefined })).body).toEqual({
      status: 415,
      data: {},
      message: 'The Content-Type header is missing; send the body as application/json.',
    });
    expect((await call({ contentType: 'Application/JSON; charset=UTF-8' })).status).toBe(200);
  });

  it('413 for a body over 256 KiB', async () => {
    const body = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x'.repeat(256 * 1024) });
    expect(await call({ body })).toEqual({
      status: 413,
      headers: {},
      body: { status: 413, data: {}, message: 'The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request.' },
    });
  });

  it("400: the seed's Example 2 as printed says where the JSON breaks", async () => {
    expect(await call({ body: SEED_EXAMPLE_2 })).toEqual({
      status: 400,
      headers: {},
      body: { status: 400, data: {}, message: "The body is not valid JSON: expected ',' or '}' after property value at line 5, column 1." },
    });
  });

  it('400: a field error names the field', async () => {
    expect((await call({ body: JSON.stringify({ action: 'send', phone: '12', text: 'hi' }) })).body).toEqual({
      status: 400,
      data: {},
      message: 'Field "phone" must be a phone number in international format with its country code, such as "+14151231234".',
    });
  });

  it("400: a text or file name over WhatsApp's limit names the field and the limit; nothing is queued or charged", async () => {
    const tooLong = [
      [
        { action: 'send', phone: '+14151231234', text: 'x'.repeat(70_000) },
        'Field "text" is 70000 characters long; WhatsApp accepts at most 65536 in one message.',
      ],
      [
        { action: 'send', phone: '+14151231234', text: 'hi', file_url: 'https://x.test/a.pdf', file_name: `${'a'.repeat(300)}.pdf` },
        'Field "file_name" is 304 bytes long in UTF-8; a file name may be at most 255 bytes, as the recipient\'s phone saves the file under it.',
      ],
    ] as const;
    for (const [payload, message] of tooLong) {
      expect(await call({ body: JSON.stringify(payload) })).toEqual({ status: 400, headers: {}, body: { status: 400, data: {}, message } });
    }
    expect(await totalMessages()).toBe(0);
    expect((await t.workspace.quota()).available).toBe(3);
    expect((await t.workspace.attempts()).map((attempt) => attempt.status)).toEqual([400, 400]);
    // At the limit, the same request is accepted.
    expect((await call({ body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'x'.repeat(65_536) }) })).status).toBe(200);
  });

  it('422: a recipient that resolves locally and does not exist', async () => {
    expect((await call({ body: JSON.stringify({ action: 'send', chat_id: 77234, text: 'hi' }) })).body).toEqual({
      status: 422,
      data: {},
      message: 'Field "chat_id" is 77234, but no chat with that id exists in this workspace; list the chats to find its id.',
    });
    expect(
      (await call({ body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hi', whatsapp_account_phone: '+447700900123' }) }))
        .status,
    ).toBe(422);
  });

  it('422 when the workspace has no account at all', async () => {
    await t.workspace.removeAccount('dry-run-15105566777');
    expect((await call()).body).toEqual({
      status: 422,
      data: {},
      message: 'This workspace has no WhatsApp account yet: link a phone (or add a dry-run account) before sending.',
    });
  });

  it('429 when the quota cannot cover the request, with nothing queued or charged', async () => {
    await t.workspace.setWebhookEnabled(true);
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const withFile = JSON.stringify({ action: 'send', phone: '+14151231234', text: 'hi', file_url: 'https://x.test/a.pdf', file_name: 'a.pdf' });
    const before = await totalMessages();
    expect(await call({ body: withFile })).toEqual({
      status: 429,
      headers: {},
      body: { status: 429, data: {}, message: 'Not enough messaging quota: 1 unit is available and this request needs 2; nothing was queued.' },
    });
    expect(await totalMessages()).toBe(before);
    expect((await t.workspace.quota()).available).toBe(1);
  });

  it('logs every refused call with its status, response and request', async () => {
    await call({ contentType: 'text/plain', body: 'hello' });
    const [attempt] = await t.workspace.attempts();
    expect(attempt).toMatchObject({
      status: 415,
      request: 'hello',
      response: JSON.stringify({ status: 415, data: {}, message: 'The Content-Type header is "text/plain"; send the body as application/json.' }),
      messageId: null,
    });
    expect(await queued()).toBe(0);
  });

  it('notes ignored fields and unused recipient fields in the attempt log', async () => {
    const body = JSON.stringify({ action: 'send', phone: '+14151231234', chat_name: 'Bob', text: 'hi', crm_id: 7 });
    expect((await call({ body })).status).toBe(200);
    const [attempt] = await t.workspace.attempts();
    expect(attempt!.notes).toBe('recipient by phone; also given, not used: chat_name; ignored fields: crm_id');
  });
});
