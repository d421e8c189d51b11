/**
 * A raw HTTP/1.x client over node:net for the fuzz suites: it writes exactly the bytes it is given (in
 * segments, optionally one byte at a time), reads whatever comes back and parses one response by hand.
 * fetch cannot express what these tests send (bad request lines, bogus framing, invalid bytes in the URL).
 * Every exchange is bounded by a timeout; the socket is always destroyed at the end.
 */
import { connect } from 'node:net';

export const HOST = '127.0.0.1';

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Interim (1xx) statuses received before the final one, e.g. 100 Continue. */
  readonly interim: readonly number[];
}

export type Outcome =
  | { readonly kind: 'answer'; readonly response: RawResponse; readonly ms: number }
  /** The server closed (or reset) the connection before a complete response. */
  | { readonly kind: 'closed'; readonly received: Buffer; readonly error?: string; readonly ms: number }
  /** Bytes came back that are not an HTTP/1.x response. */
  | { readonly kind: 'malformed'; readonly received: Buffer; readonly ms: number }
  /** Nothing complete within the timeout: the connection was still open. */
  | { readonly kind: 'timeout'; readonly received: Buffer; readonly ms: number };

export interface Exchange {
  readonly port: number;
  /** Written in order; with `dripMs` every byte is written on its own, `dripMs` apart. */
  readonly segments: readonly Buffer[];
  readonly dripMs?: number;
  /** With `dripMs`: only these segments (by index) are dripped; the others go in one write. Default: all. */
  readonly dripOnly?: readonly number[];
  /** Pause between segments (after each one). */
  readonly gapMs?: number;
  /** Half-close (FIN) after the last byte: "I have nothing more to send", the answer may still come. */
  readonly halfClose?: boolean;
  /** The request was a HEAD: its response carries no body whatever its Content-Length says. */
  readonly head?: boolean;
  readonly timeoutMs: number;
}

/** Sends one request's bytes and resolves with what came back; never rejects, never outlives its timeout. */
export function exchange(options: Exchange): Promise<Outcome> {
  const started = Date.now();
  return new Promise<Outcome>((resolve) => {
    const socket = connect({ port: options.port, host: HOST });
    let received = Buffer.alloc(0);
    let settled = false;
    let error: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    timers.push(setTimeout(() => settle({ kind: 'timeout', received, ms: Date.now() - started }), options.timeoutMs));
    const check = (ended: boolean) => {
      const parsed = parseResponse(received, options.head === true, ended);
      if (parsed === 'incomplete') {
        if (ended) settle({ kind: 'closed', received, ms: Date.now() - started, ...(error ? { error } : {}) });
        return;
      }
      if (parsed === 'malformed') settle({ kind: 'malformed', received, ms: Date.now() - started });
      else settle({ kind: 'answer', response: parsed, ms: Date.now() - started });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      check(false);
    });
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      error = cause.code ?? cause.message;
    });
    socket.on('close', () => check(true));
    socket.once('connect', () => {
      void write().catch(() => undefined);
    });

    const pause = (ms: number) => new Promise<void>((done) => timers.push(setTimeout(done, ms)));
    const put = (bytes: Buffer) =>
      new Promise<void>((done) => {
        if (settled || socket.destroyed || !socket.writable) return done();
        socket.write(bytes, () => done());
      });
    async function write(): Promise<void> {
      for (const [index, segment] of options.segments.entries()) {
        if (options.dripMs === undefined || (options.dripOnly && !options.dripOnly.includes(index))) await put(segment);
        else {
          for (let i = 0; i < segment.length && !settled; i++) {
            await put(segment.subarray(i, i + 1));
            await pause(options.dripMs);
          }
        }
        if (options.gapMs) await pause(options.gapMs);
        if (settled) return;
      }
      if (options.halfClose && !settled && !socket.destroyed) socket.end();
    }
  });
}

/** Opens a connection that sends `bytes` (possibly none) and then nothing; resolves when it ends or at the limit. */
export function idle(port: number, bytes: Buffer, limitMs: number): Promise<Outcome> {
  return exchange({ port, segments: bytes.length > 0 ? [bytes] : [], timeoutMs: limitMs });
}

/**
 * One HTTP/1.x response at the start of `data`, after any 1xx interim responses: 'incomplete' while more
 * bytes may complete it, 'malformed' when the bytes are not a response.
 */
export function parseResponse(data: Buffer, head: boolean, ended: boolean): RawResponse | 'incomplete' | 'malformed' {
  const interim: number[] = [];
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) {
      const start = data.subarray(offset, offset + 7).toString('latin1');
      return 'HTTP/1.'.startsWith(start) ? 'incomplete' : 'malformed';
    }
    const lines = data.subarray(offset, end).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!statusLine) return 'malformed';
    const status = Number(statusLine[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return 'malformed';
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      interim.push(status);
      offset = bodyStart;
      continue;
    }
    const rest = data.subarray(bodyStart);
    const done = (body: Buffer): RawResponse => ({ status, reason: statusLine[2] ?? '', headers, body, interim });
    if (head || status === 204 || status === 304) return done(Buffer.alloc(0));
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(rest);
      return body === 'incomplete' ? (ended ? 'malformed' : 'incomplete') : body === 'malformed' ? 'malformed' : done(body);
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) return 'malformed';
      if (rest.length < length) return 'incomplete';
      return done(rest.subarray(0, length));
    }
    // No framing: the body runs to the end of the connection.
    return ended ? done(rest) : 'incomplete';
  }
}

function dechunk(data: Buffer): Buffer | 'incomplete' | 'malformed' {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return 'incomplete';
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isSafeInteger(size) || size < 0) return 'malformed';
    const start = lineEnd + 2;
    if (size === 0) {
      // Trailers end with an empty line.
      const trailerEnd = data.indexOf('\r\n', start, 'latin1');
      if (trailerEnd < 0) return 'incomplete';
      return Buffer.concat(parts);
    }
    if (data.length < start + size + 2) return 'incomplete';
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** A request's bytes as text a person can read in a report: escapes, and long runs cut. */
export function printable(bytes: Buffer, max = 240): string {
  const text = bytes.subarray(0, max * 4).toString('latin1');
  let out = '';
  for (let i = 0; i < text.length && out.length < max; i++) {
    const code = text.charCodeAt(i);
    if (text[i] === '\r') out += '\\r';
    else if (text[i] === '\n') out += '\\n';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += text[i];
  }
  return bytes.length > max ? `${out}… (${bytes.length} bytes)` : out;
}
