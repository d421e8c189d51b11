import type { Account, AccountKind, Attempt, Chat } from '../model';
import type { PublishedWebhook } from '../webhook/urls';
import type { DryRunRecord, StoredInbound } from './types';

/**
 * The rows both stores keep (same columns in SQLite and PostgreSQL), and the values they are read as.
 * SQLite has no boolean type: flags come back as 0/1 there and as booleans from PostgreSQL.
 */
type Flag = number | boolean;

const isSet = (flag: Flag): boolean => flag === true || flag === 1;

export interface AccountRow {
  id: string;
  kind: string;
  phone: string | null;
  name: string | null;
  created_at: number;
  connected_at: number | null;
  active: Flag;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    kind: row.kind as AccountKind,
    phone: row.phone,
    name: row.name,
    createdAt: row.created_at,
    connectedAt: row.connected_at,
    active: isSet(row.active),
  };
}

export interface ChatRow {
  chat_id: number;
  account_id: string;
  jid: string;
  name: string | null;
  is_group: Flag;
  updated_at: number;
}

export function toChat(row: ChatRow): Chat {
  return {
    chatId: String(row.chat_id),
    accountId: row.account_id,
    jid: row.jid,
    name: row.name,
    isGroup: isSet(row.is_group),
    updatedAt: row.updated_at,
  };
}

export interface AttemptRow {
  seq: number;
  at: number;
  remote_address: string | null;
  request: string;
  status: number;
  response: string;
  message_id: string | null;
  notes: string | null;
  outcome: string | null;
  outcome_at: number | null;
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    seq: row.seq,
    at: row.at,
    remoteAddress: row.remote_address,
    request: row.request,
    status: row.status,
    response: row.response,
    messageId: row.message_id,
    notes: row.notes,
    outcome: row.outcome,
    outcomeAt: row.outcome_at,
  };
}

export interface DryRunRow {
  id: string;
  account_id: string;
  jid: string;
  kind: string;
  text: string | null;
  file_name: string | null;
  mimetype: string | null;
  bytes: number | null;
  first_at: number;
  times: number;
}

export function toDryRunRecord(row: DryRunRow): DryRunRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    jid: row.jid,
    kind: row.kind,
    text: row.text,
    fileName: row.file_name,
    mimetype: row.mimetype,
    bytes: row.bytes,
    at: row.first_at,
    times: row.times,
  };
}

export interface WebhookUrlRow {
  flow_id: string;
  node_id: string;
  label: string;
  url_template: string;
  dedicated_url_template: string | null;
  link_url_template: string | null;
  published_at: number;
}

export function toWebhookUrl(row: WebhookUrlRow): PublishedWebhook & { readonly publishedAt: number } {
  return {
    flowId: row.flow_id,
    nodeId: row.node_id,
    label: row.label,
    urlTemplate: row.url_template,
    dedicatedUrlTemplate: row.dedicated_url_template,
    linkUrlTemplate: row.link_url_template,
    publishedAt: row.published_at,
  };
}

export interface InboundRow {
  seq: number;
  account_id: string;
  id: string;
  chat_jid: string;
  at: number;
  received_at: number;
  body: string;
  reference: string;
  via: string | null;
}

export function toInbound(row: InboundRow): StoredInbound {
  return {
    seq: row.seq,
    accountId: row.account_id,
    id: row.id,
    chatJid: row.chat_jid,
    at: row.at,
    receivedAt: row.received_at,
    body: row.body,
    reference: row.reference,
    ...(row.via === null ? {} : { via: row.via }),
  };
}
