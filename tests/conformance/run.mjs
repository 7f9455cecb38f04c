#!/usr/bin/env node
// GraphQL-over-HTTP conformance of mlte-graphql, by graphql-http's server audits.
//
//   cd tests/conformance && npm ci && node run.mjs
//
// Starts the binary (MLTE_BIN, default ../../target/debug/mlte-graphql; build it with
// `cargo build`) on a fresh SQLite database and a free port, logs in as admin, runs
// every audit of graphql-http's serverAudits() with `Authorization: Bearer <token>` on
// every request, prints each result, and stops the server.
//
// Exit status: 0 when every MUST audit passes (SHOULD/MAY failures are printed as
// warnings), 1 when a MUST audit fails, 2 when the run itself could not be done.
//
// Env: MLTE_BIN, MLTE_SHOW_LOG=1 (echo the server's log), MLTE_AUDIT_JSON=<file>
// (also write the results as JSON), MLTE_START_TIMEOUT_SECS (default 60).

import { writeFileSync } from 'node:fs';
import { serverAudits } from 'graphql-http';
import { login, startServer } from './server.mjs';

const requirement = (name) => name.split(' ')[0]; // MUST / SHOULD / MAY

async function describeResponse(res) {
  if (!res || typeof res.status !== 'number') return '';
  let body = '';
  try {
    body = res.bodyUsed ? '(body already read by the audit)' : await res.clone().text();
  } catch {
    body = '(body unreadable)';
  }
  if (body.length > 400) body = `${body.slice(0, 400)}…`;
  return `HTTP ${res.status} content-type=${res.headers.get('content-type') ?? '(none)'} body=${body}`;
}

async function main() {
  const server = await startServer();
  try {
    console.log(`server: ${server.url} (pid ${server.pid})`);
    const token = await login(server.url, server.password);
    console.log('login: got an access token');

    // Do the audits' `{ __typename }` requests need the token? (They should not:
    // RULES says only fields other than login and introspection need one.)
    const anon = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    console.log(`{ __typename } without a token: HTTP ${anon.status} ${await anon.text()}`);

    const fetchFn = (input, init = {}) => {
      const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };

    const audits = serverAudits({ url: server.url, fetchFn });
    const results = [];
    console.log(`\nrunning ${audits.length} audits\n`);
    for (const audit of audits) {
      let result;
      try {
        result = await audit.fn();
      } catch (err) {
        // An audit throws only on a fatal problem (e.g. the server went away).
        result = { id: audit.id, name: audit.name, status: 'error', reason: `audit threw: ${err?.stack || err}` };
      }
      const level = requirement(audit.name);
      const detail = result.status === 'ok' ? '' : await describeResponse(result.response);
      results.push({ id: audit.id, name: audit.name, requirement: level, status: result.status, reason: result.reason ?? null, response: detail || null });
      const line = `${result.status.toUpperCase().padEnd(6)} ${level.padEnd(6)} ${audit.id}  ${audit.name}`;
      console.log(line);
      if (result.status !== 'ok') {
        console.log(`         reason: ${result.reason}`);
        if (detail) console.log(`         response: ${detail}`);
      }
    }

    const count = (pred) => results.filter(pred).length;
    const failedMust = results.filter((r) => r.requirement === 'MUST' && r.status !== 'ok');
    const failedShould = results.filter((r) => r.requirement === 'SHOULD' && r.status !== 'ok');
    const failedMay = results.filter((r) => r.requirement === 'MAY' && r.status !== 'ok');
    console.log('\nsummary:');
    for (const level of ['MUST', 'SHOULD', 'MAY']) {
      const all = count((r) => r.requirement === level);
      const ok = count((r) => r.requirement === level && r.status === 'ok');
      console.log(`  ${level.padEnd(6)} ${ok}/${all} ok`);
    }
    for (const [label, list] of [['failing MUST', failedMust], ['failing SHOULD', failedShould], ['failing MAY', failedMay]]) {
      if (list.length === 0) continue;
      console.log(`\n${label}:`);
      for (const r of list) console.log(`  ${r.id} ${r.name}\n      ${r.reason}`);
    }
    if (process.env.MLTE_AUDIT_JSON) {
      writeFileSync(process.env.MLTE_AUDIT_JSON, JSON.stringify(results, null, 2));
      console.log(`\nresults written to ${process.env.MLTE_AUDIT_JSON}`);
    }
    const passed = results.length - count((r) => r.status !== 'ok');
    console.log(`\nconformance: ${passed} passed, ${results.length - passed} failed (${failedMust.length} MUST)`);
    return failedMust.length === 0 ? 0 : 1;
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`conformance run failed: ${err?.stack || err}`);
    process.exit(2);
  },
);
