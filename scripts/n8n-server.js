// Starts and drives a real n8n (installed by scripts/n8n-install.sh) with this package loaded through
// N8N_CUSTOM_EXTENSIONS. Shared by `npm run start:n8n` (scripts/n8n.js) and the end-to-end test.
'use strict';
const { spawn, execFile } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const { createServer } = require('node:net');
const { homedir } = require('node:os');
const { join, resolve } = require('node:path');

const N8N_VERSION = '2.40.7';
const ROOT = resolve(__dirname, '..');

/** Where scripts/n8n-install.sh puts n8n. */
function n8nDir() {
  const cache = process.env.WAHOOK_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wahook');
  return join(cache, `n8n-${N8N_VERSION}`);
}

/** The n8n entry script, or an Error saying how to install it. */
function n8nEntry() {
  const entry = join(n8nDir(), 'node_modules', 'n8n', 'bin', 'n8n');
  if (!existsSync(join(n8nDir(), '.installed')) || !existsSync(entry)) {
    throw new Error(`n8n ${N8N_VERSION} is not installed in ${n8nDir()}: run \`bash scripts/n8n-install.sh\` first (about 5 minutes once, then cached).`);
  }
  return entry;
}

/** A free TCP port on localhost. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The environment of an n8n instance over `userFolder`, with our package loaded from dist/. */
function n8nEnv({ userFolder, port, brokerPort, extraEnv = {} }) {
  return {
    ...process.env,
    N8N_USER_FOLDER: userFolder,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: 'localhost',
    WEBHOOK_URL: `http://localhost:${port}/`,
    N8N_CUSTOM_EXTENSIONS: join(ROOT, 'dist'),
    // Away from 5679, the default task-broker port another n8n may hold.
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    N8N_ENCRYPTION_KEY: 'wahook-local-n8n-encryption-key',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_SECURE_COOKIE: 'false',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    DB_SQLITE_POOL_SIZE: '2',
    EXECUTIONS_MODE: 'regular',
    N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL || 'warn',
    // Jest sets NODE_ENV=test, under which `n8n start` exits at once.
    NODE_ENV: 'production',
    ...extraEnv,
  };
}

/** Runs an n8n CLI command (import:workflow, publish:workflow, ...) against the instance's folder. */
function n8nCli(env, args) {
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, [n8nEntry(), ...args], { env, timeout: 180_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`n8n ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}

/**
 * Starts `n8n start` (or, with `command`, a queue-mode `n8n worker` or `n8n webhook` process) and resolves
 * once it answers /healthz/readiness on `port` (a worker's health server, turned on here, listens there).
 * Returns its URL, the environment (for CLI commands), its output so far, and stop(). `detached`: n8n leads
 * a process group of its own, so kill(signal) reaches its children too (its task runner); a crash test
 * SIGKILLs them all at once.
 */
async function startN8n({ userFolder, port, extraEnv, onOutput, detached = false, command = 'start' } = {}) {
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`n8n ${N8N_VERSION} needs Node 24; this is Node ${process.versions.node}.`);
  const entry = n8nEntry();
  mkdirSync(userFolder, { recursive: true });
  const httpPort = port || (await freePort());
  const health = command === 'worker' ? { QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(httpPort), N8N_WORKER_SERVER_ADDRESS: '127.0.0.1' } : {};
  const env = n8nEnv({ userFolder, port: httpPort, brokerPort: await freePort(), extraEnv: { ...health, ...extraEnv } });
  const child = spawn(process.execPath, [entry, command], { env, stdio: ['ignore', 'pipe', 'pipe'], detached });
  /** Signals n8n, and with `detached` its whole process group (by its PID, the group's id). */
  const kill = (signal) => {
    if (!detached) return child.kill(signal);
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return false;
    }
  };
  let output = '';
  const collect = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    onOutput?.(chunk.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  const url = `http://localhost:${httpPort}`;
  const deadline = Date.now() + 150_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 500))]);
    if (early) throw new Error(`n8n ${command} exited (${JSON.stringify(early)}) before it was ready:\n${output}`);
    try {
      const response = await fetch(`${url}/healthz/readiness`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill('SIGKILL');
      throw new Error(`n8n ${command} was not ready within 150 s:\n${output}`);
    }
  }
  return {
    url,
    env,
    child,
    output: () => output,
    cli: (args) => n8nCli(env, args),
    kill,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        // n8n itself is gone; with `detached`, what it left in its group (a task runner) goes too.
        if (detached) kill('SIGKILL');
        return;
      }
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      if (detached) kill('SIGKILL');
    },
  };
}

module.exports = { N8N_VERSION, ROOT, n8nDir, n8nEntry, n8nEnv, n8nCli, freePort, startN8n };
