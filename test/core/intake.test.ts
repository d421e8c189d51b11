import type { SendRequest } from '../../shared/contract/types';
import { checkAttached } from '../../shared/intake/attached-file';
import { Intake, type IntakeDeps } from '../../shared/intake/intake';
import { buildMessages } from '../../shared/intake/messages';
import type { Account } from '../../shared/model';
import { ChatDirectory } from '../../shared/recipients/directory';
import type { AcceptInput, AcceptOutcome, WorkspaceStore } from '../../shared/store/types';

const NOW = Date.UTC(2026, 10, 28, 10);
const request: SendRequest = { text: 'hi', recipient: { field: 'phone', value: '14151231234' }, unusedRecipientFields: [], ignoredFields: [] };
const withFile: SendRequest = { ...request, file: { url: 'https://example.com/a.pdf', name: 'a.pdf' } };
const account: Account = { id: 'acc', kind: 'dry-run', phone: '15105566777', name: null, createdAt: 0, connectedAt: 1, active: true };
const source = { remoteAddress: '203.0.113.7', request: '{"phone":"+14151231234","text":"hi"}' };
const bytes = (size: number) => Buffer.alloc(size, 7);

/** An intake over a store whose accept answers `accept` and records what it was given. */
async function intakeWith(accept: (input: AcceptInput) => Promise<AcceptOutcome>, errors: unknown[] = []) {
  const given: AcceptInput[] = [];
  const store = {
    accept: (input: AcceptInput) => {
      given.push(input);
      return accept(input);
    },
  } as unknown as WorkspaceStore;
  const directory = await ChatDirectory.load({ all: async () => [], upsert: async () => [] });
  const deps: IntakeDeps = {
    store,
    directory,
    accounts: () => [account],
    quota: { period: 'daily', allowance: 10 },
    maxFileBytes: 1024,
    now: () => NOW,
    randomBytes: bytes,
    reportError: (error) => errors.push(error),
  };
  return { intake: new Intake(deps), given };
}

describe('intake', () => {
  it('builds the text part, then the file part under the same request id, with the feed on the first part only', () => {
    const [text, file] = buildMessages(withFile, { accountId: 'acc', jid: null }, NOW, bytes, { via: 'n1' });
    expect(text).toMatchObject({ part: 'text', text: 'hi', requestId: text!.id, fileUrl: null });
    expect(file).toMatchObject({ part: 'file', text: null, requestId: text!.id, fileUrl: 'https://example.com/a.pdf', fileName: 'a.pdf', feed: null });
    expect(file!.id).not.toBe(text!.id);
    expect(JSON.parse(text!.feed!)).toEqual({ file: withFile.file, recipient: request.recipient, unusedRecipientFields: [], ignoredFields: [], via: 'n1' });
    const [alone] = buildMessages({ ...withFile, text: '' }, { accountId: 'acc', jid: null }, NOW, bytes, undefined);
    expect(alone).toMatchObject({ part: 'file', requestId: alone!.id, feed: null });
  });

  it('refuses an attached file the request does not name, and the reverse', () => {
    const attached: SendRequest = { ...request, file: { attached: true, name: 'a.pdf' } };
    expect(checkAttached(request, { data: bytes(10) }, 1024)).toMatchObject({ ok: false, rejection: { status: 400, field: 'attachment' } });
    expect(checkAttached(attached, undefined, 1024)).toMatchObject({ ok: false, rejection: { status: 400, field: 'attachment' } });
    expect(checkAttached(attached, { data: bytes(2048) }, 1024)).toMatchObject({ ok: false, rejection: { status: 413 } });
    expect(checkAttached(request, undefined, 1024)).toEqual({ ok: true, value: undefined });
  });

  it('prepares one commit: messages, units, the period key and the accepted attempt', async () => {
    const { intake, given } = await intakeWith(async () => ({ accepted: true }));
    const prepared = intake.prepare(withFile, source, undefined, undefined);
    if (!prepared.ok) throw new Error(prepared.rejection.message);
    const { input, acceptance } = prepared.value;
    expect(input).toMatchObject({ units: 2, periodKey: '2026-11-28', now: NOW, quota: { period: 'daily', allowance: 10 } });
    expect(input.attempt).toMatchObject({ at: NOW, status: 200, messageId: acceptance.messageId, notes: 'recipient by phone' });
    expect(acceptance).toEqual({ messageId: input.messages[0]!.id, messages: input.messages, account, units: 2 });
    expect(await intake.commit(prepared.value)).toEqual({ kind: 'accepted', acceptance, at: NOW });
    expect(given).toEqual([input]);
  });

  it('answers a quota shortfall as a refusal, and a store fault as unrecorded (reported)', async () => {
    const short = await intakeWith(async () => ({ accepted: false, available: 1, needed: 2 }));
    const prepared = short.intake.prepare(withFile, source, undefined, undefined);
    if (!prepared.ok) throw new Error(prepared.rejection.message);
    expect(await short.intake.commit(prepared.value)).toMatchObject({ kind: 'refused', rejection: { status: 429 } });

    const errors: unknown[] = [];
    const faulty = await intakeWith(async () => {
      throw new Error('database or disk is full');
    }, errors);
    const again = faulty.intake.prepare(request, source, undefined, undefined);
    if (!again.ok) throw new Error(again.rejection.message);
    expect(await faulty.intake.commit(again.value)).toMatchObject({ kind: 'unrecorded', rejection: { status: 503 } });
    expect(errors.map(String)).toEqual(['Error: database or disk is full']);
  });
});
