/**
 * Runs fuzz cases against one entry point and turns what came back into findings: the generated
 * requests, slow clients, idle connections and a flood. Findings are collected, not thrown at the first
 * one, so that a failing run lists every kind of misbehaviour with one reproduction each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { garbageCases, requestCases, validRequest, type Case, type CaseSetOptions, type Target } from './cases';
import { contractViolations, describeOutcome, statusOf } from './contract';
import { exchange, idle, printable, type Outcome } from './raw-http';

/** How long any answer may take once a request is complete (generous for a 2-core machine under load). */
export const ANSWER_TIMEOUT_MS = 10_000;

/**
 * The stated limit for a client that starts a request and then goes silent: by then the server must have
 * answered it (with the contract's JSON) and closed the connection, or closed a connection that sent nothing.
 */
export const IDLE_LIMIT_MS = 40_000;

/** How long a request the engine may hold (Case.engineMayHold) is waited for. */
const ENGINE_HOLD_MS = 1_500;

export interface Finding {
  readonly family: string;
  readonly label: string;
  readonly request: string;
  readonly got: string;
  readonly problems: readonly string[];
}

export interface Ran {
  readonly cases: readonly Case[];
  readonly outcomes: readonly Outcome[];
  readonly ms: number;
}

/**
 * With WAHOOK_FUZZ_DUMP=<folder>, writes every finding of a run to <folder>/<name>.json (the report shows
 * one reproduction per group; the dump has them all). Off by default.
 */
export function dump(name: string, findings: readonly Finding[], ran?: Ran): void {
  const folder = process.env.WAHOOK_FUZZ_DUMP;
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${name}.json`), JSON.stringify(findings, null, 2));
  if (ran) {
    const all = ran.cases.map((c, i) => ({ ours: c.ours, family: c.family, label: c.label, got: describeOutcome(ran.outcomes[i]!) }));
    writeFileSync(join(folder, `${name}.all.json`), JSON.stringify(all, null, 2));
  }
}

/** Runs `count` tasks, at most `concurrency` at once. */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export function generate(target: Target, options: CaseSetOptions): { requests: Case[]; garbage: Case[] } {
  return { requests: requestCases(target, options), garbage: garbageCases(target, options) };
}

export async function run(port: number, cases: readonly Case[], concurrency: number, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Ran> {
  const started = Date.now();
  const outcomes = await pool(cases.length, concurrency, (i) => {
    const c = cases[i]!;
    return exchange({ port, segments: c.segments, halfClose: c.halfClose, head: c.head, timeoutMs: c.engineMayHold ? ENGINE_HOLD_MS : timeoutMs });
  });
  return { cases, outcomes, ms: Date.now() - started };
}

function finding(c: Pick<Case, 'family' | 'label' | 'segments'>, outcome: Outcome, problems: readonly string[]): Finding {
  return { family: c.family, label: c.label, request: printable(Buffer.concat([...c.segments]), 300), got: describeOutcome(outcome), problems };
}

/**
 * The contract for every case that reaches our handler; for the others (the engine answers them itself)
 * only that the engine answers or closes within the timeout.
 */
export function check(ran: Ran): Finding[] {
  const found: Finding[] = [];
  ran.cases.forEach((c, i) => {
    const outcome = ran.outcomes[i]!;
    const problems = c.ours
      ? contractViolations(outcome, { head: c.head, oracle: c.oracle })
      : outcome.kind === 'timeout' && !c.engineMayHold
        ? [`the engine neither answered nor closed within ${outcome.ms} ms`]
        : [];
    if (problems.length > 0) found.push(finding(c, outcome, problems));
  });
  return found;
}

/**
 * Findings grouped by what went wrong, each group with the case families it hit and its shortest
 * reproduction: what a failing run prints (and what the product's fix list is made of).
 */
export function report(findings: readonly Finding[], max = 60): string[] {
  const groups = new Map<string, { count: number; families: Map<string, number>; example: Finding }>();
  for (const f of findings) {
    const key = f.problems.map((p) => p.replace(/\d+ ms/g, 'N ms').replace(/after \d+ bytes/g, 'after N bytes').replace(/is \d+ characters/g, 'is N characters')).join('; ');
    const group = groups.get(key) ?? { count: 0, families: new Map<string, number>(), example: f };
    group.count++;
    group.families.set(f.family, (group.families.get(f.family) ?? 0) + 1);
    if (f.request.length < group.example.request.length) group.example = f;
    groups.set(key, group);
  }
  const lines = [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([key, { count, families, example }]) => {
      const top = [...families.entries()].sort((a, b) => b[1] - a[1]);
      const shown = top.slice(0, 6).map(([family, n]) => `${family} ×${n}`).join(', ') + (top.length > 6 ? `, … ${top.length - 6} more` : '');
      return `${count}× ${key}\n    in: ${shown}\n    e.g. ${example.label}\n    sent: ${example.request}\n    got:  ${example.got}`;
    });
  return lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more groups`] : lines;
}

