#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { serve } from './serve';

const USAGE = `Usage:
  wahook serve --store <file.sqlite> [--host 127.0.0.1] [--port 8080] [--dry-run <phone>]
      Serves the TimelinesAI-compatible webhook alone, on the embedded SQLite store.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: {
        store: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        'dry-run': { type: 'string' },
      },
    });
    if (!values.store) return usage('--store is required.');
    await serve(
      {
        store: values.store,
        host: values.host,
        port: Number(values.port),
        ...(values['dry-run'] ? { dryRunPhone: values['dry-run'].replace(/\D/g, '') } : {}),
      },
      (line) => console.log(line),
    );
    return 0;
  }
  return usage(command ? `Unknown command "${command}".` : 'No command given.');
}

function usage(problem: string): number {
  console.error(`${problem}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
