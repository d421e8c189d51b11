/** The oldest Node.js this package runs on: node:sqlite (the embedded store) needs 22.13 without a flag. */
export const MIN_NODE = '22.13.0';

/**
 * One sentence saying this Node.js is too old, or undefined when it is new enough. Without this check,
 * Node 20 stops at `ERR_UNKNOWN_BUILTIN_MODULE: node:sqlite`, which names no cause a user can act on.
 */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [minMajor, minMinor] = MIN_NODE.split('.').map(Number) as [number, number];
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return undefined;
  return `The WhatsApp nodes (@wahook/n8n-nodes-whatsapp) need Node.js ${MIN_NODE} or newer, and this is Node.js ${version}: upgrade Node.js (n8n and Node-RED run on it), then restart.`;
}
