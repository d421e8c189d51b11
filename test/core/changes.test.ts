import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { CHANGES_KEPT } from '../../shared/store/sqlite/change-repository';
import type { StoreChange } from '../../shared/store/types';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { tempDir } from '../support/temp';

const accountChange = (accountId: string, at: number): StoreChange => ({ kind: 'account', accountId, state: 'open', detail: null, at });

describe('the change feed of the SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;

  beforeEach(() => {
    dir = tempDir();
    store = new SqliteStore({ path: join(dir.path, 's.sqlite') });
  });

  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('hands changes back in order from a cursor, and survives a reopen', async () => {
    expect(await store.changes.head()).toBe(0);
    await store.changes.append([accountChange('a', 1), accountChange('b', 2), accountChange('c', 3)]);
    const first = await store.changes.after(0, 2);
    expect(first.changes.map((change) => change.kind === 'account' && change.accountId)).toEqual(['a', 'b']);
    const rest = await store.changes.after(first.cursor, 10);
    expect(rest.changes).toEqual([{ ...accountChange('c', 3), seq: 3 }]);
    expect(await store.changes.after(rest.cursor, 10)).toEqual({ changes: [], cursor: rest.cursor });
    await store.close();
    store = new SqliteStore({ path: join(dir.path, 's.sqlite') });
    expect(await store.changes.head()).toBe(3);
  });

  it(`keeps the newest ${CHANGES_KEPT} changes`, async () => {
    await store.changes.append(Array.from({ length: CHANGES_KEPT + 5 }, (_, i) => accountChange('a', i)));
    const { changes } = await store.changes.after(0, CHANGES_KEPT + 10);
    expect(changes).toHaveLength(CHANGES_KEPT);
    expect(changes[0]!.seq).toBe(6);
    expect(await store.changes.head()).toBe(CHANGES_KEPT + 5);
  });
});

describe('a workspace writes its changes to the feed', () => {
  it("records a message's lifecycle in order, as its listeners heard it", async () => {
    const dir = tempDir();
    const path = join(dir.path, 's.sqlite');
    const workspace = await Workspace.open({ store: new SqliteStore({ path }), pacing: { gap: { minMs: 0, maxMs: 0 } } });
    const heard: string[] = [];
    workspace.onMessageChange((change) => heard.push(change.status));
    const account = await workspace.addDryRunAccount('15105550123');
    const accepted = await workspace.accept(
      { recipient: { field: 'phone', value: '14155550100' }, text: 'hello', unusedRecipientFields: [], ignoredFields: [] } as never,
      { remoteAddress: null, request: '{}' },
    );
    if (!accepted.ok) throw new Error(accepted.rejection.message);
    await until(() => heard.includes('delivered'));
    await workspace.close();
    const store = new SqliteStore({ path });
    const { changes } = await store.changes.after(0, 100);
    const lifecycle = changes.flatMap((change) => (change.kind === 'message' && change.change.messageId === accepted.value.messageId ? [change.change.status] : []));
    expect(lifecycle).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(lifecycle).toEqual(heard);
    expect(changes.every((change) => change.kind === 'message' && change.change.accountId === account.id)).toBe(true);
    await store.close();
    dir.cleanup();
  });
});

describe('what a workspace keeps in memory is refreshed from the store', () => {
  it('sees the rotation, accounts and chats another workspace on the same file made, once refreshed', async () => {
    const dir = tempDir();
    const path = join(dir.path, 's.sqlite');
    const engine = await Workspace.open({ store: new SqliteStore({ path }) });
    // A second process on the same file, as a command-line link beside a running engine opens it.
    const other = await Workspace.open({ store: new SqliteStore({ path }), connectAccounts: false });
    const oldToken = engine.webhookState().token;
    const account = await engine.addDryRunAccount('15105550124');
    await engine.addChats(account.id, [{ jid: '120363000000000001@g.us', name: 'Ops' }]);
    const rotated = await engine.rotateWebhookToken();

    expect(other.checkToken(oldToken)).toBe('valid');
    expect(other.accounts()).toEqual([]);
    expect(other.chats()).toEqual([]);
    await other.refresh();
    expect(other.checkToken(oldToken)).toBe('unknown');
    expect(other.checkToken(rotated.token)).toBe('valid');
    expect(other.accounts().map((known) => known.id)).toEqual([account.id]);
    expect(other.chats().map((chat) => chat.name)).toEqual(['Ops']);

    await other.close();
    await engine.close();
    dir.cleanup();
  });
});
