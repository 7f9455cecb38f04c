// A stand-in for the routes the server will own, for developing the browser test
// before the binary embeds the playground: serves assets/graphiql/ itself and passes
// everything else to the real server.
//
//   GET /graphql (Accept: text/html, no ?query=)  -> assets/graphiql/index.html
//   GET /graphiql/<file>                          -> assets/graphiql/<file>
//   anything else                                 -> proxied to the real server
//
// Used by run.mjs when MLTE_BROWSER_ASSETS_PROXY=1.

import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const assetsDir = resolve(here, '../../assets/graphiql');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

// The policy the real server is advised to send with the playground (README).
export const PLAYGROUND_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function startAssetsProxy(upstream /* e.g. http://127.0.0.1:1234 */) {
  const files = new Map(readdirSync(assetsDir).map((name) => [name, readFileSync(join(assetsDir, name))]));
  const up = new URL(upstream);
  const served = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://proxy');
    const html = (req.headers.accept || '').includes('text/html');
    const asset = (name, headers = {}) => {
      const body = files.get(name);
      if (!body) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
      served.push(name);
      res.writeHead(200, { 'content-type': TYPES[extname(name)] || 'application/octet-stream', 'content-length': body.length, ...headers });
      res.end(body);
    };
    if (req.method === 'GET' && url.pathname === '/graphql' && html && !url.searchParams.has('query')) {
      return asset('index.html', { 'content-security-policy': PLAYGROUND_CSP, 'cache-control': 'no-cache' });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/graphiql/')) {
      const name = url.pathname.slice('/graphiql/'.length);
      if (name.includes('/') || name.startsWith('.')) { res.writeHead(404); res.end(); return; }
      return asset(name, { 'cache-control': 'public, max-age=3600' });
    }
    const proxied = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (upRes) => { res.writeHead(upRes.statusCode, upRes.headers); upRes.pipe(res); },
    );
    proxied.on('error', (err) => { res.writeHead(502, { 'content-type': 'text/plain' }); res.end(`proxy: ${err.message}`); });
    req.pipe(proxied);
  });
  return new Promise((res) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      res({ origin: `http://127.0.0.1:${port}`, served, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}
