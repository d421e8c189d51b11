/** The recipient fields of the contract, in the order of precedence the spec gives. */
export const RECIPIENT_FIELDS = ['chat_id', 'jid', 'phone', 'chat_name'] as const;
export type RecipientField = (typeof RECIPIENT_FIELDS)[number];

/** The one recipient a request names, normalised. */
export interface RecipientRef {
  readonly field: RecipientField;
  /**
   * chat_id: decimal digits without leading zeros ("77234");
   * jid: lower-case, `@c.us` rewritten to `@s.whatsapp.net`;
   * phone: digits only, country code first, no "+" ("14151231234");
   * chat_name: exactly as sent.
   */
  readonly value: string;
}

/** A validated, normalised "send" request. */
export interface SendRequest {
  /** Plain text; may be "" only when `file` is present. */
  readonly text: string;
  /**
   * The file to send: one to download from `url`, or bytes an engine attached (a Node-RED Buffer, an n8n
   * binary property), which the workspace stores with the message.
   */
  readonly file?: { readonly url: string; readonly name: string } | { readonly attached: true; readonly name: string };
  readonly recipient: RecipientRef;
  /** Digits only, from `whatsapp_account_phone` or its spelling with spaces; absent when not given. */
  readonly accountPhone?: string;
  /** The received message this one replies to (its WhatsApp id), from `quoted_message_id`. */
  readonly quotedMessageId?: string;
  /** Recipient fields that were present but lost to one of higher precedence (noted in the attempt log). */
  readonly unusedRecipientFields: readonly RecipientField[];
  /** Unknown top-level fields, ignored so newer clients keep working (noted in the attempt log). */
  readonly ignoredFields: readonly string[];
}
