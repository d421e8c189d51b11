import type { IDataObject } from 'n8n-workflow';

/**
 * What an active trigger registers so that its webhook calls (which run in a different n8n function
 * context) can hand accepted messages to its batch. Keyed by workflow id and node name.
 */
const emitters = new Map<string, (item: IDataObject) => void>();

export function emitterKey(workflowId: string | undefined, nodeName: string): string {
  return `${workflowId ?? ''}\u0000${nodeName}`;
}

export function registerEmitter(key: string, emit: (item: IDataObject) => void): () => void {
  emitters.set(key, emit);
  return () => {
    if (emitters.get(key) === emit) emitters.delete(key);
  };
}

export function emitterFor(key: string): ((item: IDataObject) => void) | undefined {
  return emitters.get(key);
}

/**
 * Registered by a trigger whose Dedicated Port emits from the workspace's feed: its webhook calls
 * through n8n's own route are in that feed too, so they must not start an execution of their own.
 */
export const FOLLOWED_BY_FEED: (item: IDataObject) => void = () => undefined;
