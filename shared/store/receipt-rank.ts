/**
 * Receipt statuses in the order they move; a message only ever moves right (a late `delivered` after
 * `read` is ignored). `sending` ranks below `sent`: a receipt for a message still sending proves it sent.
 */
export const RECEIPT_RANK: Readonly<Record<string, number>> = { sending: -1, sent: 0, delivered: 1, read: 2, played: 3 };
