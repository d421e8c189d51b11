// A webhook process for the crash test: opens the workspace at WAHOOK_STORE and serves the webhook on an
// ephemeral port, printing "READY <port> <token>". The test kills it with SIGKILL at random moments.
// Its account sends through a dry-run recorder that takes a few milliseconds per send, as a network
// would, so that kills often land while a message is in flight.
const { Workspace, SqliteStore, createWebhookServer } = require('../../dist/shared');
const { ACCOUNT, SlowRecorder } = require('./slow-recorder');

async function main() {
  const store = new SqliteStore({ path: process.env.WAHOOK_STORE });
  await store.accounts.put(ACCOUNT);
  const workspace = await Workspace.open({
    store,
    quota: { period: 'none', allowance: 1_000_000 },
    pacing: { gap: { minMs: 0, maxMs: 2 } },
    openTransport: (account) => new SlowRecorder(account.id, account.phone, store.dryRun, Date.now),
    onError: (error) => console.error('dispatcher error', error),
  });
  const server = createWebhookServer(workspace);
  server.listen(0, '127.0.0.1', () => {
    console.log(`READY ${server.address().port} ${workspace.webhookState().token}`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
