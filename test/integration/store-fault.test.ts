import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultyFs } from '../support/faulty-fs';

// The crash test's child (dist build, a dry-run recorder that takes a few ms per send, gaps of 0-2 ms),
// here with its store on a small tmpfs that the test fills for a few seconds while senders keep calling.
const CHILD = join(__dirname, '../support/crash-child.js');
const DISK_BYTES = 64 * 1024 * 1024;
const SENDERS = 4;
/** Pause of each sender between its calls: a few hundred calls a second in all, faster than the drain. */
const SENDER_GAP_MS = 10;
/** Calls accepted before the disk is filled, so the dispatcher is mid-queue when it fills. */
const WARM_UP_ACCEPTS = 150;
/**
 * The disk fills this many times, for FULL_MS each, with load in between. Each fill lands at a random
 * moment of the dispatcher's cycle (claim, send, record the outcome), so several fills catch more of them.
 */
const FILLS = 5;
const FULL_MS = 2_000;
/** After the disk is freed, a call must be answered 200 within this. */
const RESUME_WITHIN_MS = 10_000;
/** Calls accepted after each free before the next fill (or the end), to show that accepting really resumed. */
const ACCEPTS_AFTER_FREE = 60;
const DRAIN_WITHIN_MS = 20_000;
/** A call that takes longer than this is a hang. */
const CALL_TIMEOUT_MS = 8_000;
/** Upper bound on calls, whatever happens (a dead child answers instantly with connection errors). */
const MAX_CALLS = 20_000;
const SAMPLES = 5;

interface Call {
  readonly text: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** 0 when there was no HTTP answer (connection error or timeout). */
  readonly status: number;
  readonly retryAfter: string | null;
  readonly contentType: string | null;
  readonly body: string;
  readonly error?: string;
}

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly stderr: string[];
  /** Where the child's store failed: the first frames (below inTransaction) under each "disk is full" it logged. */
  readonly faultSites: Map<string, number>;
}

async function startChild(storePath: string): Promise<Child> {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, WAHOOK_STORE: storePath }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  const faultSites = new Map<string, number>();
  let frames: string[] | undefined;
  const tally = () => {
    if (frames?.length) faultSites.set(frames.join(' < '), (faultSites.get(frames.join(' < ')) ?? 0) + 1);
    frames = undefined;
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 2000) stderr.push(line);
    const frame = /^\s+at (?:async )?(\S+)/.exec(line)?.[1];
    if (frames && frame) {
      if (frame !== 'inTransaction' && frames.length < 3) frames.push(frame);
    } else {
      tally();
      if (/disk is full/.test(line)) frames = [];
    }
  });
  child.stderr!.on('end', tally);
  const ready = (async () => {
    for await (const line of createInterface({ input: child.stdout! })) {
      const match = /^READY (\d+) (\S+)$/.exec(line);
      if (match) return { process: child, url: `http://127.0.0.1:${match[1]}/whatsapp/${match[2]}`, stderr, faultSites };
    }
    throw new Error(`the child exited before it was ready: ${stderr.join('\n')}`);
  })();
  try {
    return await within(ready, 15_000, 'the child was not ready within 15 s');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** `promise`, or a rejection with `message` after `ms`; leaves no timer behind either way. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Stops the child by its PID: SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (!alive(child)) return;
  const exited = once(child, 'exit');
  process.kill(child.pid!, 'SIGTERM');
  const done = await within(exited, 5_000, 'no exit').then(
    () => true,
    () => false,
  );
  if (!done && alive(child)) {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
}

async function call(url: string, text: string): Promise<Call> {
  const startedAt = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'send', phone: '+14151231234', text }),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const body = await response.text();
    return {
      text,
      startedAt,
      endedAt: performance.now(),
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      contentType: response.headers.get('content-type'),
      body,
    };
  } catch (error) {
    return { text, startedAt, endedAt: performance.now(), status: 0, retryAfter: null, contentType: null, body: '', error: String(error) };
  }
}

