import type { DatabaseSync } from 'node:sqlite';
import type { Chat, ChatInput } from '../../model';
import type { ChatRepository } from '../types';
import { inTransaction } from './database';
import { toChat, type ChatRow } from '../rows';



export class SqliteChatRepository implements ChatRepository {
  private readonly upsertOne;
  private readonly selectAll;

  constructor(private readonly db: DatabaseSync) {
    // A chat keeps its id forever; a later name (e.g. a contact renamed on the phone) replaces the old one,
    // but an unnamed update never erases a known name.
    this.upsertOne = db.prepare(
      `INSERT INTO chats (account_id, jid, name, is_group, updated_at) VALUES ($accountId, $jid, $name, $isGroup, $now)
       ON CONFLICT (account_id, jid) DO UPDATE SET name = coalesce($name, name), updated_at = $now
       RETURNING *`,
    );
    this.selectAll = db.prepare('SELECT * FROM chats ORDER BY chat_id');
  }

  async upsert(accountId: string, chats: readonly ChatInput[], now: number): Promise<Chat[]> {
    return inTransaction(this.db, () =>
      chats.map((chat) =>
        toChat(
          this.upsertOne.get({
            accountId,
            jid: chat.jid,
            name: chat.name,
            isGroup: chat.jid.endsWith('@g.us') ? 1 : 0,
            now,
          }) as unknown as ChatRow,
        ),
      ),
    );
  }

  async all(): Promise<Chat[]> {
    return (this.selectAll.all() as unknown as ChatRow[]).map(toChat);
  }
}
