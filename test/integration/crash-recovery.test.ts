import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../shared/store/sqlite';
import { tempDir } from '../support/temp';

const TOTAL = 1000;
const KILLS = 8;
const CONCURRENCY = 8;
const CHILD = join(__dirname, '../support/crash-child.js');

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
}

async function startChild(storePath: string): Promise<Child> {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, WAHOOK_STORE: storePath }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = /^READY (\d+) (\S+)$/.exec(line);
    if (match) return { process: child, url: `http://127.0.0.1:${match[1]}/whatsapp/${match[2]}` };
  }
  throw new Error('the child exited before it was ready');
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGKILL');
  await once(child.process, 'exit');
}

/** Messages that a kill caught in flight and a restart put back in the queue. */
function recoveredInFlight(storePath: string): number {
  const db = new DatabaseSync(storePath, { readOnly: true });
  try {
    const row = db.prepare(`SELECT count(*) AS n FROM message_events WHERE detail = 'recovered after a restart'`).get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe('crash recovery of the durable outbox', () => {
  it('delivers every accepted message exactly under its id after repeated SIGKILLs', async () => {
    const dir = tempDir();
    const storePath = join(dir.path, 'crash.sqlite');
    const accepted = new Map<string, string>(); // message id -> text
    let next = 0;
    try {
      for (let round = 0; round <= KILLS; round++) {
        const child = await startChild(storePath);
        const finalRound = round === KILLS;
        const killAfter = 50 + Math.random() * 400;
        // Every round but the last ends with a kill at a random moment, also once all requests are in:
        // the child is then sending the backlog, so the kill lands mid-send rather than right after start.
        const killed = finalRound ? undefined : new Promise<void>((resolve) => setTimeout(() => void kill(child).then(resolve), killAfter));
        const worker = async () => {
          while (accepted.size < TOTAL && child.process.signalCode === null) {
            const text = `message ${next++}`;
            try {
              const response = await fetch(child.url, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
              });
              const body = (await response.json()) as { data: { message_id: string } };
              expect(response.status).toBe(200);
              accepted.set(body.data.message_id.replace('wa_backend:', ''), text);
            } catch {
              // Killed mid-request: the client never learned an id. Like a real client it may not know
              // whether the message was queued; this test never retries, so it cannot cause a duplicate.
            }
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        if (killed) {
          await killed;
          continue;
        }
        // The last process runs until everything accepted (in any round) has been handed to the recorder.
        const reader = new SqliteStore({ path: storePath });
        try {
          const deadline = Date.now() + 60_000;
          for (;;) {
            const counts = await reader.outbox.countByStatus();
            if (!counts.queued && !counts.sending) break;
            if (Date.now() > deadline) throw new Error(`still pending: ${JSON.stringify(counts)}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          const recorded = await reader.dryRun.list();
          const recordedById = new Map(recorded.map((record) => [record.id, record]));
          for (const [id, text] of accepted) expect(recordedById.get(id)?.text).toBe(text);
          const idsByText = new Map<string, string[]>();
          for (const record of recorded) idsByText.set(record.text!, [...(idsByText.get(record.text!) ?? []), record.id]);
          for (const [text, ids] of idsByText) expect({ text, ids: ids.length }).toEqual({ text, ids: 1 });
          expect(accepted.size).toBeGreaterThanOrEqual(TOTAL);
          expect(recorded.length).toBeGreaterThanOrEqual(accepted.size);
          const counts = await reader.outbox.countByStatus();
          expect(counts).toEqual({ delivered: recorded.length });
          // The kills must have hit messages in flight, or this test proves nothing about recovery.
          expect(recoveredInFlight(storePath)).toBeGreaterThan(0);
        } finally {
          await reader.close();
          await kill(child);
        }
      }
    } finally {
      dir.cleanup();
    }
  }, 120_000);
});
