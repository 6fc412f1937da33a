import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics } from 'prom-client';
import { ConfigError } from '../topology/errors.ts';
import type { PipelineMetrics } from '../topology/metrics.ts';

export interface MetricsServer {
  /** `http://host:port`, with the port the OS chose when 0 was asked for. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics`: Prometheus text format (the pipeline's metrics and Node's process metrics).
 * `GET /health`: 200 when ready (sources streaming, sinks assigned), 503 before; JSON body either way.
 */
export async function serveMetrics(metrics: PipelineMetrics, host: string, port: number): Promise<MetricsServer> {
  collectDefaultMetrics({ register: metrics.registry });
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else if (path === '/health') {
      const health = metrics.health();
      response.writeHead(health.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
    } else {
      response.writeHead(404).end('GET /metrics or /health\n');
    }
  });
  await listen(server, host, port);
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
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
