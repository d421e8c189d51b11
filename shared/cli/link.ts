import { openStore } from '../hosting/store-factory';
import type { StoreChoice } from '../hosting/store-choice';
import { formatPairingCode, qrTerminal } from '../transport/linking';
import { Workspace, type WorkspaceOptions } from '../workspace/workspace';

export interface LinkCommandOptions {
  /** The SQLite file, or the PostgreSQL schema an engine on another machine may be using. */
  readonly store: StoreChoice;
  /** Link by pairing code for this phone instead of by QR. */
  readonly pairingPhone?: string;
  /** Another WhatsApp Web address (a local test server). */
  readonly waWebSocketUrl?: string;
}

/**
 * Links a phone from a terminal: prints each QR (or the pairing code) until the phone confirms, then
 * exits. Existing accounts of the store are left alone, so this can run next to an engine that holds
 * them (WhatsApp allows one socket per linked device). Returns the process exit code.
 */
export async function linkCommand(
  options: LinkCommandOptions,
  print: (text: string) => void,
  extra: Partial<WorkspaceOptions> = {},
  signal?: AbortSignal,
): Promise<number> {
  const workspace = await Workspace.open({
    store: openStore(options.store),
    connectAccounts: false,
    // A link next to a running engine leaves pruning to it (and to its retention setting).
    retention: { keepMs: 0 },
    ...extra,
    baileys: { ...extra.baileys, ...(options.waWebSocketUrl ? { waWebSocketUrl: options.waWebSocketUrl } : {}) },
  });
  try {
    const handle = workspace.startLink(options.pairingPhone === undefined ? {} : { pairingPhone: options.pairingPhone });
    let printing = Promise.resolve();
    handle.onQr(({ qr }) => {
      printing = printing.then(async () =>
        print(`${await qrTerminal(qr)}\nScan this code in WhatsApp: Settings → Linked devices → Link a device. It changes every 20 s.`),
      );
    });
    handle.onPairingCode((code) =>
      print(`In WhatsApp on +${options.pairingPhone?.replace(/\D/g, '')}: Settings → Linked devices → Link a device → Link with phone number, and enter ${formatPairingCode(code)}`),
    );
    const cancel = () => void handle.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const account = await handle.linked;
      await printing;
      print(`Linked +${account.phone}${account.name ? ` (${account.name})` : ''} as account ${account.id}.`);
      print('An engine already running on this store picks the account up when it restarts.');
      return 0;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  } catch (error) {
    print(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await workspace.close();
  }
}
