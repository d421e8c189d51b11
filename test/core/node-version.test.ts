import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { unsupportedNode } from '../../shared/node-version';

const SENTENCE =
  'The WhatsApp nodes (@wahook/n8n-nodes-whatsapp) need Node.js 22.13.0 or newer, and this is Node.js 20.20.2: upgrade Node.js (n8n and Node-RED run on it), then restart.';
const ROOT = join(__dirname, '../..');
const OLD_NODE = join(__dirname, '../support/old-node.js');

/** Runs `args` on this Node.js made to say it is 20.20.2 (the preload), from the built package. */
const onOldNode = (args: string[]) => spawnSync(process.execPath, ['--require', OLD_NODE, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });

describe('on a Node.js too old for the package', () => {
  it('names the version needed and the one found, and nothing for new enough ones', () => {
    expect(unsupportedNode('20.20.2')).toBe(SENTENCE);
    expect(unsupportedNode('22.12.9')).toMatch(/need Node\.js 22\.13\.0 or newer, and this is Node\.js 22\.12\.9/);
    for (const version of ['22.13.0', '22.20.1', '23.0.0', '24.11.1']) expect(unsupportedNode(version)).toBeUndefined();
  });

  it('the CLI says it in one sentence and exits 1, before node:sqlite', () => {
    const run = onOldNode(['dist/shared/cli/main.js', 'serve', '--store', '/nonexistent/x.sqlite']);
    expect({ status: run.status, stderr: run.stderr, stdout: run.stdout }).toEqual({ status: 1, stderr: `${SENTENCE}\n`, stdout: '' });
  });

  it.each(['dist/nodes/node-red/whatsapp-send.js', 'dist/nodes/node-red/whatsapp-in.js', 'dist/nodes/n8n/WhatsApp/WhatsApp.node.js', 'dist/nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node.js'])(
    'loading %s fails with that sentence (what the engine shows)',
    (file) => {
      const run = onOldNode(['-e', `try { require('./${file}'); console.log('loaded') } catch (error) { console.log(error.message) }`]);
      expect(run.stdout).toBe(`${SENTENCE}\n`);
    },
  );
});
