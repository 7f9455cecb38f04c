// Starts the mlte-graphql binary on a fresh SQLite database and a free port, for the
// conformance audits (run.mjs) and the browser test (../browser/run.mjs).
//
//   const server = await startServer();   // { url, origin, port, password, stop(), log() }
//   ...
//   await server.stop();
//
// Env: MLTE_BIN (default ../../target/debug/mlte-graphql from this file; built by
// `cargo build`), MLTE_START_TIMEOUT_SECS (default 60), MLTE_SHOW_LOG=1 to echo the
// server's stderr as it comes.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const defaultBin = resolve(here, '../../target/debug/mlte-graphql');

// tracing may colour its output even into a pipe.
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

export async function startServer({ bin = process.env.MLTE_BIN || defaultBin, showLog = process.env.MLTE_SHOW_LOG === '1' } = {}) {
  bin = resolve(bin);
  if (!existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (run \`cargo build\` in the repo root, or set MLTE_BIN)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mlte-conformance-'));
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, 'c.db')}`,
    MLTE_LISTEN: '127.0.0.1:0',
    MLTE_JWT_SECRET: randomBytes(48).toString('base64'),
    MLTE_ADMIN_PASSWORD: password,
    RUST_LOG: 'info',
  };
  const child = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logText = '';
  const onData = (chunk) => {
    const text = stripAnsi(chunk.toString());
    logText += text;
    if (showLog) process.stderr.write(`[server] ${text}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; res(exited); }));

  const cleanup = () => { try { rmSync(dir, { recursive: true, force: true }); } catch {} };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    cleanup();
  };
  // Never leave the server behind, whatever ends this process.
  process.once('exit', () => { if (!exited) child.kill('SIGKILL'); cleanup(); });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => { await stop(); process.exit(130); });
  }

  const timeoutMs = Number(process.env.MLTE_START_TIMEOUT_SECS || 60) * 1000;
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no "listen=127.0.0.1:PORT" line within ${timeoutMs / 1000}s; log:\n${logText}`)), timeoutMs);
    const check = () => {
      const m = /listen=127\.0\.0\.1:(\d+)/.exec(logText);
      if (m && Number(m[1]) !== 0) { clearTimeout(timer); res(Number(m[1])); }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    exitPromise.then((e) => { clearTimeout(timer); rej(new Error(`server exited (${JSON.stringify(e)}) before it listened; log:\n${logText}`)); });
    child.on('error', (err) => { clearTimeout(timer); rej(err); });
  }).catch(async (err) => { await stop(); throw err; });

  const origin = `http://127.0.0.1:${port}`;
  return { url: `${origin}/graphql`, origin, port, password, stop, log: () => logText, pid: child.pid };
}

/** `mutation { login }` as admin: the access token, or an Error with the answer. */
export async function login(url, password, username = 'admin') {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      query: 'mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
      variables: { u: username, p: password },
    }),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { throw new Error(`login: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`); }
  const token = body?.data?.login?.accessToken;
  if (!token) throw new Error(`login: HTTP ${res.status}, no token: ${text.slice(0, 500)}`);
  return token;
}
