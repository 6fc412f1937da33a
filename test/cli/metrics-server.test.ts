/**
 * What `cdc run` serves beside the pipeline, without a pipeline running: basic auth on every path, the
 * console's page and state, and every metric the Grafana dashboard (docs/grafana-dashboard.json) queries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../cli/config.ts';
import { ConsoleState } from '../../cli/console/state.ts';
import { serveMetrics, type MetricsServer } from '../../cli/metrics-server.ts';
import { buildPipeline } from '../../cli/pipeline.ts';
import { SecretScrubber, secretsOf } from '../../cli/secrets.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { deadLetter } from '../../topology/dead-letter.ts';
import { PipelineMetrics } from '../../topology/metrics.ts';
import { CLOSED } from './support/cli.ts';

const PASSWORD = 'console-pw-5b1e';

function configText(metrics: string): string {
  return `pipeline: shop
kafka: { brokers: ['${CLOSED}'] }
schemaRegistry: { url: 'http://${CLOSED}' }
sources: [{ name: s, type: mysql, url: 'mysql://u:source-pw@${CLOSED}/shop' }]
sinks: [{ name: copy, type: mysql, url: 'mysql://u:sink-pw@${CLOSED}/copy' }]
metrics: ${metrics}
`;
}

/** The server `cdc run` starts, on a free port, for a config that names no reachable server. */
async function withServer(metricsSection: string, body: (server: MetricsServer, metrics: PipelineMetrics) => Promise<void>): Promise<void> {
  const config = parseConfig(configText(metricsSection), 'pipeline.yaml', {});
  const metrics = new PipelineMetrics();
  const { topology, serde } = buildPipeline(config, { metrics });
  const consoleState = new ConsoleState(config, metrics, topology.describe(), serde);
  const scrubber = new SecretScrubber(secretsOf(config));
  const server = await serveMetrics({ metrics, console: consoleState, host: '127.0.0.1', port: 0, ...(config.metrics.auth ? { auth: config.metrics.auth } : {}), scrub: (text) => scrubber.scrub(text) });
  try {
    await body(server, metrics);
  } finally {
    await server.close();
    consoleState.close();
  }
}

const PATHS = ['/', '/console.js', '/console.css', '/api/state', '/metrics', '/health'];
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

