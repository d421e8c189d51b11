import type { Node, NodeDef } from 'node-red';
import type { ScrapeToken, Workspace } from '../../shared';

/** What the config node keeps in Node-RED's credential store rather than the flow file. */
export interface WorkspaceConfigCredentials {
  pgPassword?: string;
  /** The scrape token of the workspace's /metrics and /healthz admin endpoints (see admin-routes.ts). */
  metricsToken?: string;
  /** The Cloud API number's secrets (its phone number ID is a plain property). */
  cloudApiAccessToken?: string;
  cloudApiAppSecret?: string;
  cloudApiVerifyToken?: string;
}

/** The whatsapp-workspace config node as its users see it. */
export interface WorkspaceConfigNode extends Node<WorkspaceConfigCredentials> {
  /**
   * Resolves once the workspace is open; while its store cannot open it keeps trying (see `problem`).
   * Rejects only for settings that do not parse.
   */
  readonly workspace: Promise<Workspace>;
  /** The store's key (its file, or its PostgreSQL database and schema), which names the workspace across redeploys. */
  readonly storeKey: string;
  /** Whether several processes may share the store (PostgreSQL): each then emits only what it took. */
  readonly sharedStore: boolean;
  /** Why the workspace is not open now (a sentence); undefined once it is. */
  readonly problem: () => string | undefined;
  /** The scrape token that opens /metrics and /healthz without editor auth; undefined when none is set. */
  readonly scrapeToken: ScrapeToken | undefined;
  /** Told each time `problem` changes. */
  readonly onProblem: (listener: (problem: string | undefined) => void) => () => void;
}

/** The config node's properties, as the editor saves them (all strings, empty meaning default). */
export interface WorkspaceConfigDef extends NodeDef {
  storeName: string;
  quotaAllowance: string;
  quotaPeriod: string;
  refundDelayMinutes: string;
  retentionDays?: string;
  gapMinSeconds: string;
  gapMaxSeconds: string;
  capPerMinute?: string;
  capPerHour: string;
  capPerDay: string;
  warmupDays?: string;
  warmupStartPercent?: string;
  allowPrivateFileUrls: boolean;
  dryRunPhones: string;
  initialToken: string;
  /** "sqlite" (or empty, as in flows saved before the choice existed) or "postgres". */
  storeKind?: string;
  pgHost?: string;
  pgPort?: string;
  pgDatabase?: string;
  pgUser?: string;
  /** "off", "require" or "verify". The password is a credential (`this.credentials.pgPassword`). */
  pgSsl?: string;
  pgSchema?: string;
  /** The WhatsApp Cloud API number's ID (digits); empty: none. */
  cloudApiPhoneNumberId?: string;
}

export interface WebhookNodeDef extends NodeDef {
  workspace: string;
  /** The nodes each output is wired to, as the editor saved them. */
  wires?: string[][];
}

export interface SendNodeDef extends NodeDef {
  workspace: string;
  phone: string;
  chatId: string;
  jid: string;
  chatName: string;
  accountPhone: string;
  text: string;
  fileUrl: string;
  fileName: string;
  statusOutput: boolean;
}

/** The whatsapp-in node's properties, as the editor saves them (see parseReceivedTriggerSettings). */
export interface InNodeDef extends NodeDef {
  workspace: string;
  accounts: string;
  chats: string;
  chatKinds: string;
  types: string;
  includeOwn: boolean;
  markRead: boolean;
  downloadMedia: boolean;
  maxMediaMB: string;
}
