import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AuthKeyWrite, AuthStateRepository, DeviceState } from '../types';
import { inTransaction } from './database';

const NO_DEVICE_STATE: DeviceState = { pausedUntil: null, pauseReason: null, loggedOutAt: null };

interface DeviceStateRow {
  paused_until: number | null;
  pause_reason: string | null;
  logged_out_at: number | null;
}

/** Baileys auth state of linked accounts, one row per creds and per signal key. */
export class SqliteAuthRepository implements AuthStateRepository {
  private readonly selectCreds: StatementSync;
  private readonly upsertCreds: StatementSync;
  private readonly selectKey: StatementSync;
  private readonly selectKeysOfType: StatementSync;
  private readonly upsertKey: StatementSync;
  private readonly deleteKey: StatementSync;
  private readonly selectDevice: StatementSync;
  private readonly upsertDevice: StatementSync;
  private readonly clearStatements: readonly StatementSync[];
  private readonly moveStatements: readonly StatementSync[];

  constructor(private readonly db: DatabaseSync) {
    this.selectCreds = db.prepare('SELECT creds FROM auth_creds WHERE account_id = ?');
    this.upsertCreds = db.prepare(
      `INSERT INTO auth_creds (account_id, creds, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET creds = excluded.creds, updated_at = excluded.updated_at`,
    );
    this.selectKey = db.prepare('SELECT value FROM auth_keys WHERE account_id = ? AND type = ? AND id = ?');
    this.selectKeysOfType = db.prepare('SELECT id, value FROM auth_keys WHERE account_id = ? AND type = ?');
    this.upsertKey = db.prepare(
      `INSERT INTO auth_keys (account_id, type, id, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, type, id) DO UPDATE SET value = excluded.value`,
    );
    this.deleteKey = db.prepare('DELETE FROM auth_keys WHERE account_id = ? AND type = ? AND id = ?');
    this.selectDevice = db.prepare('SELECT paused_until, pause_reason, logged_out_at FROM device_state WHERE account_id = ?');
    this.upsertDevice = db.prepare(
      `INSERT INTO device_state (account_id, paused_until, pause_reason, logged_out_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET paused_until = excluded.paused_until,
         pause_reason = excluded.pause_reason, logged_out_at = excluded.logged_out_at`,
    );
    this.clearStatements = ['auth_creds', 'auth_keys', 'device_state'].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE account_id = ?`),
    );
    this.moveStatements = ['auth_creds', 'auth_keys', 'device_state'].map((table) =>
      db.prepare(`UPDATE ${table} SET account_id = $to WHERE account_id = $from`),
    );
  }

  async readCreds(accountId: string): Promise<string | undefined> {
    return (this.selectCreds.get(accountId) as { creds: string } | undefined)?.creds;
  }

  async writeCreds(accountId: string, creds: string, now: number): Promise<void> {
    this.upsertCreds.run(accountId, creds, now);
  }

  async readKeys(accountId: string, type: string, ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const id of ids) {
      const row = this.selectKey.get(accountId, type, id) as { value: string } | undefined;
      if (row) found.set(id, row.value);
    }
    return found;
  }

  async listKeys(accountId: string, type: string): Promise<Map<string, string>> {
    const rows = this.selectKeysOfType.all(accountId, type) as unknown as { id: string; value: string }[];
    return new Map(rows.map((row) => [row.id, row.value]));
  }

  async writeKeys(accountId: string, writes: readonly AuthKeyWrite[]): Promise<void> {
    if (writes.length === 0) return;
    inTransaction(this.db, () => {
      for (const { type, id, value } of writes) {
        if (value === null) this.deleteKey.run(accountId, type, id);
        else this.upsertKey.run(accountId, type, id, value);
      }
    });
  }

  async move(from: string, to: string): Promise<void> {
    if (from === to) return;
    inTransaction(this.db, () => {
      for (const statement of this.clearStatements) statement.run(to);
      for (const statement of this.moveStatements) statement.run({ from, to });
    });
  }

  async clear(accountId: string): Promise<void> {
    inTransaction(this.db, () => {
      for (const statement of this.clearStatements) statement.run(accountId);
    });
  }

  async readDeviceState(accountId: string): Promise<DeviceState> {
    const row = this.selectDevice.get(accountId) as DeviceStateRow | undefined;
    return row ? { pausedUntil: row.paused_until, pauseReason: row.pause_reason, loggedOutAt: row.logged_out_at } : NO_DEVICE_STATE;
  }

  async writeDeviceState(accountId: string, state: DeviceState): Promise<void> {
    this.upsertDevice.run(accountId, state.pausedUntil, state.pauseReason, state.loggedOutAt);
  }
}
