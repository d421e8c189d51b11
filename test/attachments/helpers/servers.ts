import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface TestServer {
  /** e.g. "http://127.0.0.1:40123" */
  readonly origin: string;
  readonly port: number;
  /** Paths (with query) of every request received, in order. */
  readonly paths: string[];
  close(): Promise<void>;
}

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Serve https with this key and certificate. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** A local server for one test file; `close` also drops connections a handler left hanging. */
export async function startServer(handler: Handler, options: ServerOptions = {}): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const paths: string[] = [];
  const listener: Handler = (request, response) => {
    paths.push(request.url ?? '');
    handler(request, response);
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (a server was there a moment ago). */
export async function closedPort(): Promise<number> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.port;
}