test('with metrics.auth, every path answers 401 without the right credentials, and serves with them', async () => {
  await withServer(`{ port: 0, auth: { username: ops, password: '${PASSWORD}' } }`, async (server) => {
    for (const path of PATHS) {
      const anonymous = await fetch(`${server.url}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/, path);
      assert.equal((await fetch(`${server.url}${path}`, { headers: basic('ops', 'wrong') })).status, 401, path);
      assert.equal((await fetch(`${server.url}${path}`, { headers: basic('someone', PASSWORD) })).status, 401, path);
      assert.equal((await fetch(`${server.url}${path}`, { headers: basic('ops', PASSWORD) })).status, 200, path);
    }
  });
});

test('without metrics.auth every path answers; the page loads nothing from elsewhere', async () => {
  await withServer('{ port: 0 }', async (server) => {
    for (const path of PATHS) assert.notEqual((await fetch(`${server.url}${path}`)).status, 401, path);
    const page = await fetch(`${server.url}/`);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    assert.doesNotMatch(await page.text(), /https?:\/\//, 'the page names no other origin');
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  });
});

test('the console state names the topology, sources and sinks, and scrubs secrets from what it shows', async () => {
  await withServer('{ port: 0 }', async (server, metrics) => {
    metrics.sourcePhase('s', 'snapshot');
    metrics.snapshotPlanned('s', {}, { 'shop.orders': 1000 });
    metrics.incrementalProgress('s', [
      { id: 'r1', table: 'shop.items', reason: 'requested', requestedAt: 0, startedAt: Date.UTC(2026, 0, 1), rows: 200, chunks: 2, estimate: 900 },
      { id: 'r1', table: 'shop.notes', reason: 'requested', requestedAt: 0, rows: 0, chunks: 0 },
    ]);
    metrics.sinkAssigned('copy', 4);
    metrics.sinkFailed('copy', new Error(`connect to mysql://u:sink-pw@${CLOSED}/copy: refused, password sink-pw`));
    const text = await (await fetch(`${server.url}/api/state`)).text();
    assert.doesNotMatch(text, /sink-pw|source-pw/);
    const state = JSON.parse(text) as {
      topology: { text: string };
      sources: Array<{ name: string; phase: string; tables: Array<{ name: string; estimate: number }>; incremental: unknown[] }>;
      sinks: Array<{ name: string; partitions: number; lastError: { message: string } }>;
    };
    assert.match(state.topology.text, /^Topology: pipeline shop/);
    assert.deepEqual(state.sources.map((s) => [s.name, s.phase, s.tables]), [['s', 'snapshot', [{ name: 'shop.orders', rows: 0, estimate: 1000, done: false }]]]);
    assert.deepEqual(state.sources[0]!.incremental, [
      { id: 'r1', table: 'shop.items', rows: 200, estimate: 900, startedAt: '2026-01-01T00:00:00.000Z' },
      { id: 'r1', table: 'shop.notes', rows: 0, estimate: null, startedAt: null },
    ]);
    assert.deepEqual(state.sinks.map((s) => [s.name, s.partitions]), [['copy', 4]]);
    assert.match(state.sinks[0]!.lastError.message, /password \*\*\*$/);
  });
});

test('every metric the Grafana dashboard queries is served by /metrics, and every pipeline metric has a panel', async () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
  const queried = dashboardMetricNames(dashboard);
  assert.ok(queried.size >= 10, `the dashboard queries ${[...queried].join(', ')}`);
  await withServer('{ port: 0 }', async (server, metrics) => {
    exercise(metrics);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const served = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => /^[^{ ]+/.exec(line)![0]));
    const missing = [...queried].filter((name) => !served.has(name));
    assert.deepEqual(missing, [], `the dashboard queries metrics /metrics does not serve`);
    const families = [...text.matchAll(/^# TYPE (cdc_\w+) /gm)].map((match) => match[1]!);
    assert.ok(families.length >= 10, text);
    const withoutPanel = families.filter((family) => ![...queried].some((name) => name === family || name.startsWith(`${family}_`)));
    assert.deepEqual(withoutPanel, [], 'pipeline metrics the dashboard does not show');
  });
});

interface Dashboard {
  panels: Array<{ targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ query?: string | { query: string } }> };
}

/** The metric names in the dashboard's PromQL expressions and its template variables' label_values(). */
function dashboardMetricNames(dashboard: Dashboard): Set<string> {
  const names = new Set<string>();
  for (const panel of dashboard.panels) for (const target of panel.targets ?? []) for (const name of promqlMetricNames(target.expr)) names.add(name);
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const metric = /label_values\(\s*([A-Za-z_:][\w:]*)\s*,/.exec(query ?? '')?.[1];
    if (metric !== undefined) names.add(metric);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Identifiers of an expression that are neither functions, keywords, label names nor inside strings and ranges. */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/(?<![\w$.:])[A-Za-z_:][\w:]*(?![\w:]|\s*\()/g)].map((match) => match[0]).filter((name) => !PROMQL_KEYWORDS.has(name));
}

test('the PromQL reading finds metric names, not functions, labels or variables', () => {
  assert.deepEqual(promqlMetricNames('histogram_quantile(0.99, sum by (sink, le) (rate(cdc_sink_apply_seconds_bucket{instance=~"$instance"}[$__rate_interval])))'), ['cdc_sink_apply_seconds_bucket']);
  assert.deepEqual(promqlMetricNames('time() - max by (source) (cdc_token_commit_timestamp_seconds{instance=~"$instance"})'), ['cdc_token_commit_timestamp_seconds']);
  assert.deepEqual(promqlMetricNames('a_total / on (x) b_total unless c'), ['a_total', 'b_total', 'c']);
});

/** Every metric of a pipeline with a series, as a running one makes them. */
function exercise(metrics: PipelineMetrics): void {
  const row: ChangeEvent = { op: 'r', key: { id: 1 }, before: null, after: { id: 1 }, source: { connector: 'mysql', name: 's', db: 'shop', table: 'orders', position: '1', snapshot: true, tsMs: 0 }, tsMs: 0 };
  metrics.sourcePhase('s', 'snapshot');
  metrics.snapshotPlanned('s', {}, { 'shop.orders': 1 });
  metrics.sourceWrote('s', [row], { pipeline: 'shop', source: 's', phase: 'snapshot', position: '1', resume: {}, writtenAt: Date.now() });
  metrics.heartbeat('s');
  metrics.incrementalProgress('s', [{ id: 'r1', table: 'shop.orders', reason: 'requested', requestedAt: 0, rows: 10, chunks: 1, estimate: 1000 }]);
  metrics.notified('s', 'incremental-accepted');
  metrics.batch('repartition', 1, 1);
  metrics.applied('copy', 0.01);
  metrics.deadLettered('sink:copy', [deadLetter('shop', 'sink.copy', { topic: 'shop.repartition', partition: 0, offset: '0', key: null, value: null, headers: {}, timestamp: 0 }, 'refused')]);
  metrics.sinkAssigned('copy', 4);
  metrics.kafkaRetried('REBALANCE_IN_PROGRESS');
  metrics.tombstonesPurged('copy', 'shop.orders', 2);
  metrics.lag('shop.sink.copy', 'shop.repartition', 0, 3);
}
