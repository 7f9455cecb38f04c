#!/usr/bin/env node
// The README's client setups with real packages, against the mlte-graphql binary:
//
//   cd tests/clients && npm ci && node run.mjs
//
// 1. README.md holds cache.mjs and codegen.ts verbatim (its snippets are these files;
//    indentation aside).
// 2. graphql-codegen (client preset) generates types from schema.graphql, and
//    `tsc --strict` compiles src/operations.ts with them (and refuses what they forbid).
// 3. Apollo Client with the README's InMemoryCache logs in, lists users, edits one:
//    the cached `user(u)` and the cached list show the edit with no request sent.
// 4. Apollo's persisted-query link: the first use of a query sends its hash alone, is
//    answered PERSISTED_QUERY_NOT_FOUND and resent with the query; later uses send the
//    hash alone and are answered.
// Starts the binary (MLTE_BIN, default ../../target/debug/mlte-graphql) on a fresh
// SQLite database. Exit status 0 when every check passes, 1 otherwise.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ApolloClient, ApolloLink, HttpLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

import { startServer } from '../conformance/server.mjs';
import { createCache } from './cache.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
let passed = 0;
const check = (ok, what, detail = '') => {
  if (!ok) throw new Error(`${what}${detail ? `: ${detail}` : ''}`);
  passed += 1;
  console.log(`ok - ${what}`);
};

function readmeSnippets() {
  // Line by line, whatever the indentation (the README's snippets sit in a list).
  const lines = (text) => text.split('\n').map((line) => line.trim()).join('\n');
  const readme = lines(readFileSync(join(repo, 'README.md'), 'utf8'));
  for (const file of ['cache.mjs', 'codegen.ts']) {
    const text = lines(readFileSync(join(here, file), 'utf8').trim());
    check(readme.includes(text), `README.md holds tests/clients/${file} verbatim`);
  }
}

function codegenAndTsc() {
  copyFileSync(join(repo, 'schema.graphql'), join(here, 'schema.graphql'));
  const bin = (name) => join(here, 'node_modules', '.bin', name);
  execFileSync(bin('graphql-codegen'), ['--config', 'codegen.ts', '--silent'], { cwd: here, stdio: 'inherit' });
  check(true, 'graphql-codegen generated src/gql/ from schema.graphql');
  execFileSync(bin('tsc'), ['-p', '.'], { cwd: here, stdio: 'inherit' });
  check(true, 'tsc --strict compiles the typed operations (and refuses the wrong uses)');
}

/** An Apollo Client on `url` whose requests carry `auth.token`; `sent` keeps their bodies. */
function client(url, auth, sent, link = null) {
  const http = new HttpLink({
    uri: url,
    fetch: (input, init) => {
      sent.push(JSON.parse(init.body));
      const headers = { ...init.headers, ...(auth.token && { authorization: `Bearer ${auth.token}` }) };
      return fetch(input, { ...init, headers });
    },
  });
  return new ApolloClient({ link: link ? ApolloLink.from([link, http]) : http, cache: createCache() });
}

async function cacheKeepsEditsInPlace(server) {
  const auth = { token: null };
  const sent = [];
  const apollo = client(server.url, auth, sent);
  const login = await apollo.mutate({
    mutation: gql`mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`,
    variables: { u: 'admin', p: server.password },
  });
  auth.token = login.data.login.accessToken;
  check(typeof auth.token === 'string', 'Apollo Client logs in');
  await apollo.mutate({
    mutation: gql`mutation { createUser(input: {username: "ann", password: "ann-password-1", fullName: "Ann"}) { username } }`,
  });
  const USERS = gql`query Users { users { username fullName } }`;
  const USER = gql`query User($u: String!) { user(username: $u) { username fullName } }`;
  const list = await apollo.query({ query: USERS });
  check(list.data.users.some((u) => u.username === 'ann'), 'lists users');
  const before = await apollo.query({ query: USER, variables: { u: 'ann' } });
  check(before.data.user.fullName === 'Ann', 'reads user(ann)');
  await apollo.mutate({
    mutation: gql`mutation Edit($u: String!) { editUser(input: {username: $u, fullName: "Ann Edited"}) { username fullName } }`,
    variables: { u: 'ann' },
  });
  const requests = sent.length;
  const cached = await apollo.query({ query: USER, variables: { u: 'ann' }, fetchPolicy: 'cache-only' });
  const cachedList = await apollo.query({ query: USERS, fetchPolicy: 'cache-only' });
  check(cached.data?.user?.fullName === 'Ann Edited', 'the cached user(ann) shows the edit', JSON.stringify(cached.data));
  check(cachedList.data?.users.find((u) => u.username === 'ann')?.fullName === 'Ann Edited', 'so does the cached list');
  check(sent.length === requests, 'without a request', `${sent.length - requests} sent`);
  return auth.token;
}

async function persistedQueries(server, token) {
  const sent = [];
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const apollo = client(server.url, { token }, sent, new PersistedQueryLink({ sha256 }));
  const ME = gql`query Me { me { username } }`;
  const first = await apollo.query({ query: ME, fetchPolicy: 'network-only' });
  check(first.data.me.username === 'admin', 'a query through the persisted-query link is answered');
  check(sent.length === 2 && sent[0].query === undefined && typeof sent[1].query === 'string',
    'its first use sent the hash alone, then the query', JSON.stringify(sent.map((b) => Object.keys(b))));
  const second = await apollo.query({ query: ME, fetchPolicy: 'network-only' });
  check(second.data.me.username === 'admin' && sent.length === 3 && sent[2].query === undefined,
    'the next use sends the hash alone and is answered');
}

async function main() {
  readmeSnippets();
  codegenAndTsc();
  const server = await startServer();
  try {
    const token = await cacheKeepsEditsInPlace(server);
    await persistedQueries(server, token);
  } finally {
    await server.stop();
  }
  console.log(`\nclients: ${passed} passed, 0 failed`);
}

main().catch((error) => {
  console.error(`FAILED: ${error?.stack || error}`);
  console.log(`\nclients: ${passed} passed, 1 failed`);
  process.exit(1);
});
