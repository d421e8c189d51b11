import { unsupportedNode } from './node-version';

// Imported first by the package's entry point: on a Node.js too old for it, loading stops here with a
// sentence (Node-RED shows it in the palette, n8n in its log) before node:sqlite is ever required.
const problem = unsupportedNode();
if (problem !== undefined) throw new Error(problem);
