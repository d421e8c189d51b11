import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkspaceRegistry } from '../../shared/hosting/registry';
import { SqliteStore } from '../../shared/store/sqlite';
import { handleWebhookCall } from '../../shared/webhook/webhook';
import { Workspace, type WorkspaceOptions } from '../../shared/workspace/workspace';
import { until } from '../support/fake-transport';
import { FaultyFs } from '../support/faulty-fs';

/** How many times each failing open is tried: one leaked handle per try would show as N descriptors. */
const TRIES = 20;
const DRY_RUN_PHONE = '15105566777';
const ACCEPTED = 'accepted, delivered and recorded once';

/** Open file descriptors of this process, as the kernel counts them. */
const openFds = () => readdirSync('/proc/self/fd').length;

/**
 * The store's open and close paths on a real filesystem that refuses writes: a store that cannot open
 * must throw and keep no file open, so that the same process can open it again once the disk is back
 * (an engine retries a redeploy; a leaked handle would also pin the filesystem and its locks).
 */
describe('SQLite store file handles on a failed open', () => {
  let disk: FaultyFs;
  beforeAll(() => {
    disk = FaultyFs.mount(32 * 1024 * 1024);
  });
  afterEach(() => {
    if (disk?.isReadOnly()) disk.writable();
  });
  afterAll(() => {
    disk?.unmount();
  });

  const options = (store: SqliteStore, errors: unknown[]): WorkspaceOptions => ({
    store,
    quota: { period: 'none', allowance: 1000 },
    pacing: { gap: { minMs: 0, maxMs: 2 } },
    onError: (error) => errors.push(error),
  });

  /** A store with a dry-run account, created on the writable disk and closed again. */
  async function createStore(name: string): Promise<string> {
    const path = join(disk.path, name);
    const workspace = await Workspace.open(options(new SqliteStore({ path }), []));
    await workspace.addDryRunAccount(DRY_RUN_PHONE);
    await workspace.close();
    return path;
  }

  /**
   * Accepts one message through the webhook and waits until the dry-run account has recorded it; says
   * what happened, so that a test can report every step at once.
   */
  async function acceptOne(workspace: Workspace, text: string): Promise<string> {
    const answer = await handleWebhookCall(workspace, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
      token: workspace.webhookState().token,
      remoteAddress: '127.0.0.1',
    });
    if (answer.status !== 200) return `answered ${answer.status}: ${JSON.stringify(answer.body)}`;
    const id = (answer.body as { data: { message_id: string } }).data.message_id.replace('wa_backend:', '');
    await until(async () => (await workspace.store.outbox.get(id))?.status === 'delivered', 10_000);
    const recorded = (await workspace.store.dryRun.list()).filter((record) => record.id === id);
    return JSON.stringify(recorded.map((record) => [record.text, record.times])) === JSON.stringify([[text, 1]])
      ? ACCEPTED
      : `recorded as ${JSON.stringify(recorded)}`;
  }

  /** What a step threw, as one line. */
  const described = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

  it('throws on a read-only disk, leaks no descriptor, and opens and works in the same process once writable', async () => {
    const path = await createStore('direct.sqlite');
    disk.readOnly();
    expect(disk.isReadOnly()).toBe(true);

    const before = openFds();
    const failures: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      let opened: SqliteStore | undefined;
      try {
        opened = new SqliteStore({ path });
      } catch (error) {
        failures.push(described(error));
      }
      // A store that opened on a read-only disk is a failure of this test; close it so the count stays honest.
      await opened?.close();
    }
    const leakedByFailedOpens = openFds() - before;

    disk.writable();
    const errors: unknown[] = [];
    let reopened: string;
    try {
      const workspace = await Workspace.open(options(new SqliteStore({ path }), errors));
      try {
        reopened = await acceptOne(workspace, 'after the disk came back');
      } finally {
        await workspace.close();
      }
    } catch (error) {
      reopened = `failed: ${described(error)}`;
    }
    // Every step is reported together, so one run shows all that is wrong.
    expect({
      failedOpens: failures.length,
      firstError: failures[0],
      leakedByFailedOpens,
      reopened,
      leakedAfterClose: openFds() - before,
      errors: errors.map(described),
    }).toEqual({
      failedOpens: TRIES,
      firstError: expect.any(String),
      leakedByFailedOpens: 0,
      reopened: ACCEPTED,
      leakedAfterClose: 0,
      errors: [],
    });
  });

  it('a failed acquire through the workspace registry leaks nothing and does not poison the next acquire of the key', async () => {
    const path = await createStore('registry.sqlite');
    const registry = new WorkspaceRegistry();
    const key = `store:${path}`;
    const errors: unknown[] = [];
    disk.readOnly();

    const before = openFds();
    const failures: string[] = [];
    const keysAfterFailures = new Set<string>();
    for (let i = 0; i < TRIES; i++) {
      try {
        const lease = await registry.acquire(key, () => options(new SqliteStore({ path }), errors));
        await lease.release(); // it opened on a read-only disk: failedAcquires below then fails this test
      } catch (error) {
        failures.push(described(error));
      }
      for (const open of registry.openKeys()) keysAfterFailures.add(open);
    }
    const leakedByFailedAcquires = openFds() - before;

    disk.writable();
    let acquired: string;
    let keysWhileOpen: string[] = [];
    let shared: boolean | string = false;
    try {
      const lease = await registry.acquire(key, () => options(new SqliteStore({ path }), errors));
      try {
        keysWhileOpen = registry.openKeys();
        // A second user of the key shares the same workspace, as after any successful open.
        const second = await registry.acquire(key, () => {
          throw new Error('a second acquire of an open key must not open the store again');
        }).catch((error: unknown) => described(error));
        shared = typeof second === 'string' ? second : second.workspace === lease.workspace;
        if (typeof second !== 'string') await second.release();
        acquired = await acceptOne(lease.workspace, 'through the registry after the disk came back');
      } finally {
        await lease.release();
      }
    } catch (error) {
      acquired = `failed: ${described(error)}`;
    }
    expect({
      failedAcquires: failures.length,
      firstError: failures[0],
      keysAfterFailures: [...keysAfterFailures],
      leakedByFailedAcquires,
      acquired,
      keysWhileOpen,
      shared,
      keysAfterRelease: registry.openKeys(),
      leakedAfterRelease: openFds() - before,
      errors: errors.map(described),
    }).toEqual({
      failedAcquires: TRIES,
      firstError: expect.any(String),
      keysAfterFailures: [],
      leakedByFailedAcquires: 0,
      acquired: ACCEPTED,
      keysWhileOpen: [key],
      shared: true,
      keysAfterRelease: [],
      leakedAfterRelease: 0,
      errors: [],
    });
  });
});
