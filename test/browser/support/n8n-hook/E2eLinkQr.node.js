// Test-only n8n node, loaded by the n8n browser test through a second N8N_CUSTOM_EXTENSIONS folder; never
// shipped. No WhatsApp is reachable in tests, so this node plays the linking connection's part: it
// publishes a QR into the workspace's newest link session (LinkPageSession.show, where the real
// connection's QRs arrive), the way test/browser/support/comms-publisher.js stands in for it in Node-RED.
// It loads the built package from dist/ by path: the same module instances the WhatsApp nodes use.
'use strict';
const { join } = require('node:path');
const DIST = join(__dirname, '..', '..', '..', '..', 'dist');
const { qrDataUrl } = require(join(DIST, 'shared', 'index.js'));
const { settingsFromCredential, withWorkspace } = require(join(DIST, 'nodes', 'n8n', 'common', 'workspace-access.js'));

class E2eLinkQr {
  constructor() {
    this.description = {
      displayName: 'E2E Link QR (test only)',
      name: 'e2eLinkQr',
      group: ['transform'],
      version: 1,
      description: 'Publishes a QR into the newest link session (tests only)',
      defaults: { name: 'E2E Link QR' },
      inputs: ['main'],
      outputs: ['main'],
      credentials: [{ name: 'whatsAppWorkspaceApi', required: true }],
      properties: [{ displayName: 'QR', name: 'qr', type: 'string', default: '' }],
    };
  }

  async execute() {
    const settings = settingsFromCredential(await this.getCredentials('whatsAppWorkspaceApi'));
    if (!settings.ok) throw new Error(settings.rejection.message);
    const qr = String(this.getNodeParameter('qr', 0));
    const dataUrl = await qrDataUrl(qr);
    const published = await withWorkspace(settings.value, async (workspace) => {
      const session = workspace.linkPages.newest();
      if (!session) return false;
      session.show({ qr, dataUrl });
      return true;
    });
    return [[{ json: { published, dataUrl } }]];
  }
}

module.exports = { E2eLinkQr };
