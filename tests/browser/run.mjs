#!/usr/bin/env node
// The GraphiQL playground as a person uses it, in headless Chromium:
//
//   cd tests/browser && npm ci && node run.mjs
//
// Starts the binary (MLTE_BIN, default ../../target/debug/mlte-graphql; `cargo build`)
// on a fresh SQLite database and a free port, and a reverse proxy in front of it that
// serves it under /mlte/ (stripping the prefix, as `proxy_pass http://backend/;` does).
// Opens http://…/mlte/graphql, logs in with the page's login form, runs
// `{ me { username } }` and checks the result pane shows "admin"; then checks that
// nothing the user typed or received (password, token, query) is in localStorage,
// sessionStorage or IndexedDB, that a reload forgets the session, and that /graphql/
// redirects to /graphql. Saves a screenshot to output/playground.png. Every request the
// page makes must go to its own origin (no CDN). Exit status 0 on success, 1 on a
// failed check, 2 when the run could not be done.
//
// Env:
//   MLTE_BIN                 server binary
//   CHROMIUM                 browser binary (default /usr/bin/chromium)
//   MLTE_SHOW_LOG=1          echo the server's log
//   MLTE_BROWSER_HEADED=1    not headless (needs a display)

import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../conformance/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outputDir = join(here, 'output');
const screenshotPath = join(outputDir, 'playground.png');

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SEL = {
  container: '.graphiql-container',
  queryEditor: 'section.graphiql-query-editor .CodeMirror',
  executeButton: 'button.graphiql-execute-button',
  editorToolsTab: (name) => `.graphiql-editor-tools button:has-text("${name}")`,
  // The editor-tools section holds the variables and headers editors; the inactive one is .hidden.
  headersEditor: 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
  result: 'section.result-window .CodeMirror',
};

const PREFIX = '/mlte';

/** A reverse proxy serving `target` (an origin) under PREFIX, the prefix stripped. */
function startPrefixProxy(target) {
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith(`${PREFIX}/`)) {
      res.writeHead(404).end();
      return;
    }
    const upstreamUrl = new URL(req.url.slice(PREFIX.length), target);
    const headers = { ...req.headers, host: upstreamUrl.host };
    const upstream = http.request(upstreamUrl, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ origin: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() }),
    ),
  );
}

/** What the page keeps in browser storage: every key and value, IndexedDB's databases. */
async function browserStorage(page) {
  return page.evaluate(async () => {
    const dump = (storage) => Object.fromEntries(Object.keys(storage).map((k) => [k, storage.getItem(k)]));
    const databases = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
    return { local: dump(localStorage), session: dump(sessionStorage), indexedDB: databases };
  });
}

class CheckFailed extends Error {}
const fail = (message) => { throw new CheckFailed(message); };
const step = (message) => console.log(`- ${message}`);