/** Counts of statuses (or outcome kinds) per path family and per body family: printed after each run. */
export function histogram(ran: Ran): string {
  const tables = new Map<string, Map<string, number>>();
  ran.cases.forEach((c, i) => {
    const status = String(statusOf(ran.outcomes[i]!));
    for (const part of c.family.split(' | ')) {
      const family = part.replace(/ \(.*/, '');
      const counts = tables.get(family) ?? new Map<string, number>();
      counts.set(status, (counts.get(status) ?? 0) + 1);
      tables.set(family, counts);
    }
  });
  const slowest = ran.cases
    .map((c, i) => ({ c, ms: ran.outcomes[i]!.ms, status: statusOf(ran.outcomes[i]!) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map(({ c, ms, status }) => `    ${ms} ms → ${status}: ${c.label.slice(0, 160)}`);
  const times = ran.outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return [
    ...[...tables.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([family, counts]) => `  ${family}: ${[...counts.entries()].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`),
    `  time per request: median ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms; slowest:`,
    ...slowest,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------- slow clients

export interface SlowOptions {
  /** Delay between bytes. */
  readonly dripMs: number;
  /** Whether the entry point must answer the dripped garbage with the contract's JSON 400 (its own server). */
  readonly ownServer: boolean;
}

/** Requests sent one byte at a time: they must be answered as if sent at once. */
export async function slowClients(port: number, target: Target, options: SlowOptions): Promise<{ findings: Finding[]; answered200: number }> {
  const valid = validRequest(target, 'dripped', ['Connection: close']);
  const payload = valid.body;
  const chunkedHead = Buffer.from(
    `POST ${target.prefix}${target.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
  );
  const half = Math.floor(payload.length / 2);
  const chunkedBody = Buffer.concat([
    Buffer.from(`${half.toString(16)}\r\n`),
    payload.subarray(0, half),
    Buffer.from(`\r\n${(payload.length - half).toString(16)}\r\n`),
    payload.subarray(half),
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
  const wrong = validRequest({ ...target, token: 'not-the-token-0123456789' }, 'dripped', ['Connection: close']);
  const garbage = Buffer.from(`P0ST ${target.prefix}${target.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const runs: { label: string; segments: Buffer[]; drip: 'all' | 'head' | 'body'; status?: number; contract: boolean }[] = [
    { label: 'valid call, headers dripped one byte at a time', segments: [valid.head, valid.body], drip: 'head', status: 200, contract: true },
    { label: 'valid call, body dripped one byte at a time', segments: [valid.head, valid.body], drip: 'body', status: 200, contract: true },
    { label: 'valid chunked call, every byte dripped', segments: [chunkedHead, chunkedBody], drip: 'all', status: 200, contract: true },
    { label: 'unknown token, every byte dripped', segments: [wrong.head, wrong.body], drip: 'all', status: 404, contract: true },
    { label: 'garbage method, every byte dripped', segments: [garbage], drip: 'all', ...(options.ownServer ? { status: 400 } : {}), contract: options.ownServer },
  ];
  const outcomes = await Promise.all(
    runs.map((r) =>
      exchange({
        port,
        segments: r.segments,
        dripMs: options.dripMs,
        ...(r.drip === 'head' ? { dripOnly: [0] } : r.drip === 'body' ? { dripOnly: [1] } : {}),
        timeoutMs: ANSWER_TIMEOUT_MS * 3,
      }),
    ),
  );
  const found: Finding[] = [];
  runs.forEach((r, i) => {
    const outcome = outcomes[i]!;
    const problems = r.contract
      ? contractViolations(outcome, { head: false, oracle: r.status === undefined ? undefined : { status: [r.status], why: r.label } })
      : outcome.kind === 'timeout'
        ? [`the engine neither answered nor closed within ${outcome.ms} ms`]
        : [];
    if (problems.length > 0) found.push(finding({ family: `slow:${r.label}`, label: r.label, segments: r.segments }, outcome, problems));
  });
  return { findings: found, answered200: outcomes.filter(is200).length };
}

/** An answer with status 200 (whatever its body): the call was accepted. */
export function is200(outcome: Outcome): boolean {
  return outcome.kind === 'answer' && outcome.response.status === 200;
}

// ---------------------------------------------------------------------------------------------- idle clients

export interface IdleCase {
  readonly label: string;
  readonly bytes: Buffer;
  /** Whether a request was started: then it must be answered; otherwise only closed. */
  readonly started: boolean;
}

export function idleCases(target: Target): IdleCase[] {
  const line = `POST ${target.prefix}${target.token} HTTP/1.1\r\n`;
  return [
    { label: 'connected, sent nothing', bytes: Buffer.alloc(0), started: false },
    { label: 'half a request line', bytes: Buffer.from(`POST ${target.prefix}${target.token.slice(0, 6)}`), started: true },
    { label: 'request line and some headers, no blank line', bytes: Buffer.from(`${line}Host: 127.0.0.1\r\nContent-Type: application/json\r\n`), started: true },
    {
      label: 'headers complete, 10 of 100 declared body bytes',
      bytes: Buffer.from(`${line}Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"action":`),
      started: true,
    },
    {
      label: 'chunked body without its last chunk',
      bytes: Buffer.from(`${line}Host: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"ac\r\n`),
      started: true,
    },
  ];
}

/** Opens the idle connections now; the returned promise settles when each has ended or hit the limit. */
export function startIdle(port: number, target: Target, limitMs = IDLE_LIMIT_MS): Promise<{ idle: IdleCase; outcome: Outcome }[]> {
  return Promise.all(idleCases(target).map(async (c) => ({ idle: c, outcome: await idle(port, c.bytes, limitMs) })));
}

/** The idle connections' findings: a started request must have been answered by the contract, a silent one closed. */
export function checkIdle(results: { idle: IdleCase; outcome: Outcome }[]): Finding[] {
  const found: Finding[] = [];
  for (const { idle: c, outcome } of results) {
    let problems: string[];
    if (!c.started) problems = outcome.kind === 'timeout' ? [`a connection that sent nothing was still open after ${outcome.ms} ms`] : [];
    else problems = contractViolations(outcome, { head: false, oracle: undefined });
    if (problems.length > 0) found.push(finding({ family: `idle:${c.label}`, label: c.label, segments: [c.bytes] }, outcome, problems));
  }
  return found;
}

/** For an engine's own server: holds `count` idle connections open for `ms`, then drops them. */
export async function holdIdle(port: number, target: Target, count: number, ms: number): Promise<void> {
  const cases = idleCases(target);
  await Promise.all(Array.from({ length: count }, (_, i) => idle(port, cases[i % cases.length]!.bytes, ms)));
}

// ---------------------------------------------------------------------------------------------- flood

/** `count` connections at once, each with a valid call: every one must be answered 200 by the contract. */
export async function flood(
  port: number,
  target: Target,
  count: number,
  timeoutMs = 60_000,
  /** Answers the engine gives itself before our node runs (n8n's own 503 while it thinks its database is away). */
  engineRefusal: (outcome: Outcome) => boolean = () => false,
): Promise<{ findings: Finding[]; ms: number; answered200: number; refusedByEngine: number }> {
  const started = Date.now();
  const requests = Array.from({ length: count }, (_, i) => validRequest(target, `flood ${i}`, ['Connection: close']));
  const outcomes = await Promise.all(requests.map((r) => exchange({ port, segments: [Buffer.concat([r.head, r.body])], timeoutMs })));
  const findings: Finding[] = [];
  outcomes.forEach((outcome, i) => {
    if (engineRefusal(outcome)) return;
    const problems = contractViolations(outcome, { head: false, oracle: { status: [200], why: 'a valid call in a flood' } });
    if (problems.length > 0) findings.push(finding({ family: 'flood', label: `flood call ${i}`, segments: [requests[i]!.head, requests[i]!.body] }, outcome, problems));
  });
  return { findings, ms: Date.now() - started, answered200: outcomes.filter(is200).length, refusedByEngine: outcomes.filter(engineRefusal).length };
}

/** One valid call with the valid token: must be answered 200 with a message id. */
export async function validCall(port: number, target: Target): Promise<{ findings: Finding[]; answered200: number; outcome: Outcome }> {
  const r = validRequest(target, 'fuzz liveness check', ['Connection: close']);
  const outcome = await exchange({ port, segments: [Buffer.concat([r.head, r.body])], timeoutMs: ANSWER_TIMEOUT_MS });
  const problems = contractViolations(outcome, { head: false, oracle: { status: [200], why: 'a valid call with the valid token' } });
  return {
    findings: problems.length > 0 ? [finding({ family: 'liveness', label: 'valid call', segments: [r.head, r.body] }, outcome, problems)] : [],
    answered200: is200(outcome) ? 1 : 0,
    outcome,
  };
}
