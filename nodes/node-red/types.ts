import type { Node, NodeDef } from 'node-red';
import type { Workspace } from '../../shared';

/** The whatsapp-workspace config node as its users see it. */
export interface WorkspaceConfigNode extends Node {
  /** Resolves once the workspace is open (rejects with the reason it cannot open). */
  readonly workspace: Promise<Workspace>;
}

/** The config node's properties, as the editor saves them (all strings, empty meaning default). */
export interface WorkspaceConfigDef extends NodeDef {
  storeName: string;
  quotaAllowance: string;
  quotaPeriod: string;
  refundDelayMinutes: string;
  gapMinSeconds: string;
  gapMaxSeconds: string;
  capPerHour: string;
  capPerDay: string;
  allowPrivateFileUrls: boolean;
  dryRunPhones: string;
  initialToken: string;
}

export interface WebhookNodeDef extends NodeDef {
  workspace: string;
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
