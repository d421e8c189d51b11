import type { Workspace } from '../../shared';
import type { WorkspaceConfigNode } from './types';

/** How long a send or an editor request waits for a workspace that is still opening. */
const READY_WAIT_MS = 5_000;

/** The config node's workspace, or — if it is not open within `waitMs` (a few seconds) — an Error saying why. */
export function readyWorkspace(config: WorkspaceConfigNode, waitMs = READY_WAIT_MS): Promise<Workspace> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new NotReadyError(config.problem() ?? 'The workspace is being opened.')), waitMs);
  });
  return Promise.race([config.workspace, late]).finally(() => clearTimeout(timer));
}

/** The workspace is not open (yet): callers answer 503 with this sentence. */
export class NotReadyError extends Error {}