/** The text a CodeMirror 5 editor shows, line by line, from its DOM. */
async function editorText(page, selector) {
  return page.$eval(selector, (el) =>
    Array.from(el.querySelectorAll('.CodeMirror-code pre.CodeMirror-line'))
      .map((line) => line.textContent.replace(/\u200b/g, '').replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}

/** Replaces an editor's content by typing, as a user would. */
async function typeInto(page, selector, text) {
  const editor = page.locator(selector);
  await editor.waitFor({ state: 'visible' });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text, { delay: 5 });
  await page.keyboard.press('Escape'); // close an autocomplete popup, if any
  // Brackets and quotes are closed by the editor as one types and overtyped when
  // one types them: the result must be exactly the text.
  const value = await page.$eval(selector, (el) => (el.CodeMirror ? el.CodeMirror.getValue() : null));
  const shown = value ?? (await editorText(page, selector));
  if (shown !== text) fail(`editor ${selector} holds ${JSON.stringify(shown)} after typing ${JSON.stringify(text)}`);
  // GraphiQL digests an edit (operation name, tab state) after a short debounce.
  await page.waitForTimeout(400);
}

/** Clicks the run button and waits for a result pane answer to `field` (JSON). */
async function runAndRead(page, field) {
  const before = await editorText(page, SEL.result).catch(() => '');
  await page.locator(SEL.executeButton).click();
  const deadline = Date.now() + 20_000;
  let text = before;
  while (Date.now() < deadline) {
    text = await editorText(page, SEL.result).catch(() => '');
    if (text && text !== before) {
      try {
        const json = JSON.parse(text);
        if ((json.data && field in json.data) || json.errors) return { json, text };
      } catch {
        // not finished rendering yet
      }
    }
    await page.waitForTimeout(100);
  }
  fail(`no answer to ${field} in the result pane within 20 s; it shows: ${text.slice(0, 500)}`);
}

async function main() {
  const server = await startServer();
  const proxy = await startPrefixProxy(server.origin);
  let browser = null;
  try {
    const pageUrl = `${proxy.origin}${PREFIX}/graphql`;
    console.log(`server: ${server.url} (pid ${server.pid}), behind ${proxy.origin}${PREFIX}/`);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: process.env.MLTE_BROWSER_HEADED !== '1',
      args: process.env.MLTE_BROWSER_HEADED === '1' ? LAUNCH_ARGS.filter((a) => a !== '--headless') : LAUNCH_ARGS,
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);

    const requests = [];
    const failedRequests = [];
    const pageErrors = [];
    const consoleErrors = [];
    const introspection = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on('requestfailed', (r) => failedRequests.push(`${r.method()} ${r.url()} (${r.failure()?.errorText})`));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('response', async (r) => {
      if (r.request().method() !== 'POST' || !r.url().startsWith(`${proxy.origin}${PREFIX}/graphql`)) return;
      if (!(r.request().postData() || '').includes('IntrospectionQuery')) return;
      try { introspection.push({ status: r.status(), body: await r.text() }); } catch {}
    });

    const diagnose = () => {
      const lines = [];
      if (pageErrors.length) lines.push(`page errors:\n  ${pageErrors.join('\n  ')}`);
      if (consoleErrors.length) lines.push(`console errors:\n  ${consoleErrors.join('\n  ')}`);
      if (failedRequests.length) lines.push(`failed requests:\n  ${failedRequests.join('\n  ')}`);
      lines.push(`requests:\n  ${requests.join('\n  ')}`);
      return lines.join('\n');
    };

    try {
      step(`open ${pageUrl}`);
      const response = await page.goto(pageUrl, { waitUntil: 'domcontentloaded' });
      const type = response?.headers()['content-type'] ?? '(none)';
      if (!response || response.status() !== 200 || !type.startsWith('text/html')) {
        fail(`GET /graphql as a browser: HTTP ${response?.status()} content-type ${type}`);
      }
      await page.waitForSelector(SEL.container).catch(() => fail('GraphiQL did not render (.graphiql-container)'));
      await page.waitForSelector(SEL.queryEditor);

      step('log in with the login form');
      await page.fill('#login-username', 'admin');
      await page.fill('#login-password', server.password);
      await page.click('#login-submit');
      await page.waitForFunction(() => document.getElementById('login-status').textContent.startsWith('Logged in as admin'))
        .catch(async () => fail(`the form did not log in: ${await page.textContent('#login-status')}`));
      if ((await page.inputValue('#login-password')) !== '') fail('the password stays in its field after login');
      const loginPosts = requests.filter((r) => r.startsWith('POST ')).length;
      if (loginPosts === 0) fail('the form sent no request');

      step('{ me { username } } in the query editor, run (no header typed)');
      await typeInto(page, SEL.queryEditor, '{ me { username } }');
      const me = await runAndRead(page, 'me');
      if (me.json.data?.me?.username !== 'admin' || !me.text.includes('"admin"')) {
        fail(`the result pane does not show me.username = "admin": ${me.text.slice(0, 500)}`);
      }
      step('the result pane shows "username": "admin"');
      mkdirSync(outputDir, { recursive: true });
      await page.screenshot({ path: screenshotPath });
      console.log(`screenshot: ${screenshotPath}`);

      step('nothing typed or received is in browser storage');
      const relative = await page.evaluate(async () => {
        const r = await fetch('graphql', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        return r.ok ? 'checked' : `HTTP ${r.status}`;
      });
      if (relative !== 'checked') fail(`a relative fetch from the page failed: ${relative}`);
      const stored = await browserStorage(page);
      const storedText = JSON.stringify(stored);
      for (const secret of [server.password, 'me { username }', 'Bearer', 'accessToken', 'eyJ']) {
        if (storedText.includes(secret)) fail(`browser storage holds ${JSON.stringify(secret)}: ${storedText.slice(0, 800)}`);
      }
      if (Object.keys(stored.session).length || stored.indexedDB.length) {
        fail(`sessionStorage or IndexedDB is used: ${storedText.slice(0, 800)}`);
      }
      step(`browser storage: ${Object.keys(stored.local).length} localStorage keys, none with a secret or a query`);

      step('a reload forgets the session and the query');
      await page.reload({ waitUntil: 'domcontentloaded' });
      await page.waitForSelector(SEL.queryEditor);
      const status = await page.textContent('#login-status');
      if (!status.startsWith('Not logged in')) fail(`after a reload the page says: ${status}`);
      const editor = await editorText(page, SEL.queryEditor);
      if (editor.includes('me { username }')) fail(`after a reload the editor still holds the last query: ${editor}`);

      step('/graphql/ redirects to /graphql, relatively');
      const redirect = await fetch(`${proxy.origin}${PREFIX}/graphql/?query=%7B__typename%7D`, { redirect: 'manual' });
      const location = redirect.headers.get('location');
      if (redirect.status !== 308 || location !== '../graphql?query=%7B__typename%7D') {
        fail(`GET /graphql/ answered ${redirect.status} with Location ${location}`);
      }

      // Every request must stay on the page's own origin (no CDN, no fonts from afar).
      const foreign = requests.filter((r) => {
        const url = r.slice(r.indexOf(' ') + 1);
        return !url.startsWith(`${proxy.origin}${PREFIX}/`) && !url.startsWith('data:');
      });
      if (foreign.length) fail(`requests to other origins:\n  ${foreign.join('\n  ')}`);
      if (pageErrors.length) fail(`errors on the page:\n  ${pageErrors.join('\n  ')}`);

      // GraphiQL's schema (docs, autocompletion) comes from its introspection query.
      const schemaProblem =
        introspection.length === 0
          ? 'GraphiQL sent no introspection query'
          : (() => {
              const { status, body } = introspection[0];
              try {
                const json = JSON.parse(body);
                return json.data?.__schema ? null : `introspection answered HTTP ${status}: ${body.slice(0, 300)}`;
              } catch {
                return `introspection answered HTTP ${status}, not JSON: ${body.slice(0, 300)}`;
              }
            })();
      if (schemaProblem) fail(`GraphiQL cannot load the schema (no docs, no autocompletion): ${schemaProblem}`);
      step('GraphiQL loaded the schema (introspection ok)');

      console.log(`requests made by the page:\n  ${requests.join('\n  ')}`);
      if (consoleErrors.length) console.log(`console errors (not fatal):\n  ${consoleErrors.join('\n  ')}`);
      console.log('\nbrowser: 1 passed, 0 failed');
      return 0;
    } catch (err) {
      mkdirSync(outputDir, { recursive: true });
      const failurePath = join(outputDir, 'failure.png');
      await page.screenshot({ path: failurePath }).then(() => console.error(`screenshot of the failure: ${failurePath}`)).catch(() => {});
      console.error(diagnose());
      // Anything that goes wrong once the page is open (a selector that never shows
      // up included) is a failed check, not a broken run.
      throw err instanceof CheckFailed ? err : new CheckFailed(err?.message || String(err));
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    proxy.stop();
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof CheckFailed) {
      console.error(`FAILED: ${err.message}`);
      console.log('\nbrowser: 0 passed, 1 failed');
      process.exit(1);
    }
    console.error(`browser run failed: ${err?.stack || err}`);
    process.exit(2);
  },
);
