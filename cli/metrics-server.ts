import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics } from 'prom-client';
import { ConfigError } from '../topology/errors.ts';
import type { PipelineMetrics } from '../topology/metrics.ts';
import { authorized, type BasicAuth } from './basic-auth.ts';
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from './console/page.ts';
import type { ConsoleState } from './console/state.ts';

export interface MetricsServerOptions {
  metrics: PipelineMetrics;
  console: ConsoleState;
  host: string;
  port: number;
  /** Basic auth asked of every request when set. */
  auth?: BasicAuth;
  /** Removes the config's secrets from what the console answers (an error message may echo one). */
  scrub: (text: string) => string;
}

export interface MetricsServer {
  /** `http://host:port`, with the port the OS chose when 0 was asked for. */
  readonly url: string;
  close(): Promise<void>;
}

/** The page loads nothing but its own script, stylesheet and state: no inline code, no other origin. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const STATIC: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: CONSOLE_HTML },
  '/console.css': { type: 'text/css; charset=utf-8', body: CONSOLE_CSS },
  '/console.js': { type: 'text/javascript; charset=utf-8', body: CONSOLE_JS },
};

/**
 * `GET /metrics`: Prometheus text format (the pipeline's metrics and Node's process metrics).
 * `GET /health`: 200 when ready (sources streaming, sinks assigned), 503 before; JSON body either way.
 * `GET /`: the web console, a read-only page polling `GET /api/state` (cli/console/state.ts).
 * With `auth`, every path answers 401 without its credentials.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { metrics, host, port, auth } = options;
  collectDefaultMetrics({ register: metrics.registry });
  const server = createServer((request, response) => {
    if (auth !== undefined && !authorized(request, auth)) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="cdc", charset="UTF-8"' }).end();
    } else if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else {
      route(request, response, options);
    }
  });
  await listen(server, host, port);
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

function route(request: IncomingMessage, response: ServerResponse, { metrics, console, scrub }: MetricsServerOptions): void {
  const path = (request.url ?? '/').split('?')[0]!;
  const fail = (error: unknown) => response.writeHead(500).end(scrub(String(error)));
  const file = STATIC[path];
  if (file !== undefined) {
    response.writeHead(200, { 'content-type': file.type, ...PAGE_HEADERS }).end(file.body);
  } else if (path === '/api/state') {
    console.snapshot().then((state) => response.writeHead(200, { 'content-type': 'application/json', ...PAGE_HEADERS }).end(scrub(JSON.stringify(state))), fail);
  } else if (path === '/metrics') {
    metrics.registry.metrics().then((text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text), fail);
  } else if (path === '/health') {
    const health = metrics.health();
    response.writeHead(health.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
  } else {
    response.writeHead(404).end('GET / (the console), /api/state, /metrics or /health\n');
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(`metrics.port: ${host}:${port} is taken; choose another port (0 picks a free one)`)
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
