import { normalizeJid } from '../../contract/jid';
import type { ChatInput } from '../../model';
import type { BaileysEventMap, Contact, GroupMetadata, LIDMapping, WAMessage } from './baileys-module';

/** Where synced chats go: the workspace's chat directory, which assigns the chat ids. */
export interface DirectorySink {
  upsert(chats: readonly ChatInput[]): Promise<void>;
  /** The name the directory shows for a JID (null: known, unnamed; undefined: unknown chat). */
  nameOf(jid: string): string | null | undefined;
}

/**
 * The LID ↔ phone map. Incoming traffic is increasingly addressed by LID (a hidden-number id); people
 * send by phone number, so a chat is filed under its phone JID whenever the LID's phone is known.
 */
export class LidMap {
  private readonly phoneByLid = new Map<string, string>();
  private readonly lidByPhone = new Map<string, string>();

  add(lid: string | null | undefined, phone: string | null | undefined): void {
    const l = userJid(lid);
    const p = userJid(phone);
    if (!l?.endsWith('@lid') || !p?.endsWith('@s.whatsapp.net')) return;
    this.phoneByLid.set(l, p);
    this.lidByPhone.set(p, l);
  }

  phoneFor(lid: string): string | undefined {
    return this.phoneByLid.get(lid);
  }

  lidFor(phone: string): string | undefined {
    return this.lidByPhone.get(phone);
  }

  /** The JID a chat is filed under: normalised, and the phone JID for a LID whose phone is known. */
  preferred(jid: string | null | undefined): string | undefined {
    const normal = userJid(jid);
    if (!normal) return undefined;
    return normal.endsWith('@lid') ? (this.phoneByLid.get(normal) ?? normal) : normal;
  }

  get size(): number {
    return this.phoneByLid.size;
  }
}

/** `1234:5@s.whatsapp.net` → `1234@s.whatsapp.net`; undefined for broadcasts, newsletters and junk. */
export function userJid(jid: string | null | undefined): string | undefined {
  if (!jid) return undefined;
  return normalizeJid(jid.replace(/:\d+@/, '@'));
}

interface Candidate {
  name: string | null;
  /** A saved contact name, a group subject or a chat name; a push name is weak and never replaces one. */
  strong: boolean;
}

/**
 * Fills the chat directory from what Baileys reports (history sync, chats, contacts, groups, and the
 * chats of incoming messages), keeps the LID ↔ phone map, and keeps group metadata for
 * `cachedGroupMetadata`. Baileys keeps no chat store of its own in v7.
 */
export class DirectorySync {
  private readonly groups = new Map<string, GroupMetadata>();
  /** Names this sync has sent to the directory, so a later batch knows them before the write lands. */
  private readonly written = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: DirectorySink,
    readonly lids: LidMap,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** One batch of Baileys events; writes the chats it names in one store commit. */
  handle(events: Partial<BaileysEventMap>): void {
    const found = new Map<string, Candidate>();
    const history = events['messaging-history.set'];
    for (const mapping of history?.lidPnMappings ?? []) this.addMapping(mapping);
    const mapping = events['lid-mapping.update'];
    if (mapping) this.addMapping(mapping);
    // Contacts first: they carry the LID ↔ phone pairs the other events are filed by.
    for (const contact of [...(history?.contacts ?? []), ...(events['contacts.upsert'] ?? []), ...(events['contacts.update'] ?? [])]) {
      this.addContact(found, contact);
    }
    for (const chat of [...(history?.chats ?? []), ...(events['chats.upsert'] ?? []), ...(events['chats.update'] ?? [])]) {
      if (chat.id) note(found, this.lids.preferred(chat.id), chat.name ?? null, true);
    }
    for (const group of [...(events['groups.upsert'] ?? []), ...(events['groups.update'] ?? [])]) this.addGroup(found, group);
    for (const message of [...(history?.messages ?? []), ...(events['messages.upsert']?.messages ?? [])]) this.addMessage(found, message);
    for (const update of events['group-participants.update'] ? [events['group-participants.update']] : []) {
      // Membership changed: let Baileys fetch the group afresh once rather than send to a stale list.
      this.groups.delete(update.id);
    }
    this.write(found);
  }

  /** Groups at connect (`groupFetchAllParticipating`), which also primes the metadata cache. */
  addGroups(groups: Readonly<Record<string, GroupMetadata>>): void {
    const found = new Map<string, Candidate>();
    for (const group of Object.values(groups)) this.addGroup(found, group);
    this.write(found);
  }

  groupMetadata(jid: string): GroupMetadata | undefined {
    return this.groups.get(jid);
  }

  /** Resolves when every write so far is in the store (tests and orderly shutdown). */
  flushed(): Promise<void> {
    return this.writing;
  }

  private addMapping(mapping: LIDMapping): void {
    this.lids.add(mapping.lid, mapping.pn);
  }

  private addContact(found: Map<string, Candidate>, contact: Partial<Contact>): void {
    if (!contact.id) return;
    if (contact.id.endsWith('@lid')) this.lids.add(contact.id, contact.phoneNumber);
    else this.lids.add(contact.lid, contact.id);
    const jid = this.lids.preferred(contact.id);
    const saved = contact.name || contact.verifiedName;
    if (saved) note(found, jid, saved, true);
    else note(found, jid, contact.notify || null, false);
  }

  private addGroup(found: Map<string, Candidate>, group: Partial<GroupMetadata>): void {
    if (!group.id) return;
    const known = this.groups.get(group.id);
    if (group.participants) this.groups.set(group.id, { ...known, ...group } as GroupMetadata);
    else if (known) this.groups.set(group.id, { ...known, ...group });
    note(found, userJid(group.id), group.subject ?? null, group.subject !== undefined);
  }

  private addMessage(found: Map<string, Candidate>, message: WAMessage): void {
    const { key } = message;
    if (!key.remoteJid) return;
    this.lids.add(key.remoteJid, key.remoteJidAlt);
    this.lids.add(key.remoteJidAlt, key.remoteJid);
    this.lids.add(key.participant, key.participantAlt);
    this.lids.add(key.participantAlt, key.participant);
    const jid = this.lids.preferred(key.remoteJid);
    const isGroup = jid?.endsWith('@g.us') ?? false;
    // A push name names the sender: it can name a 1:1 chat, never a group.
    note(found, jid, !key.fromMe && !isGroup ? message.pushName || null : null, false);
  }

  private write(found: Map<string, Candidate>): void {
    const chats: ChatInput[] = [];
    for (const [jid, candidate] of found) {
      // A push name never replaces a name the directory already shows (a saved contact, a subject).
      const known = this.written.get(jid) ?? this.sink.nameOf(jid);
      if (!candidate.strong && typeof known === 'string') continue;
      chats.push({ jid, name: candidate.name });
      if (candidate.name) this.written.set(jid, candidate.name);
    }
    if (chats.length === 0) return;
    this.writing = this.writing.then(() => this.sink.upsert(chats)).catch(this.onError);
  }
}

/** Keeps the best name seen for a JID in this batch: a strong name beats a weak one, later beats earlier. */
function note(found: Map<string, Candidate>, jid: string | undefined, name: string | null, strong: boolean): void {
  if (!jid) return;
  const candidate: Candidate = { name: name || null, strong: strong && !!name };
  const previous = found.get(jid);
  if (!previous || candidate.strong || (!previous.strong && candidate.name)) found.set(jid, candidate);
}
