import { CHANGES_KEPT, type StoreChange, type WorkspaceStore } from '../../shared/store/types';
import { Workspace } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { STORE_KINDS, type StorePlace } from '../support/store-kinds';

const accountChange = (accountId: string, at: number): StoreChange => ({ kind: 'account', accountId, state: 'open', detail: null, at });

describe.each(STORE_KINDS)('the change feed of the $name store', (kind) => {
  let place: StorePlace;
  let store: WorkspaceStore;

  beforeEach(() => {
    place = kind.place();
    store = place.open();
  });

  afterEach(async () => {
    await place.cleanup();
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
    store = place.open();
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

describe.each(STORE_KINDS)('a workspace writes its changes to the feed of the $name store', (kind) => {
  it("records a message's lifecycle in order, as its listeners heard it", async () => {
    const place = kind.place();
    const workspace = await Workspace.open({ store: place.open(), pacing: { gap: { minMs: 0, maxMs: 0 } } });
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
    const store = place.open();
    const { changes } = await store.changes.after(0, 100);
    const lifecycle = changes.flatMap((change) => (change.kind === 'message' && change.change.messageId === accepted.value.messageId ? [change.change.status] : []));
    expect(lifecycle).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(lifecycle).toEqual(heard);
    // Besides the message's lifecycle: the new account (other processes read the list again), then its state
    // once this workspace holds it.
    expect(changes.filter((change) => change.kind !== 'message').map((change) => change.kind)).toEqual(['accounts', 'account']);
    expect(changes.every((change) => change.kind !== 'message' || change.change.accountId === account.id)).toBe(true);
    await place.cleanup();
  });
});

describe.each(STORE_KINDS)('what a workspace keeps in memory is refreshed from the $name store', (kind) => {
  it('sees the rotation, accounts and chats another workspace on the same place made, once refreshed', async () => {
    const place = kind.place();
    const engine = await Workspace.open({ store: place.open() });
    // A second process on the same place, as a command-line link beside a running engine opens it.
    const other = await Workspace.open({ store: place.open(), connectAccounts: false });
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
    await place.cleanup();
  });
});
