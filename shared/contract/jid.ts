// Contacts: <digits>@s.whatsapp.net (or the older @c.us); groups: <digits>@g.us or the older
// <creator>-<timestamp>@g.us; hidden-number contacts: <digits>@lid.
const JID = /^([0-9]+)@(s\.whatsapp\.net|c\.us|lid)$|^([0-9]+(?:-[0-9]+)?)@g\.us$/;

/**
 * Normalises a WhatsApp JID: trimmed, domain lower-cased, "@c.us" rewritten to "@s.whatsapp.net".
 * Returns undefined when the text is not a JID this service can send to.
 */
export function normalizeJid(input: string): string | undefined {
  const match = JID.exec(input.trim().toLowerCase());
  if (match === null) return undefined;
  const [, user, domain, group] = match;
  if (group !== undefined) return `${group}@g.us`;
  return `${user}@${domain === 'c.us' ? 's.whatsapp.net' : domain}`;
}
