import type { ProtoMessage, WAMessageKey } from './baileys-module';

const RECENT_SENT_LIMIT = 500;

/**
 * What we sent, for a recipient device that asks for it again (Baileys' `getMessage`): our recent
 * messages as WhatsApp got them, for media resends (the outbox keeps only the file URL), and the
 * outbox's text for older ones.
 */
export class SentMessages {
  private readonly recent = new Map<string, ProtoMessage>();
  /** Ids handed to Baileys, answered or not: a send that timed out on our side may still go out and echo. */
  private readonly started = new Set<string>();

  constructor(private readonly messageText: (messageId: string) => Promise<string | undefined>) {}

  /** A send of this id begins. */
  starting(messageId: string): void {
    this.started.delete(messageId);
    this.started.add(messageId);
    if (this.started.size > RECENT_SENT_LIMIT) this.started.delete(this.started.values().next().value!);
  }

  remember(messageId: string, message: ProtoMessage): void {
    this.recent.set(messageId, message);
    if (this.recent.size > RECENT_SENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Whether we sent this id lately (WhatsApp echoes our own sends back as upserts). */
  has(messageId: string): boolean {
    return this.started.has(messageId) || this.recent.has(messageId);
  }

  async find(key: WAMessageKey): Promise<ProtoMessage | undefined> {
    if (!key.id) return undefined;
    const recent = this.recent.get(key.id);
    if (recent) return recent;
    const text = await this.messageText(key.id).catch(() => undefined);
    return text === undefined ? undefined : { conversation: text };
  }
}
