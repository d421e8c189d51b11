import { join } from 'node:path';
import type { SendRequest } from '../../shared/contract/types';
import type { Account } from '../../shared/model';
import { chooseAccount } from '../../shared/recipients/accounts';
import { ChatDirectory } from '../../shared/recipients/directory';
import { resolveRecipient } from '../../shared/recipients/resolve';
import { SqliteStore } from '../../shared/store/sqlite';
import { tempDir } from '../support/temp';

const account = (id: string, phone: string, connectedAt: number | null, active = true): Account => ({
  id,
  kind: 'dry-run',
  phone,
  name: null,
  createdAt: 1,
  connectedAt,
  active,
});

const request = (recipient: SendRequest['recipient'], accountPhone?: string): SendRequest => ({
  text: 'hi',
  recipient,
  ...(accountPhone === undefined ? {} : { accountPhone }),
  unusedRecipientFields: [],
  ignoredFields: [],
});

describe('chooseAccount', () => {
  const older = account('a', '15105566777', 100);
  const newer = account('b', '447700900123', 200);
  const loggedOut = account('c', '4915112345678', 300, false);

  it('takes the named account', () => {
    expect(chooseAccount([older, newer], '15105566777')).toEqual({ ok: true, value: older });
  });

  it('defaults to the most recently connected active account', () => {
    expect(chooseAccount([older, newer, loggedOut], undefined)).toEqual({ ok: true, value: newer });
    expect(chooseAccount([account('x', '1', null), older], undefined)).toEqual({ ok: true, value: older });
  });

  it('refuses an unknown account phone, a workspace without accounts and one without active accounts', () => {
    expect(chooseAccount([older], '19999999999')).toEqual({
      ok: false,
      rejection: {
        status: 422,
        field: 'whatsapp_account_phone',
        message: 'Field "whatsapp_account_phone" is +19999999999, which is not a WhatsApp account of this workspace.',
      },
    });
    expect(chooseAccount([], undefined)).toEqual({
      ok: false,
      rejection: { status: 422, message: 'This workspace has no WhatsApp account yet: link a phone (or add a dry-run account) before sending.' },
    });
    expect(chooseAccount([loggedOut], undefined)).toEqual({
      ok: false,
      rejection: { status: 422, message: 'No WhatsApp account of this workspace is active: link a phone again before sending.' },
    });
  });
});

describe('resolveRecipient', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let directory: ChatDirectory;
  const first = account('first', '15105566777', 100);
  const second = account('second', '447700900123', 200);
  const accounts = [first, second];

  beforeAll(async () => {
    dir = tempDir();
    store = new SqliteStore({ path: join(dir.path, 'r.sqlite') });
    directory = await ChatDirectory.load(store.chats);
    await directory.upsert('first', [
      { jid: '14151231234@s.whatsapp.net', name: 'Alice' },
      { jid: '120363025246125486@g.us', name: 'Sales team' },
    ], 1);
    await directory.upsert('second', [
      { jid: '447700900999@s.whatsapp.net', name: 'Sales team' },
      { jid: '447700900888@s.whatsapp.net', name: 'Bob' },
    ], 1);
  });
  afterAll(async () => {
    await store.close();
    dir.cleanup();
  });

  it('uses a chat id with its own account, ignoring the account phone', () => {
    const group = directory.findByJid('first', '120363025246125486@g.us')!;
    expect(resolveRecipient(request({ field: 'chat_id', value: group.chatId }, '447700900123'), accounts, directory)).toEqual({
      ok: true,
      value: { account: first, jid: '120363025246125486@g.us' },
    });
  });

  it('refuses an unknown chat id', () => {
    expect(resolveRecipient(request({ field: 'chat_id', value: '999999' }), accounts, directory)).toEqual({
      ok: false,
      rejection: {
        status: 422,
        field: 'chat_id',
        message: 'Field "chat_id" is 999999, but no chat with that id exists in this workspace; list the chats to find its id.',
      },
    });
  });

  it('sends to a JID from the chosen account, and to a phone with the JID left for sending time', () => {
    expect(resolveRecipient(request({ field: 'jid', value: '14151231234@s.whatsapp.net' }), accounts, directory)).toEqual({
      ok: true,
      value: { account: second, jid: '14151231234@s.whatsapp.net' },
    });
    expect(resolveRecipient(request({ field: 'phone', value: '14151231234' }, '15105566777'), accounts, directory)).toEqual({
      ok: true,
      value: { account: first, jid: null },
    });
  });

  it('finds a unique chat name across accounts, or within the named account', () => {
    expect(resolveRecipient(request({ field: 'chat_name', value: 'Bob' }), accounts, directory)).toEqual({
      ok: true,
      value: { account: second, jid: '447700900888@s.whatsapp.net' },
    });
    expect(resolveRecipient(request({ field: 'chat_name', value: 'Sales team' }, '15105566777'), accounts, directory)).toEqual({
      ok: true,
      value: { account: first, jid: '120363025246125486@g.us' },
    });
  });

  it('refuses an ambiguous or unknown chat name, and a name with an unknown account', () => {
    expect(resolveRecipient(request({ field: 'chat_name', value: 'Sales team' }), accounts, directory)).toEqual({
      ok: false,
      rejection: { status: 422, field: 'chat_name', message: 'Field "chat_name" matches 2 chats named "Sales team"; use "chat_id" to choose one.' },
    });
    expect(resolveRecipient(request({ field: 'chat_name', value: 'sales team' }), accounts, directory)).toEqual({
      ok: false,
      rejection: { status: 422, field: 'chat_name', message: 'Field "chat_name" is "sales team", but no chat has exactly that name in this workspace.' },
    });
    expect(resolveRecipient(request({ field: 'chat_name', value: 'Bob' }, '19999999999'), accounts, directory)).toMatchObject({
      ok: false,
      rejection: { status: 422, field: 'whatsapp_account_phone' },
    });
  });

  it('re-indexes a renamed chat under its new name only', async () => {
    await directory.upsert('second', [{ jid: '447700900888@s.whatsapp.net', name: 'Robert' }], 2);
    expect(directory.findByName('Bob')).toEqual([]);
    expect(directory.findByName('Robert')).toHaveLength(1);
    const reloaded = await ChatDirectory.load(store.chats);
    expect(reloaded.findByName('Robert')[0]!.chatId).toBe(directory.findByName('Robert')[0]!.chatId);
  });
});
