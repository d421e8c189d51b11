import { createServer, type Server, type Socket } from 'node:net';

export interface SilentServer {
  readonly server: Server;
  readonly sockets: Set<Socket>;
  readonly port: number;
}

/** A TCP server that accepts connections and never answers (a WhatsApp that is not reachable). */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, sockets, port: (server.address() as { port: number }).port };
}
