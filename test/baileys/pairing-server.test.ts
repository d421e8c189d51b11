import { join } from 'node:path';
import { SqliteStore } from '../../shared/store/sqlite';
import { Workspace } from '../../shared/workspace/workspace';
import type { QrCode } from '../../shared/transport/linking';
import { pairingServer, type PairingServer } from '../support/pairing-server';
import { tempDir } from '../support/temp';
import { until } from '../support/fake-transport';

/**
 * The fake WhatsApp Web for linking (test/support/pairing-server.ts) against the real Baileys: a workspace
 * links through it and shows the QR Baileys builds from the server's first ref.
 */
describe('the pairing server', () => {
  const dir = tempDir('wahook-pairing-');
  let pairing: PairingServer;
  let workspace: Workspace;

  afterAll(async () => {
    await workspace?.close();
    await pairing?.close();
    dir.cleanup();
  });

  it('completes the handshake and has Baileys show a QR of its ref', async () => {
    pairing = await pairingServer();
    workspace = await Workspace.open({ store: new SqliteStore({ path: join(dir.path, 'w.sqlite') }), baileys: { waWebSocketUrl: pairing.webSocketUrl } });
    const handle = workspace.startLink();
    const qrs: QrCode[] = [];
    handle.onQr((qr) => qrs.push(qr));
    await until(() => qrs.length > 0 || handle.qr !== undefined, 15_000);
    const qr = (qrs[0] ?? handle.qr)!;
    expect(qr.qr.startsWith(`https://wa.me/settings/linked_devices#${pairing.refs[0]},`)).toBe(true);
    expect(qr.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect(pairing.connections()).toBe(1);
    const linked = handle.linked.catch(() => undefined);
    await handle.cancel();
    await linked;
  });
});
