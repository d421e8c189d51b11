/**
 * What WhatsApp would refuse that a request already shows, checked at acceptance: such a request gets a
 * 400 naming the field and the limit, never a message that fails later. One limit per field, for the
 * linked-phone (WhatsApp Web, Baileys) transport; docs/inbound-webhook.md lists them with their sources.
 */
export const WHATSAPP_LIMITS = {
  /**
   * A text message's length, counted in UTF-16 code units as JavaScript's `length` (an emoji outside the
   * basic plane counts 2, so the count is never below what WhatsApp counts). WhatsApp's apps and Web take
   * 65,536 characters in one message; the Cloud API's 4,096 belongs to that other product.
   */
  textLength: 65_536,
  /**
   * A file name's length in UTF-8 bytes: the recipient's phone saves a document under its name, and the
   * phones' file systems (ext4 and F2FS on Android, APFS on iOS) allow 255 bytes per name (NAME_MAX).
   */
  fileNameBytes: 255,
} as const;

/** The name's length as the limit counts it. */
export function fileNameBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}
