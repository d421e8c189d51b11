import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body as raw bytes, keeping at most `limit + 1` of them: enough for the webhook to see
 * that a body is too large (and answer 413) without buffering whatever a client chooses to send. It
 * resolves as soon as the limit is passed, so an endless body is answered at once, not read to its end.
 * Rejects when the client goes away before the body is complete.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      const room = limit + 1 - size;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(kept);
      size += kept.length;
      if (size > limit) finish(() => resolve(Buffer.concat(chunks, size)));
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks, size)));
    const onError = (error: Error) => finish(() => reject(error));
    const onClose = () => finish(() => reject(new Error('The client closed the connection before the body was complete.')));
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
