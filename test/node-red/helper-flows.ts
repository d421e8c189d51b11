/** Flow builders for the node-red-node-test-helper tests. */
export function workspaceNode(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    type: 'whatsapp-workspace',
    // Values equal to a node id would read as references to that node (here, to itself).
    name: `${id} workspace`,
    storeName: `${id}-store`,
    quotaAllowance: '10',
    quotaPeriod: 'none',
    refundDelayMinutes: '0',
    gapMinSeconds: '0.01',
    gapMaxSeconds: '0.02',
    capPerHour: '',
    capPerDay: '',
    allowPrivateFileUrls: false,
    dryRunPhones: '+15105566777',
    initialToken: `${id}-token-0123456789abcdef`,
    ...overrides,
  };
}

export function webhookFlow(workspaceId: string, workspace: Record<string, unknown> = {}) {
  return [
    workspaceNode(workspaceId, workspace),
    { id: `${workspaceId}-webhook`, type: 'whatsapp-webhook', z: 'tab', workspace: workspaceId, wires: [[`${workspaceId}-accepted`], [`${workspaceId}-status`]] },
    { id: `${workspaceId}-accepted`, type: 'helper', z: 'tab' },
    { id: `${workspaceId}-status`, type: 'helper', z: 'tab' },
    { id: 'tab', type: 'tab', label: 'test' },
  ];
}
