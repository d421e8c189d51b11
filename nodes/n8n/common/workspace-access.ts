import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import {
  ensureConfiguredAccounts,
  LingeringLeases,
  parseWorkspaceSettings,
  sharedAcrossProcesses,
  storePathFor,
  workspaceOptionsFor,
  workspaces,
  type Result,
  type Workspace,
  type WorkspaceLease,
  type WorkspaceSettings,
} from '../../../shared';

export const CREDENTIAL_NAME = 'whatsAppWorkspaceApi';

/** How long a workspace stays open after the last webhook call or node execution that used it. */
const LINGER_MS = 10 * 60_000;

const calls = new LingeringLeases(LINGER_MS);

let watchingShutdown = false;

/**
 * n8n shuts down on SIGTERM or SIGINT: it closes its triggers, waits for running executions, then exits.
 * A workspace that calls still lingered on would be open at that exit, its sockets still receiving, and
 * what they received last (already acknowledged to WhatsApp) not yet stored. So on the signal nothing
 * lingers any more, and the last trigger's release closes the workspace while n8n waits. Only where the
 * host already handles the signal (n8n does, before it loads nodes): a listener of ours alone would keep
 * the process from exiting on it.
 */
function watchShutdown(): void {
  if (watchingShutdown) return;
  watchingShutdown = true;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    if (process.listenerCount(signal) > 0) process.once(signal, () => void calls.closing());
  }
}

/**
 * Said when n8n runs in queue mode on a SQLite store: each process would open its own file and socket to the
 * same account. A PostgreSQL store is shared, and its ownership lets one process at a time send per account.
 */
export const QUEUE_MODE_REFUSAL =
  'n8n runs in queue mode (EXECUTIONS_MODE=queue), where every n8n process needs the same store: choose Store ' +
  '"PostgreSQL" in the WhatsApp Workspace credential, since the embedded SQLite file belongs to one process.';

/** n8n's data folder: N8N_USER_FOLDER/.n8n, else ~/.n8n (where n8n keeps its own database). */
export function n8nDataFolder(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.N8N_USER_FOLDER || homedir(), '.n8n');
}

/** The credential's values read into the core's workspace settings, or the sentence naming the bad field. */
export function settingsFromCredential(credential: ICredentialDataDecryptedObject, env: NodeJS.ProcessEnv = process.env): Result<WorkspaceSettings> {
  const folder = typeof credential.dataFolder === 'string' && credential.dataFolder.trim() !== '' ? credential.dataFolder.trim() : n8nDataFolder(env);
  const name = typeof credential.workspaceName === 'string' && credential.workspaceName.trim() !== '' ? credential.workspaceName : 'default';
  // n8n shows 0 for an empty number field: 0 means "no cap" here, as the credential's help text says.
  const raw: Record<string, unknown> = { ...credential };
  for (const cap of ['capPerMinute', 'capPerHour', 'capPerDay']) if (raw[cap] === 0) delete raw[cap];
  return parseWorkspaceSettings(raw, storePathFor(folder, name), name);
}

/** Whether n8n runs in queue mode: triggers on the main, webhook calls on webhook processes, executions on workers. */
export function inQueueMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.EXECUTIONS_MODE === 'queue';
}

/** Throws the queue-mode refusal when n8n runs several processes and the store belongs to one. */
export function refuseQueueMode(settings: WorkspaceSettings, env: NodeJS.ProcessEnv = process.env): void {
  if (inQueueMode(env) && !sharedAcrossProcesses(settings.store)) throw new Error(QUEUE_MODE_REFUSAL);
}

/** The open workspace for these settings, with its dry-run accounts and Cloud API number as the credential names them now. */
async function ready(workspace: Workspace, settings: WorkspaceSettings): Promise<Workspace> {
  await ensureConfiguredAccounts(workspace, settings);
  return workspace;
}

/**
 * Runs `use` with the credential's workspace, shared with every other workflow in this process (one
 * socket per account); it stays open while used and a while after.
 */
export async function withWorkspace<T>(settings: WorkspaceSettings, use: (workspace: Workspace) => Promise<T>): Promise<T> {
  refuseQueueMode(settings);
  watchShutdown();
  return calls.use(settings.storeKey, () => workspaceOptionsFor(settings), async (workspace) => use(await ready(workspace, settings)));
}

/** A lease for as long as a trigger is active, so its workspace stays open between calls. */
export async function holdWorkspace(settings: WorkspaceSettings): Promise<WorkspaceLease> {
  refuseQueueMode(settings);
  watchShutdown();
  const lease = await workspaces.acquire(settings.storeKey, () => workspaceOptionsFor(settings));
  try {
    await ready(lease.workspace, settings);
  } catch (error) {
    await lease.release();
    throw error;
  }
  return lease;
}

/** Closes workspaces that only lingering calls keep open (tests, shutdown). */
export async function releaseIdleWorkspaces(): Promise<void> {
  await calls.releaseAll();
}
