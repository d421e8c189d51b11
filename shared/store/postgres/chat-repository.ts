import type { Chat, ChatInput } from '../../model';
import type { ChatRepository } from '../types';
import type { PgDatabase } from './database';
import { toChat, type ChatRow } from '../rows';



export class PostgresChatRepository implements ChatRepository {
  private readonly upsertMany: string;
  private readonly selectAll: string;

  constructor(private readonly db: PgDatabase) {
    const s = db.schema.sql;
    // A chat keeps its id forever; a later name replaces the old one, but an unnamed update never erases
    // a known name. One statement for the whole list, rows in jid order so that two processes upserting
    // the same chats lock them in the same order.
    this.upsertMany = `INSERT INTO ${s}.chats AS c (account_id, jid, name, is_group, updated_at)
       SELECT $1::text, jid, name, jid LIKE '%@g.us', $4::bigint FROM unnest($2::text[], $3::text[]) AS u(jid, name) ORDER BY jid COLLATE "C"
       ON CONFLICT (account_id, jid) DO UPDATE SET name = coalesce(excluded.name, c.name), updated_at = excluded.updated_at
       RETURNING *`;
    this.selectAll = `SELECT * FROM ${s}.chats ORDER BY chat_id`;
  }

  async upsert(accountId: string, chats: readonly ChatInput[], now: number): Promise<Chat[]> {
    if (chats.length === 0) return [];
    // One row per jid (a statement cannot update a row twice): the last name given wins, as updates in order would.
    const names = new Map<string, string | null>();
    for (const chat of chats) names.set(chat.jid, chat.name ?? names.get(chat.jid) ?? null);
    const rows = await this.db.rows<ChatRow>(this.upsertMany, [accountId, [...names.keys()], [...names.values()], now]);
    const byJid = new Map(rows.map((row) => [row.jid, toChat(row)]));
    return chats.map((chat) => byJid.get(chat.jid)!);
  }

  async all(): Promise<Chat[]> {
    return (await this.db.rows<ChatRow>(this.selectAll)).map(toChat);
  }
}
