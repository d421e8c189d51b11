import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import helper from 'node-red-node-test-helper';
import type { NodeAPI } from 'node-red';

// The flows in examples/ (the editor's Import → Examples menu) load as they are, every node starts, and
// each does what its tab's description says, on the examples' dry-run accounts.
/* eslint-disable @typescript-eslint/no-require-imports */
const workspaceInit = require('../../dist/nodes/node-red/whatsapp-workspace.js') as (RED: NodeAPI) => void;
const webhookInit = require('../../dist/nodes/node-red/whatsapp-webhook.js') as (RED: NodeAPI) => void;
const sendInit = require('../../dist/nodes/node-red/whatsapp-send.js') as (RED: NodeAPI) => void;
const inInit = require('../../dist/nodes/node-red/whatsapp-in.js') as (RED: NodeAPI) => void;
const { workspaces } = require('../../dist/shared/hosting/registry.js') as typeof import('../../shared/hosting/registry');
const core = ['common/20-inject.js', 'common/21-debug.js', 'common/25-catch.js', 'function/10-function.js'].map(
  (file) => require(`@node-red/nodes/core/${file}`) as (RED: NodeAPI) => void,
);

import { incomingText } from '../support/incoming';

helper.init(require.resolve('node-red'));

const EXAMPLES = join(__dirname, '../../examples');

interface FlowNode {
  id: string;
  type: string;
}
interface Msg {
  payload: Record<string, unknown>;
  topic?: string;
  statusCode?: number;
  error?: { message: string };
}

const example = (file: string) => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];

/** Resolves with the first message `nodeId` receives that `match` accepts. */
function received(nodeId: string, match: (msg: Msg) => boolean = () => true): Promise<Msg> {
  return new Promise((resolve) => {
    const node = helper.getNode(nodeId) as unknown as NodeJS.EventEmitter;
    const listener = (msg: Msg) => {
      if (!match(msg)) return;
      node.off('input', listener);
      resolve(msg);
    };
    node.on('input', listener);
  });
}

describe('examples/', () => {
  let userDir: string;
  let httpNode: unknown;
  const capturingWebhook = (RED: NodeAPI) => {
    httpNode = RED.httpNode;
    webhookInit(RED);
  };

  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'wahook-examples-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    expect(workspaces.openKeys()).toEqual([]);
    rmSync(userDir, { recursive: true, force: true });
  });

  it('has one flow per node family, each starting every node it holds', async () => {
    const files = readdirSync(EXAMPLES).filter((file) => file.endsWith('.json'));
    const types = new Set(files.flatMap((file) => example(file).map((node) => node.type)));
    for (const family of ['whatsapp-webhook', 'whatsapp-send', 'whatsapp-in']) expect([family, types.has(family)]).toEqual([family, true]);
    for (const file of files) {
      const flow = example(file);
      await helper.load([workspaceInit, capturingWebhook, sendInit, inInit, ...core], flow);
      for (const node of flow.filter((candidate) => candidate.type !== 'tab')) expect([file, node.id, helper.getNode(node.id) !== null]).toEqual([file, node.id, true]);
      await helper.unload();
    }
  });

  it('every node’s help says what its outputs carry and names an example flow that is in examples/', () => {
    const locales = join(__dirname, '../../nodes/node-red/locales/en-US');
    const helps = readdirSync(locales).filter((file) => file.endsWith('.html'));
    expect(helps.sort()).toEqual(['whatsapp-in.html', 'whatsapp-send.html', 'whatsapp-webhook.html', 'whatsapp-workspace.html']);
    for (const file of helps) {
      const help = readFileSync(join(locales, file), 'utf8');
      expect([file, help.includes('<h3>Outputs</h3>'), help.includes('<h3>Example</h3>')]).toEqual([file, true, true]);
      const flow = /example flow: <i>([\w-]+)<\/i>/.exec(help)?.[1];
      expect([file, flow !== undefined && readdirSync(EXAMPLES).includes(`${flow}.json`)]).toEqual([file, true]);
    }
  });

  it('dry-run-webhook.json: a POST to its documented URL is emitted as the accepted message', async () => {
    await helper.load([workspaceInit, capturingWebhook, sendInit, ...core], example('dry-run-webhook.json'));
    const accepted = received('wa-example-accepted');
    const answer = await request(httpNode as Parameters<typeof request>[0])
      .post('/whatsapp/dry-run-example-token-0001')
      .set('content-type', 'application/json')
      .send('{"action":"send","phone":"+14151231234","text":"hello"}');
    expect(answer.status).toBe(200);
    const message = await accepted;
    expect(message.payload).toMatchObject({ message_id: answer.body.data.message_id, recipient: { field: 'phone' } });
  });

  it('reply-in-thread.json: a received text is emitted and answered by chat_id, quoting it', async () => {
    await helper.load([workspaceInit, sendInit, inInit, ...core], example('reply-in-thread.json'));
    const receivedOne = received('wa-in-example-received');
    const answered = received('wa-in-example-accepted');
    const config = helper.getNode('wa-in-example-workspace') as unknown as { workspace: Promise<import('../../shared/workspace/workspace').Workspace> };
    const workspace = await config.workspace;
    const [account] = workspace.connections();
    // What a connected account's transport reports; the dry-run account stands in for a linked phone.
    workspace.received.take(account!.account.id, incomingText({ text: 'is my order on its way?' }));
    const message = await receivedOne;
    expect(message.payload).toMatchObject({ type: 'text', text: 'is my order on its way?', chat_id: expect.stringMatching(/^\d+$/) });
    const answer = await answered;
    const queued = await workspace.message(String(answer.payload.message_id).slice('wa_backend:'.length));
    expect(queued).toMatchObject({ text: 'Thanks Alice, we got your message.', quotedId: message.payload.id, jid: '14155550123@s.whatsapp.net' });
  }, 20_000);

  it('send-with-status.json: accepted at once, then its status changes; a failure and a refusal as described', async () => {
    await helper.load([workspaceInit, sendInit, ...core], example('send-with-status.json'));
    const accepted = received('wa-send-example-accepted');
    const delivered = received('wa-send-example-status', (msg) => msg.topic === 'delivered');
    helper.getNode('wa-send-example-hello').receive({});
    const hello = await accepted;
    expect(hello.payload.message_id).toMatch(/^wa_backend:/);
    expect((await delivered).payload).toMatchObject({ message_id: hello.payload.message_id, status: 'delivered' });

    const failed = received('wa-send-example-status', (msg) => msg.topic === 'failed');
    helper.getNode('wa-send-example-not-on-whatsapp').receive({});
    expect((await failed).payload).toMatchObject({ status: 'failed', reason: '+14150000000 is not on WhatsApp' });

    const refused = received('wa-send-example-refused');
    helper.getNode('wa-send-example-invalid').receive({});
    const refusal = await refused;
    expect(refusal.statusCode).toBe(400);
    expect(refusal.error?.message).toMatch(/phone|chat_id|jid|chat_name/);
  }, 20_000);
});
