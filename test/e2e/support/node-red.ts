import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const PACKAGE_NAME = (require(join(ROOT, 'package.json')) as { name: string }).name;
const NODE_RED = require.resolve('node-red/red.js');

export interface NodeRedOptions {
  /** Extra environment for the Node-RED process (e.g. WAHOOK_WA_WEBSOCKET_URL). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node arguments before red.js (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Extra settings.js entries. */
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly startTimeoutMs?: number;
}

/**
 * A real Node-RED process (this package's devDependency) on 127.0.0.1 with our package linked into
 * `<userDir>/node_modules`, as `scripts/node-red.js` does for users, and no flows until one is deployed.
 */
export class NodeRed {
  private output = '';
  private exited: Promise<number | null>;
  /** Set by login(): deploy, nodeSets and admin then carry it (a Node-RED with adminAuth). */
  private token: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly userDir: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(userDir: string, options: NodeRedOptions = {}): Promise<NodeRed> {
    const installed = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
    mkdirSync(dirname(installed), { recursive: true });
    if (!existsSync(installed)) symlinkSync(ROOT, installed, 'dir');
    const port = await freePort();
    const settingsFile = join(userDir, 'settings.js');
    writeFileSync(
      settingsFile,
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret: false,
        logging: { console: { level: 'warn' } },
        ...options.settings,
      })};\n`,
    );
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), NODE_RED, '--userDir', userDir, '--settings', settingsFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      cwd: userDir,
    });
    const red = new NodeRed(child, `http://127.0.0.1:${port}`, userDir);
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with ${child.exitCode}:\n${red.output}`);
      // With adminAuth, /settings answers 401 once Node-RED is up.
      const ready = await fetch(`${red.url}/settings`).then((r) => r.ok || r.status === 401, () => false);
      if (ready) return red;
      if (Date.now() > deadline) {
        await red.stop();
        throw new Error(`Node-RED did not answer within the start timeout:\n${red.output}`);
      }
      await sleep(100);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything Node-RED printed so far. */
  log(): string {
    return this.output;
  }

  /** Logs in to the admin API (settings.adminAuth) with a password; later admin calls carry the token. */
  async login(username: string, password: string): Promise<string> {
    const response = await fetch(`${this.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username, password }),
    });
    if (!response.ok) throw new Error(`login failed: HTTP ${response.status} ${await response.text()}`);
    this.token = ((await response.json()) as { access_token: string }).access_token;
    return this.token;
  }

  private authorization(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Full deploy through the admin API; resolves with the new flows revision. */
  async deploy(flows: readonly object[]): Promise<string> {
    const response = await fetch(`${this.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2', ...this.authorization() },
      body: JSON.stringify({ flows }),
    });
    if (!response.ok) throw new Error(`deploy failed: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { rev: string }).rev;
  }

  /** The node sets Node-RED loaded, with their load errors (GET /nodes). */
  async nodeSets(): Promise<{ id: string; module: string; types: string[]; enabled: boolean; err?: string }[]> {
    const response = await fetch(`${this.url}/nodes`, { headers: { accept: 'application/json', ...this.authorization() } });
    return (await response.json()) as { id: string; module: string; types: string[]; enabled: boolean; err?: string }[];
  }

  admin(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    return fetch(`${this.url}/${path.replace(/^\//, '')}`, {
      method: init.method ?? 'GET',
      headers: { ...this.authorization(), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  }

  /** Kills Node-RED at once (SIGKILL: no close handler runs, as in a crash) and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops Node-RED (SIGINT, as a user's Ctrl-C; SIGKILL after 10 s) and waits for it to exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.child.exitCode;
  }
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
