/**
 * The layering rules (`npm run lint:layers`, run by .ci/run). The core (shared/) knows no engine; the
 * engine adapters never reach into each other; inside the core, a lower layer never imports an upper one.
 *
 * Layers of shared/, lowest first:
 *   1. leaves: model.ts, rejection.ts, unavailable.ts, time/, contract/  (the contract and plain values)
 *   2. parts:  store/, attachments/, recipients/, intake/, attempts/, outbox/, transport/, dispatch/, feed/,
 *              linking/ (one-time link pages), inbound/ (received messages), metrics/ (Prometheus metrics, health),
 *              and webhook/'s leaves (token, urls, token-path, read-body)
 *   3. the workspace: accounts/ (connections per account), workspace/ (the facade engines call)
 *   4. what hosts it: webhook/webhook.ts, routes.ts, standalone-server.ts (the contract over HTTP),
 *      hosting/ (settings, registry, leases, link sessions), cli/, index.ts
 * Within layer 2, transport/ never imports dispatch/ (the dispatcher drives a transport, not the reverse).
 */
const HOSTS = '^shared/(webhook/(webhook|routes|standalone-server)\\.ts|hosting/|cli/|index\\.ts)';
const UPPER = `^shared/(accounts/|workspace/)|${HOSTS}`;
const PARTS = '^shared/(store|attachments|recipients|intake|attempts|outbox|transport|dispatch|feed|linking|inbound|metrics)/|^shared/webhook/(token|urls|token-path|read-body)\\.ts';

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
      to: { path: '^shared/(attachments|recipients|intake|attempts|outbox|transport|dispatch|feed|linking|inbound|metrics)/' },
    },
    {
      name: 'accounts-know-no-transport',
      comment: 'The account runtime opens every account through a driver (transport/driver.ts), never a transport\'s own folder.',
      severity: 'error',
      from: { path: '^shared/(accounts|dispatch|intake|feed|inbound|metrics)/' },
      to: { path: '^shared/transport/[^/]+/' },
    },
    {
      name: 'workspace-below-its-hosts',
      comment: 'Layer 3 (the workspace and its accounts) never imports what hosts it (webhook/, hosting/, cli/).',
      severity: 'error',
      from: { path: '^shared/(accounts|workspace)/' },
      to: { path: HOSTS },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules|test|bench|scripts)/' },
  },
};
