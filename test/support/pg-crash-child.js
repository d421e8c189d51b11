// A webhook process for the PostgreSQL crash test: opens the workspace on schema WAHOOK_PG_SCHEMA of
// WAHOOK_PG_URL and serves the webhook on an ephemeral port, printing "READY <port> <token> <pid>".
// Several run at once on one schema; the test SIGKILLs whichever owns the account. The account sends
// through a dry-run recorder that takes a few milliseconds per send, as a network would, so that a kill
// often lands while a message is in flight.
const { Workspace, PostgresStore, createWebhookServer } = require('../../dist/shared');
const { ACCOUNT, SlowRecorder } = require('./slow-recorder');

async function main() {
  const store = await PostgresStore.open({ connection: process.env.WAHOOK_PG_URL, schema: process.env.WAHOOK_PG_SCHEMA, poolSize: 4 });
  await store.accounts.put(ACCOUNT);
  const workspace = await Workspace.open({
    store,
    quota: { period: 'none', allowance: 1_000_000 },
    pacing: { gap: { minMs: 0, maxMs: 2 } },
    openTransport: (account) => new SlowRecorder(account.id, account.phone, store.dryRun, Date.now),
    onError: (error) => console.error('workspace error', error),
  });
  const server = createWebhookServer(workspace);
  server.listen(0, '127.0.0.1', () => {
    console.log(`READY ${server.address().port} ${workspace.webhookState().token} ${process.pid}`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
