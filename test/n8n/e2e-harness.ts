/**
 * Starting a real n8n 2.40.7 (installed by scripts/n8n-install.sh) for the end-to-end and fuzz tests:
 * our built package loaded through N8N_CUSTOM_EXTENSIONS, credentials and workflows imported with n8n's
 * CLI and published, then `n8n start` in a temp folder. Shared by n8n.e2e.test.ts, n8n-crash.e2e.test.ts
 * and test/fuzz.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface N8nInstance {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** Signals n8n; started `detached`, its whole process group (n8n and its task runner). */
  kill(signal: NodeJS.Signals): boolean;
  /** Settles when the n8n process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly userFolder: string;
  readonly port: number;
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** n8n in a process group of its own: kill() reaches its children too. */
  readonly detached?: boolean;
  /** `n8n start` (the default), or a queue-mode `worker` or `webhook` process. */
  readonly command?: 'start' | 'worker' | 'webhook';
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const harness = require('../../scripts/n8n-server.js') as {
  n8nEntry(): string;
  n8nEnv(options: { userFolder: string; port: number; brokerPort: number; extraEnv?: Readonly<Record<string, string>> }): NodeJS.ProcessEnv;
  n8nCli(env: NodeJS.ProcessEnv, args: string[]): Promise<string>;
  freePort(): Promise<number>;
  startN8n(options: StartOptions): Promise<N8nInstance>;
  n8nDir(): string;
  ROOT: string;
};

/**
 * Imports `credentials` and `workflows` into a fresh n8n user folder under `dir`, publishes every
 * workflow and starts n8n (with `extraEnv` on top of the harness's environment; `detached`: in a process
 * group of its own). Fails (never skips) when n8n or the build is missing, saying what to run.
 */
export async function startImported(
  dir: string,
  credentials: readonly object[],
  workflows: readonly { readonly id: string }[],
  extraEnv: Readonly<Record<string, string>> = {},
  { detached = false }: Pick<StartOptions, 'detached'> = {},
): Promise<{ n8n: N8nInstance; userFolder: string }> {
  harness.n8nEntry();
  if (!existsSync(join(harness.ROOT, 'dist/nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node.js'))) {
    throw new Error('dist/ has no n8n nodes: run `npm run build` first.');
  }
  const userFolder = join(dir, 'n8n');
  const port = await harness.freePort();
  const env = harness.n8nEnv({ userFolder, port, brokerPort: await harness.freePort() });
  writeFileSync(join(dir, 'credentials.json'), JSON.stringify(credentials));
  writeFileSync(join(dir, 'workflows.json'), JSON.stringify(workflows));
  await harness.n8nCli(env, ['import:credentials', `--input=${join(dir, 'credentials.json')}`]);
  await harness.n8nCli(env, ['import:workflow', `--input=${join(dir, 'workflows.json')}`]);
  for (const workflow of workflows) await harness.n8nCli(env, ['publish:workflow', `--id=${workflow.id}`]);
  const n8n = await harness.startN8n({ userFolder, port, extraEnv, detached });
  return { n8n, userFolder };
}
