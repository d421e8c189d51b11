import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of a test's own (initdb in a temporary folder, on a free port), so the test may stop
 * and restart it without touching the server other tests share. PostgreSQL refuses to run as root, so as
 * root it runs as the `postgres` user Debian's package creates.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'wahook-pg-'));
    if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    const server = new PrivatePostgres(dir, await freePort());
    server.run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    server.ctl('start');
    return server;
  }

  /** Stops the server (fast: connections are cut, as a restart does). */
  stop(): void {
    this.ctl('stop', ['-m', 'fast']);
  }

  /** Starts it again on the same port and data. */
  resume(): void {
    this.ctl('start');
  }

  remove(): void {
    try {
      this.ctl('stop', ['-m', 'immediate']);
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ctl(action: string, extra: string[] = []): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-o', options, action, ...extra]);
  }

  private run(command: string, args: string[]): void {
    const asRoot = process.getuid?.() === 0;
    const file = asRoot ? 'runuser' : join(BIN, command);
    execFileSync(file, asRoot ? ['-u', 'postgres', '--', join(BIN, command), ...args] : args, { stdio: 'pipe', cwd: this.dir });
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
