/** Flows for the end-to-end tests: a workspace config node, its webhook node, and a tab. */
export const DRY_RUN_PHONE = '+15105566777';

/** The config node's id for a workspace whose store is `<userDir>/whatsapp/<name>.sqlite`. */
export const nodeIdOf = (name: string) => `ws-${name}`;

/**
 * A workspace config node. Its id differs from every field value: Node-RED reads a value equal to a
 * node id as a reference to that node (here, to itself: "Circular config node dependency").
 */
export function workspace(name: string, overrides: Record<string, unknown> = {}) {
  return {
    id: nodeIdOf(name),
    type: 'whatsapp-workspace',
    name: `${name} workspace`,
    storeName: name,
    quotaAllowance: '1000',
    quotaPeriod: 'none',
    refundDelayMinutes: '0',
    gapMinSeconds: '0.01',
    gapMaxSeconds: '0.02',
    capPerHour: '',
    capPerDay: '',
    allowPrivateFileUrls: false,
    dryRunPhones: DRY_RUN_PHONE,
    initialToken: tokenOf(name),
    ...overrides,
  };
}

export function webhook(name: string, tab = 'e2e-tab') {
  return { id: `${name}-webhook`, type: 'whatsapp-webhook', z: tab, name: '', workspace: nodeIdOf(name), x: 200, y: 100, wires: [[], []] };
}

export function tab(id = 'e2e-tab') {
  return { id, type: 'tab', label: 'e2e', disabled: false, info: '' };
}

export function tokenOf(name: string): string {
  return `${name}-token-0123456789abcdef`;
}
