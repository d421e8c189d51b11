import { Client, type ClientConfig } from 'pg';

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * LISTENs on one channel over a connection of its own, and calls `announced` on every notification and
 * after every (re)connect: a notification sent while it was disconnected is lost, so the caller reads
 * from its own cursor each time rather than trusting it saw them all. Reconnects with backoff; never
 * throws into the process (`onError` hears why it is reconnecting).
 */
export class ChannelListener {
  private client: Client | undefined;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly announced: () => void,
    private readonly onError: (error: unknown) => void,
  ) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client(this.config);
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.announced();
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the PostgreSQL connection for change notices ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
      this.retryMs = RETRY_MIN_MS;
      this.announced();
    } catch (error) {
      this.lost(client, error);
    }
  }

  private lost(client: Client, error: unknown): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.onError(error);
    client.end().catch(() => undefined);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