/** The internal id of an accepted call, from `{"status":"success","data":{"message_id":"wa_backend:<id>"}}`. */
function acceptedId(call: Call): string | undefined {
  try {
    const body = JSON.parse(call.body) as { status?: unknown; data?: { message_id?: unknown } };
    const id = body.data?.message_id;
    return body.status === 'success' && typeof id === 'string' && id.startsWith('wa_backend:') ? id.slice('wa_backend:'.length) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with a 503 against the contract, or undefined: a Retry-After header, a JSON body of
 * exactly {"status":503,"data":{},"message":"<sentence>"}, the sentence naming the store's problem.
 */
function contract503Problem(call: Call): string | undefined {
  const retryAfter = call.retryAfter;
  if (retryAfter === null) return 'no Retry-After header';
  const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  if (seconds === undefined ? Number.isNaN(Date.parse(retryAfter)) : seconds <= 0) return `Retry-After is not a delay: "${retryAfter}"`;
  if (!call.contentType?.startsWith('application/json')) return `content-type ${call.contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(call.body);
  } catch {
    return `body is not JSON: ${call.body.slice(0, 200)}`;
  }
  const { status, data, message, ...rest } = body as { status?: unknown; data?: unknown; message?: unknown };
  if (status !== 503 || JSON.stringify(data) !== '{}' || typeof message !== 'string' || Object.keys(rest).length > 0) {
    return `body is not the contract's {"status":503,"data":{},"message":…}: ${call.body.slice(0, 200)}`;
  }
  if (!/^[A-Z][\s\S]*[.!]$/.test(message.trim())) return `message is not a sentence: "${message}"`;
  if (!/\b(store|database|disk)\b/i.test(message)) return `message does not name the store problem: "${message}"`;
  return undefined;
}

const brief = (call: Call, phase: string) => ({
  phase,
  status: call.status,
  ms: Math.round(call.endedAt - call.startedAt),
  ...(call.error ? { error: call.error } : {}),
  ...(call.retryAfter !== null ? { retryAfter: call.retryAfter } : {}),
  body: call.body.slice(0, 240),
});

interface StoreState {
  readonly pending: Record<string, number>;
  readonly messages: { id: string; text: string | null; status: string }[];
  readonly recorded: { id: string; text: string | null; times: number }[];
  readonly intakeIds: string[];
}

/** The store as another process sees it: a read-only connection, closed again at once. */
function readStore(path: string): StoreState {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const messages = db.prepare('SELECT id, text, status FROM messages ORDER BY seq').all() as unknown as StoreState['messages'];
    const recorded = db.prepare('SELECT id, text, times FROM dry_run_sent ORDER BY rowid').all() as unknown as StoreState['recorded'];
    const intakeIds: string[] = [];
    for (const row of db.prepare('SELECT payload FROM intake').all() as { payload: string }[]) {
      for (const message of (JSON.parse(row.payload) as { messages: { id: string }[] }).messages) intakeIds.push(message.id);
    }
    const pending: Record<string, number> = {};
    for (const message of messages) if (message.status === 'queued' || message.status === 'sending') pending[message.status] = (pending[message.status] ?? 0) + 1;
    if (intakeIds.length > 0) pending.intake = intakeIds.length;
    return { pending, messages, recorded, intakeIds };
  } finally {
    db.close();
  }
}

