import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body as raw bytes, keeping at most `limit + 1` of them: enough for the webhook to see
 * that a body is too large (and answer 413) without buffering whatever a client chooses to send.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      const room = limit + 1 - size;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(kept);
      size += kept.length;
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}
