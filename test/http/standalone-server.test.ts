import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createWebhookServer } from '../../shared/webhook/standalone-server';
import { dedicatedHost } from '../../nodes/n8n/WhatsAppTrigger/dedicated-port';
import { openTestWorkspace, type TestWorkspace } from '../support/workspace';

/** Sends raw bytes and resolves with everything the server answered before closing (or after 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.setTimeout(2000, () => socket.destroy());
    socket.end(bytes);
  });
}

describe('the standalone server (wahook serve, n8n Dedicated Port): malformed requests', () => {
  let t: TestWorkspace;
  let server: Server;
  let port: number;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  beforeEach(async () => {
    t = await openTestWorkspace();
    await t.workspace.addDryRunAccount('15105566777', 'Sales phone');
    server = createWebhookServer(t.workspace);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('answers bad percent-encoding with a JSON 404 and keeps serving (it used to end the process)', async () => {
    for (const [method, path] of [['POST', '/whatsapp/%zz'], ['POST', '/whatsapp/%E0%A4%A'], ['GET', '/whatsapp/%']] as const) {
      const answer = await fetch(url(path), { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
      expect([path, answer.status, await answer.json()]).toEqual([path, 404, { status: 404, data: {}, message: 'Webhook not found' }]);
    }
    const valid = await fetch(url(`/whatsapp/${t.workspace.webhookState().token}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text: 'still here' }),
    });
    expect(valid.status).toBe(200);
  });

  it('answers what is not HTTP with a JSON 400 and closes', async () => {
    const answer = await raw(port, 'HELLO /whatsapp/x WORLD\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      status: 400,
      data: {},
      message: 'The request is not valid HTTP; send a POST with a JSON body to the webhook URL.',
    });
  });

  it('answers 413 as soon as a body passes 256 KiB, without reading the rest', async () => {
    const head = `POST /whatsapp/${t.workspace.webhookState().token} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n`;
    const answer = await raw(port, head + 'x'.repeat(300 * 1024));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(answer).toContain('"message":"The body is larger than the limit of 262144 bytes (256 KiB); send a smaller request."');
  });
});

describe('the Dedicated Port address', () => {
  it("is the node's setting, else n8n's N8N_LISTEN_ADDRESS, else every interface", () => {
    expect(dedicatedHost(' 10.1.2.3 ', { N8N_LISTEN_ADDRESS: '127.0.0.1' })).toBe('10.1.2.3');
    expect(dedicatedHost('', { N8N_LISTEN_ADDRESS: '127.0.0.1' })).toBe('127.0.0.1');
    expect(dedicatedHost('', {})).toBeUndefined();
  });
});