describe('a store whose disk fills up under load', () => {
  let disk: FaultyFs | undefined;
  let child: Child | undefined;
  afterAll(async () => {
    if (child) await stop(child.process);
    disk?.free();
    disk?.unmount();
  });

  it('answers 503 with Retry-After while full, resumes by itself once freed and sends every accepted message once', async () => {
    disk = FaultyFs.mount(DISK_BYTES);
    const storePath = join(disk.path, 'store.sqlite');
    child = await startChild(storePath);
    const pid = child.process.pid;
    const { url } = child;

    const calls: Call[] = [];
    interface Fault {
      fillStarted: number;
      fillEnded: number;
      freeStarted: number;
      freeEnded: number;
      fillerBytes: number;
      pendingWhenFilled: Record<string, number>;
    }
    const faults: Fault[] = [];
    let stopSending = false;
    let sequence = 0;
    const sender = async () => {
      while (!stopSending && calls.length < MAX_CALLS && alive(child!.process)) {
        calls.push(await call(url, `store fault ${sequence++}`));
        await sleep(SENDER_GAP_MS * (0.5 + Math.random()));
      }
    };
    const senders = Promise.all(Array.from({ length: SENDERS }, sender));
    const acceptedSince = (at: number) => calls.filter((c) => c.startedAt >= at && c.status === 200);

    // 1. Load on a healthy disk, until the queue is moving.
    const warmUpUntil = Date.now() + 10_000;
    while (acceptedSince(0).length < WARM_UP_ACCEPTS && Date.now() < warmUpUntil && alive(child.process)) await sleep(20);

    for (let i = 0; i < FILLS && alive(child.process); i++) {
      // 2. The disk fills for a few seconds while the senders keep calling; 3. it is freed again.
      const pendingWhenFilled = readStore(storePath).pending;
      const fillStarted = performance.now();
      const fillerBytes = disk.fill();
      const fillEnded = performance.now();
      await sleep(FULL_MS);
      const freeStarted = performance.now();
      disk.free();
      const freeEnded = performance.now();
      faults.push({ fillStarted, fillEnded, freeStarted, freeEnded, fillerBytes, pendingWhenFilled });
      // 4. Accepting must resume by itself: a 200 for a call started after the free, within the bound;
      // then some more load on the healthy disk.
      const resumeUntil = Date.now() + RESUME_WITHIN_MS;
      while (acceptedSince(freeEnded).length === 0 && Date.now() < resumeUntil && alive(child.process)) await sleep(20);
      const moreUntil = Date.now() + 5_000;
      while (acceptedSince(freeEnded).length < ACCEPTS_AFTER_FREE && Date.now() < moreUntil && alive(child.process)) await sleep(20);
    }
    stopSending = true;
    await senders;

    // 5. The queue must drain by itself, with the same process.
    const drainUntil = Date.now() + DRAIN_WITHIN_MS;
    let pending = readStore(storePath).pending;
    while (Object.keys(pending).length > 0 && Date.now() < drainUntil && alive(child.process)) {
      await sleep(100);
      pending = readStore(storePath).pending;
    }
    const childAliveUntilStopped = alive(child.process);
    const childExit = childAliveUntilStopped ? null : { code: child.process.exitCode, signal: child.process.signalCode };
    await stop(child.process);

    // 6. What the store holds, read after the child exited.
    const store = readStore(storePath);
    /** before the first fill; full (wholly inside a full window); edge (across a fill or a free); healthy (after a free). */
    const phaseOf = (c: Call) => {
      if (c.endedAt < (faults[0]?.fillStarted ?? Infinity)) return 'before';
      if (faults.some((f) => c.startedAt >= f.fillEnded && c.endedAt <= f.freeStarted)) return 'full';
      if (faults.some((f) => c.startedAt < f.fillEnded && c.endedAt > f.fillStarted) || faults.some((f) => c.startedAt < f.freeEnded && c.endedAt > f.freeStarted)) {
        return 'edge';
      }
      return 'healthy';
    };
    const byPhase = (phase: string) => calls.filter((c) => phaseOf(c) === phase);
    const statusCounts = (list: Call[]) => list.reduce<Record<string, number>>((counts, c) => ({ ...counts, [c.status]: (counts[c.status] ?? 0) + 1 }), {});

    const acceptedById = new Map<string, string>();
    const okWithoutId: Call[] = [];
    for (const c of calls.filter((c) => c.status === 200)) {
      const id = acceptedId(c);
      if (id) acceptedById.set(id, c.text);
      else okWithoutId.push(c);
    }
    const callByText = new Map(calls.map((c) => [c.text, c]));
    const recordedById = new Map(store.recorded.map((r) => [r.id, r]));
    const messageById = new Map(store.messages.map((m) => [m.id, m]));
    const idsByText = new Map<string, string[]>();
    for (const r of store.recorded) idsByText.set(r.text ?? '', [...(idsByText.get(r.text ?? '') ?? []), r.id]);
    /** Per fill: ms from the free to the first 200 of a call started after it (null: none). */
    const resumedAfterMs = faults.map((f) => {
      const first = acceptedSince(f.freeEnded).sort((a, b) => a.endedAt - b.endedAt)[0];
      return first ? Math.round(first.endedAt - f.freeEnded) : null;
    });

    const info = {
      pid,
      fills: faults.map((f) => ({ pendingWhenFilled: f.pendingWhenFilled, fillerBytes: f.fillerBytes, fullForMs: Math.round(f.freeStarted - f.fillEnded) })),
      calls: calls.length,
      statusesByPhase: Object.fromEntries(['before', 'full', 'edge', 'healthy'].map((phase) => [phase, statusCounts(byPhase(phase))])),
      resumedAfterMs,
      slowestCallMs: Math.round(Math.max(0, ...calls.map((c) => c.endedAt - c.startedAt))),
      accepted: acceptedById.size,
      messagesByStatus: store.messages.reduce<Record<string, number>>((counts, m) => ({ ...counts, [m.status]: (counts[m.status] ?? 0) + 1 }), {}),
      recorded: store.recorded.length,
      childExit,
      storeFaultSites: Object.fromEntries(child.faultSites),
      childStderrFirst: child.stderr.slice(0, 8),
    };
    console.log(`store-fault run: ${JSON.stringify(info, null, 2)}`);

    // Every check at once, so that one run shows all that is wrong.
    expect({
      childAliveUntilStopped,
      fills: faults.length,
      // Each fill must catch messages accepted and not yet sent, or the drain afterwards proves nothing.
      fillsWithoutBacklog: faults.filter((f) => (f.pendingWhenFilled.queued ?? 0) + (f.pendingWhenFilled.intake ?? 0) === 0).length,
      // Answers: only 200 or the contract's 503, never a 500, a connection error or a hang.
      answersOtherThan200Or503: calls.filter((c) => c.status !== 200 && c.status !== 503).slice(0, SAMPLES).map((c) => brief(c, phaseOf(c))),
      okAnswersWithoutId: okWithoutId.slice(0, SAMPLES).map((c) => brief(c, phaseOf(c))),
      answeredBeforeTheFirstFillWithout200: byPhase('before').filter((c) => c.status !== 200).slice(0, SAMPLES).map((c) => brief(c, 'before')),
      fillsWithout503: faults.filter((f) => !calls.some((c) => c.status === 503 && c.startedAt >= f.fillEnded && c.endedAt <= f.freeStarted)).length,
      malformed503s: calls
        .filter((c) => c.status === 503)
        .map((c) => ({ ...brief(c, phaseOf(c)), problem: contract503Problem(c) }))
        .filter((c) => c.problem !== undefined)
        .slice(0, SAMPLES),
      // After each free: accepting resumes by itself within the bound, and keeps going.
      fillsNotResumedWithinBound: resumedAfterMs.filter((ms) => ms === null || ms > RESUME_WITHIN_MS).length,
      fillsWithFewAcceptsAfter: faults.filter((f, i) => calls.filter((c) => c.status === 200 && c.startedAt >= f.freeEnded && c.startedAt < (faults[i + 1]?.fillStarted ?? Infinity)).length < ACCEPTS_AFTER_FREE).length,
      // The queue drained by itself: nothing queued, sending or still in the intake.
      pendingAtTheEnd: store.pending,
      // Every id answered 200 reached the dry-run record exactly once, with its text.
      acceptedNotRecorded: [...acceptedById]
        .filter(([id, text]) => recordedById.get(id)?.text !== text)
        .slice(0, SAMPLES)
        .map(([id, text]) => ({ id, text, message: messageById.get(id) ?? null, recorded: recordedById.get(id) ?? null })),
      recordedMoreThanOnce: store.recorded.filter((r) => r.times !== 1).slice(0, SAMPLES),
      textsUnderSeveralIds: [...idsByText].filter(([, ids]) => ids.length > 1).slice(0, SAMPLES),
      // Nothing in the store that the caller was not told was accepted (a 503 means nothing was queued).
      storedButNotAnswered200: store.messages
        .filter((m) => !acceptedById.has(m.id))
        .slice(0, SAMPLES)
        .map((m) => ({ ...m, answer: callByText.has(m.text ?? '') ? brief(callByText.get(m.text ?? '')!, phaseOf(callByText.get(m.text ?? '')!)) : null })),
    }).toEqual({
      childAliveUntilStopped: true,
      fills: FILLS,
      fillsWithoutBacklog: 0,
      answersOtherThan200Or503: [],
      okAnswersWithoutId: [],
      answeredBeforeTheFirstFillWithout200: [],
      fillsWithout503: 0,
      malformed503s: [],
      fillsNotResumedWithinBound: 0,
      fillsWithFewAcceptsAfter: 0,
      pendingAtTheEnd: {},
      acceptedNotRecorded: [],
      recordedMoreThanOnce: [],
      textsUnderSeveralIds: [],
      storedButNotAnswered200: [],
    });
  }, 110_000);
});
