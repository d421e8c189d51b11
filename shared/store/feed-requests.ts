import type { MessagePart } from '../model';
import type { FedRequest } from './types';

/** An outbox row as the feed reads it (every store selects these columns, by seq). */
export interface FeedRow {
  seq: number;
  id: string;
  request_id: string;
  account_id: string;
  part: string;
  text: string | null;
  feed: string | null;
  created_at: number;
}

/**
 * Rows in seq order → the feed's requests. A request's parts are consecutive rows with its id, the first
 * carrying the feed JSON; rows of requests the feed does not carry (a flow's sends) are passed over.
 */
export function groupRequests(rows: readonly FeedRow[], start: number): { requests: FedRequest[]; position: number } {
  const requests: (FedRequest & { expected: number })[] = [];
  for (const row of rows) {
    const current = requests.at(-1);
    if (row.feed !== null) {
      const rest = JSON.parse(row.feed) as { file?: unknown; via?: string };
      requests.push({
        from: row.seq,
        to: row.seq,
        requestId: row.request_id,
        accountId: row.account_id,
        parts: [{ id: row.id, part: row.part as MessagePart }],
        text: row.part === 'text' ? (row.text ?? '') : '',
        request: row.feed,
        ...(rest.via === undefined ? {} : { via: rest.via }),
        acceptedAt: row.created_at,
        expected: (row.part === 'text' ? 1 : 0) + (rest.file === undefined ? 0 : 1),
      });
    } else if (current && current.requestId === row.request_id && current.to === row.seq - 1) {
      requests[requests.length - 1] = { ...current, to: row.seq, parts: [...current.parts, { id: row.id, part: row.part as MessagePart }] };
    }
  }
  let position = rows.at(-1)?.seq ?? start;
  const last = requests.at(-1);
  // The read stopped between a request's parts: hand the request over whole on the next read.
  if (last && last.parts.length < last.expected) {
    requests.pop();
    position = last.from - 1;
  }
  return { requests: requests.map(({ expected: _expected, ...request }) => request), position };
}
