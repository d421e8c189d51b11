import type { Chat, ChatInput } from '../model';
import type { ChatRepository } from '../store/types';

/**
 * Every chat the workspace knows, indexed in memory for the accept path: by chat id, by exact name and
 * by (account, JID). The store stays the source of truth; writes go through it first.
 */
export class ChatDirectory {
  private readonly byId = new Map<string, Chat>();
  private readonly byName = new Map<string, Chat[]>();
  private readonly byAccountJid = new Map<string, Chat>();
  private changed: () => void = () => undefined;

  private constructor(private readonly repository: ChatRepository) {}

  static async load(repository: ChatRepository): Promise<ChatDirectory> {
    const directory = new ChatDirectory(repository);
    for (const chat of await repository.all()) directory.index(chat);
    return directory;
  }

  /** Called after each upsert that stored chats (other processes then read the directory again). */
  onChange(listener: () => void): void {
    this.changed = listener;
  }

  /** Reads every chat again (another process added or renamed some): the store is the source of truth. */
  async refresh(): Promise<void> {
    const chats = await this.repository.all();
    this.byId.clear();
    this.byName.clear();
    this.byAccountJid.clear();
    for (const chat of chats) this.index(chat);
  }

  async upsert(accountId: string, chats: readonly ChatInput[], now: number): Promise<Chat[]> {
    const stored = await this.repository.upsert(accountId, chats, now);
    for (const chat of stored) this.index(chat);
    if (stored.length > 0) this.changed();
    return stored;
  }

  get(chatId: string): Chat | undefined {
    return this.byId.get(chatId);
  }

  /** Chats whose name is exactly `name`, optionally of one account. */
  findByName(name: string, accountId?: string): readonly Chat[] {
    const chats = this.byName.get(name) ?? [];
    return accountId === undefined ? chats : chats.filter((chat) => chat.accountId === accountId);
  }

  findByJid(accountId: string, jid: string): Chat | undefined {
    return this.byAccountJid.get(accountKey(accountId, jid));
  }

  list(accountId?: string): Chat[] {
    const chats = [...this.byId.values()];
    return accountId === undefined ? chats : chats.filter((chat) => chat.accountId === accountId);
  }

  get size(): number {
    return this.byId.size;
  }

  private index(chat: Chat): void {
    const previous = this.byId.get(chat.chatId);
    if (previous?.name != null) this.unindexName(previous);
    this.byId.set(chat.chatId, chat);
    this.byAccountJid.set(accountKey(chat.accountId, chat.jid), chat);
    if (chat.name != null) {
      const named = this.byName.get(chat.name);
      if (named) named.push(chat);
      else this.byName.set(chat.name, [chat]);
    }
  }

  private unindexName(chat: Chat): void {
    const remaining = (this.byName.get(chat.name!) ?? []).filter((other) => other.chatId !== chat.chatId);
    if (remaining.length > 0) this.byName.set(chat.name!, remaining);
    else this.byName.delete(chat.name!);
  }
}

function accountKey(accountId: string, jid: string): string {
  return `${accountId}\n${jid}`;
}
