import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WhatsApp } from '../../nodes/n8n/WhatsApp/WhatsApp.node';
import { WhatsAppTrigger } from '../../nodes/n8n/WhatsAppTrigger/WhatsAppTrigger.node';

const PACKAGE = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { name: string }).name;
const example = JSON.parse(readFileSync(join(__dirname, '../../docs/n8n-example-workflow.json'), 'utf8')) as {
  nodes: { name: string; type: string; parameters: Record<string, unknown> }[];
  connections: Record<string, { main: { node: string }[][] }>;
};
const ours = { [`${PACKAGE}.whatsAppTrigger`]: new WhatsAppTrigger(), [`${PACKAGE}.whatsApp`]: new WhatsApp() };

describe('docs/n8n-example-workflow.json', () => {
  it("uses this package's nodes with parameters they have, and connects both trigger outputs", () => {
    const used = example.nodes.filter((node) => node.type in ours);
    expect(used.map((node) => node.type).sort()).toEqual(Object.keys(ours).sort());
    for (const node of used) {
      const names = new Set(ours[node.type]!.description.properties.map((property) => property.name));
      for (const parameter of Object.keys(node.parameters)) expect(names).toContain(parameter);
    }
    const operations = (new WhatsApp().description.properties.find((property) => property.name === 'operation')!.options as { value: string }[]).map((option) => option.value);
    expect(operations).toContain(used.find((node) => node.type.endsWith('.whatsApp'))!.parameters.operation);
    const trigger = used.find((node) => node.type.endsWith('.whatsAppTrigger'))!;
    expect(example.connections[trigger.name]!.main.map((output) => output.length)).toEqual([1, 1]);
  });
});

describe('node help says what each output carries', () => {
  it('the trigger names both outputs; the WhatsApp node each operation\'s output', () => {
    const triggerHelp = new WhatsAppTrigger().description.properties.filter((property) => property.type === 'notice').map((property) => property.displayName).join(' ');
    expect(triggerHelp).toMatch(/"Accepted" carries .*"Status" carries/);
    const help = new WhatsApp().description.properties.find((property) => property.name === 'outputNotice')!.displayName;
    for (const operation of ['Send Message', 'Get Message Status', 'Link Account', 'List Accounts', 'List Chats', 'Get Webhook URL', 'Rotate', 'Enable/Disable', 'Get Attempt Log']) expect(help).toContain(operation);
  });
});
