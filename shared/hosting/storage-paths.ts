import { join } from 'node:path';

/** Where a workspace's SQLite file lives under an engine's data folder. */
export function storePathFor(dataDir: string, workspaceName: string): string {
  const safe = workspaceName.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'workspace';
  return join(dataDir, 'whatsapp', `${safe}.sqlite`);
}
