import type { AuthKeyWrite, AuthStateRepository, DeviceState } from '../types';
import type { PgDatabase } from './database';

const NO_DEVICE_STATE: DeviceState = { pausedUntil: null, pauseReason: null, loggedOutAt: null };
/** The tables holding one account's auth and device state, cleared and moved together. */
const ACCOUNT_TABLES = ['auth_creds', 'auth_keys', 'device_state'] as const;

interface DeviceStateRow {
  paused_until: number | null;
  pause_reason: string | null;
  logged_out_at: number | null;
}

/** Baileys auth state of linked accounts, one row per creds and per signal key. */
export class PostgresAuthRepository implements AuthStateRepository {
  private readonly selectCreds: string;
  private readonly upsertCreds: string;
  private readonly selectKeys: string;
  private readonly selectKeysOfType: string;
  private readonly upsertKeys: string;
  private readonly deleteKeys: string;
  private readonly selectDevice: string;
  private readonly upsertDevice: string;
  private readonly clearStatements: readonly string[];
  private readonly moveStatements: readonly string[];

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    this.selectCreds = `SELECT creds FROM ${s}.auth_creds WHERE account_id = $1`;
    this.upsertCreds = `INSERT INTO ${s}.auth_creds (account_id, creds, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET creds = excluded.creds, updated_at = excluded.updated_at`;
    this.selectKeys = `SELECT id, value FROM ${s}.auth_keys WHERE account_id = $1 AND type = $2 AND id = ANY($3::text[])`;
    this.selectKeysOfType = `SELECT id, value FROM ${s}.auth_keys WHERE account_id = $1 AND type = $2`;
    this.upsertKeys = `INSERT INTO ${s}.auth_keys (account_id, type, id, value)
       SELECT $1::text, type, id, value FROM unnest($2::text[], $3::text[], $4::text[]) AS k(type, id, value)
       ON CONFLICT (account_id, type, id) DO UPDATE SET value = excluded.value`;
    this.deleteKeys = `DELETE FROM ${s}.auth_keys k USING unnest($2::text[], $3::text[]) AS d(type, id)
       WHERE k.account_id = $1 AND k.type = d.type AND k.id = d.id`;
    this.selectDevice = `SELECT paused_until, pause_reason, logged_out_at FROM ${s}.device_state WHERE account_id = $1`;
    this.upsertDevice = `INSERT INTO ${s}.device_state (account_id, paused_until, pause_reason, logged_out_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account_id) DO UPDATE SET paused_until = excluded.paused_until,
         pause_reason = excluded.pause_reason, logged_out_at = excluded.logged_out_at`;
    this.clearStatements = ACCOUNT_TABLES.map((table) => `DELETE FROM ${s}.${table} WHERE account_id = $1`);
    this.moveStatements = ACCOUNT_TABLES.map((table) => `UPDATE ${s}.${table} SET account_id = $2 WHERE account_id = $1`);
  }

  async readCreds(accountId: string): Promise<string | undefined> {
    return (await this.db.rows<{ creds: string }>(this.selectCreds, [accountId]))[0]?.creds;
  }

  async writeCreds(accountId: string, creds: string, now: number): Promise<void> {
    await this.db.run(this.upsertCreds, [accountId, creds, now]);
  }

  async readKeys(accountId: string, type: string, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.rows<{ id: string; value: string }>(this.selectKeys, [accountId, type, ids]);
    return new Map(rows.map((row) => [row.id, row.value]));
  }

  async listKeys(accountId: string, type: string): Promise<Map<string, string>> {
    const rows = await this.db.rows<{ id: string; value: string }>(this.selectKeysOfType, [accountId, type]);
    return new Map(rows.map((row) => [row.id, row.value]));
  }

  async writeKeys(accountId: string, writes: readonly AuthKeyWrite[]): Promise<void> {
    if (writes.length === 0) return;
    // The last write of each key is what writing them in order would leave; a statement cannot touch a row twice.
    const last = new Map<string, AuthKeyWrite>();
    for (const write of writes) last.set(`${write.type}\n${write.id}`, write);
    const kept = [...last.values()].filter((write) => write.value !== null);
    const deleted = [...last.values()].filter((write) => write.value === null);
    await this.db.transaction(async (tx) => {
      if (deleted.length > 0) await tx.run(this.deleteKeys, [accountId, deleted.map((w) => w.type), deleted.map((w) => w.id)]);
      if (kept.length > 0) await tx.run(this.upsertKeys, [accountId, kept.map((w) => w.type), kept.map((w) => w.id), kept.map((w) => w.value)]);
    });
  }

  async move(from: string, to: string): Promise<void> {
    if (from === to) return;
    await this.db.transaction(async (tx) => {
      for (const statement of this.clearStatements) await tx.run(statement, [to]);
      for (const statement of this.moveStatements) await tx.run(statement, [from, to]);
    });
  }

  async clear(accountId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const statement of this.clearStatements) await tx.run(statement, [accountId]);
    });
  }

  async readDeviceState(accountId: string): Promise<DeviceState> {
    const [row] = await this.db.rows<DeviceStateRow>(this.selectDevice, [accountId]);
    return row ? { pausedUntil: row.paused_until, pauseReason: row.pause_reason, loggedOutAt: row.logged_out_at } : NO_DEVICE_STATE;
  }

  async writeDeviceState(accountId: string, state: DeviceState): Promise<void> {
    await this.db.run(this.upsertDevice, [accountId, state.pausedUntil, state.pauseReason, state.loggedOutAt]);
  }
}
