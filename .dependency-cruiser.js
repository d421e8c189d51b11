/**
 * The layering rules (`npm run lint:layers`, run by .ci/run). The core (shared/) knows no engine; the
 * engine adapters never reach into each other; inside the core, a lower layer never imports an upper one.
 *
 * Layers of shared/, lowest first:
 *   1. leaves: model.ts, rejection.ts, unavailable.ts, time/, contract/  (the contract and plain values)
 *   2. parts:  store/, attachments/, recipients/, quota.ts, outbox/, transport/, dispatch/, feed/
 *   3. the workspace and what hosts it: accounts/, workspace.ts, webhook.ts, http/, registry.ts, settings.ts,
 *      link-*.ts, cli/, ... (everything else at the top of shared/)
 * Within layer 2, transport/ never imports dispatch/ (the dispatcher drives a transport, not the reverse).
 */
const UPPER = '^shared/(accounts/|cli/|http/|workspace\\.ts|webhook\\.ts|registry\\.ts|settings\\.ts|retrying-lease\\.ts|lingering-leases\\.ts|link-[^/]+\\.ts|overview\\.ts|index\\.ts)';
const PARTS = '^shared/(store|attachments|recipients|outbox|transport|dispatch|feed)/|^shared/quota\\.ts';

module.exports = {
  forbidden: [
    {
      name: 'core-knows-no-engine',
      comment: 'shared/ is the engine-agnostic core: it never imports an adapter or an engine package.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(nodes|credentials)/|(^|/)node_modules/(n8n-workflow|n8n-core|node-red|@node-red|express)/' },
    },
    {
      name: 'node-red-apart-from-n8n',
      comment: 'The Node-RED adapter never imports the n8n adapter or its credential.',
      severity: 'error',
      from: { path: '^nodes/node-red/' },
      to: { path: '^(nodes/n8n|credentials)/' },
    },
    {
      name: 'n8n-apart-from-node-red',
      comment: 'The n8n adapter and its credential never import the Node-RED adapter.',
      severity: 'error',
      from: { path: '^(nodes/n8n|credentials)/' },
      to: { path: '^nodes/node-red/' },
    },
    {
      name: 'leaves-import-only-leaves',
      comment: 'Layer 1 (plain values, the contract, time) imports nothing above it.',
      severity: 'error',
      from: { path: '^shared/(model\\.ts|rejection\\.ts|unavailable\\.ts|time/|contract/)' },
      to: { path: `${PARTS}|${UPPER}` },
    },
    {
      name: 'parts-never-import-the-workspace',
      comment: 'Layer 2 (store, outbox, transports, dispatch, feed...) never imports the workspace or its hosts.',
      severity: 'error',
      from: { path: PARTS },
      to: { path: UPPER },
    },
    {
      name: 'transport-below-dispatch',
      comment: 'A transport is driven by the dispatcher, never the reverse.',
      severity: 'error',
      from: { path: '^shared/transport/' },
      to: { path: '^shared/(dispatch|feed)/' },
    },
    {
      name: 'store-below-its-users',
      comment: 'The store is the lowest part: it knows only values, the contract and its own types.',
      severity: 'error',
      from: { path: '^shared/store/' },
      to: { path: '^shared/(attachments|recipients|outbox|transport|dispatch|feed)/|^shared/quota\\.ts' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules|test|bench|scripts)/' },
  },
};
