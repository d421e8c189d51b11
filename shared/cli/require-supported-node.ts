import { unsupportedNode } from '../node-version';

// Imported first by the command line: on a Node.js too old for it, it says so in one sentence and exits,
// before node:sqlite is ever required (whose own error names no cause).
const problem = unsupportedNode();
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
