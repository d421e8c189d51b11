import type { MessagePart, MessageStatus, OutboxMessage } from '../model';
import type { RecipientField } from '../contract/types';

export interface MessageRow {
  seq: number;
  id: string;
  request_id: string;
  account_id: string;
  part: string;
  recipient_field: string;
  recipient_value: string;
  jid: string | null;
  text: string | null;
  file_url: string | null;
  file_name: string | null;
  status: string;
  reason: string | null;
  attempts: number;
  created_at: number;
  updated_at: number;
  not_before: number;
  quoted_id?: string | null;
}

export function toMessage(row: MessageRow): OutboxMessage {
  return {
    id: row.id,
    requestId: row.request_id,
    accountId: row.account_id,
    part: row.part as MessagePart,
    seq: row.seq,
    recipient: { field: row.recipient_field as RecipientField, value: row.recipient_value },
    jid: row.jid,
    text: row.text,
    fileUrl: row.file_url,
    fileName: row.file_name,
    status: row.status as MessageStatus,
    reason: row.reason,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    notBefore: row.not_before,
    quotedId: row.quoted_id ?? null,
  };
}
