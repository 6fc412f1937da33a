/**
 * The web console: one HTML page, its stylesheet and its script, served by `cdc run` beside /metrics
 * (cli/metrics-server.ts). Plain files kept as strings so they ship inside dist/ with the rest of the
 * package: no build step, no CDN, nothing fetched but /api/state. The script draws every value with
 * textContent, never as HTML, so a table name or an error message cannot inject markup.
 */

export const CONSOLE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cdc console</title>
<link rel="stylesheet" href="console.css">
</head>
<body>
<header>
  <h1>cdc <span id="pipeline"></span></h1>
  <span id="ready" class="badge"></span>
  <span id="updated" class="muted"></span>
</header>
<main>
  <section>
    <h2>Sources</h2>
    <div id="sources"></div>
  </section>
  <section>
    <h2>Repartition</h2>
    <div id="repartition"></div>
  </section>
  <section>
    <h2>Sinks</h2>
    <div id="sinks"></div>
  </section>
  <section>
    <h2>Dead letters <span id="dead-letter-total" class="muted"></span></h2>
    <p class="muted">The newest first. Key columns are shown; every other value is masked.</p>
    <div id="dead-letters"></div>
  </section>
  <section>
    <h2>Topology</h2>
    <pre id="topology"></pre>
  </section>
</main>
<script src="console.js"></script>
</body>
</html>
`;

export const CONSOLE_CSS = String.raw`:root { color-scheme: light dark; --line: #8884; --ok: #2a7d3f; --warn: #b36b00; --bad: #b3261e; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; }
header { display: flex; gap: 1em; align-items: baseline; padding: 0.6em 1.2em; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3em; margin: 0; }
h2 { font-size: 1.1em; margin: 1.2em 0 0.4em; }
main { padding: 0 1.2em 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
progress { width: 14em; vertical-align: middle; }
.muted { color: #888; }
.badge { padding: 0.1em 0.6em; border-radius: 1em; color: #fff; font-size: 0.85em; }
.badge.ok { background: var(--ok); }
.badge.wait { background: var(--warn); }
.badge.down { background: var(--bad); }
.error { color: var(--bad); }
`;

export const CONSOLE_JS = String.raw`'use strict';
(function () {
  var POLL_MS = 1000;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'object' && child !== null ? child : document.createTextNode(child === null || child === undefined ? '' : String(child)));
    });
    return node;
  }
  function table(headers, rows) {
    return el('table', {}, [el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', {}, [h]); }))]), el('tbody', {}, rows)]);
  }
  function num(n) { return n === null || n === undefined ? '—' : Number(n).toLocaleString('en'); }
  function rate(r) { return r === null ? '—' : num(r) + '/s'; }
  function ago(iso) {
    if (!iso) return '—';
    var seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return seconds + ' s ago';
  }
  function lagText(lag) {
    if (lag.length === 0) return '—';
    var total = lag.reduce(function (sum, p) { return sum + p.lag; }, 0);
    return 'total ' + num(total) + ': ' + lag.map(function (p) { return 'p' + p.partition + ' ' + num(p.lag); }).join(', ');
  }
  function replace(id, node) {
    var target = document.getElementById(id);
    target.replaceChildren(node);
  }

  function snapshotTables(source) {
    if (source.tables.length === 0) return el('span', { 'class': 'muted' }, ['—']);
    return table(['table', 'progress', 'rows', 'estimated'], source.tables.map(function (t) {
      var max = t.done ? Math.max(t.rows, 1) : Math.max(t.estimate || 0, t.rows, 1);
      return el('tr', { 'data-table': t.name, 'data-rows': String(t.rows), 'data-estimate': t.estimate === null ? '' : String(t.estimate), 'data-done': String(t.done) }, [
        el('td', {}, [t.name]),
        el('td', {}, [el('progress', { max: String(max), value: String(t.rows) }), t.done ? ' done' : '']),
        el('td', { 'class': 'num' }, [num(t.rows)]),
        el('td', { 'class': 'num' }, [num(t.estimate)]),
      ]);
    }));
  }

  function incrementalTables(source) {
    if (source.incremental.length === 0) return el('span', { 'class': 'muted' }, ['—']);
    return table(['table', 'progress', 'rows', 'estimated', 'request'], source.incremental.map(function (t) {
      return el('tr', { 'data-incremental': t.table, 'data-rows': String(t.rows), 'data-estimate': t.estimate === null ? '' : String(t.estimate) }, [
        el('td', {}, [t.table]),
        el('td', {}, [el('progress', { max: String(Math.max(t.estimate || 0, t.rows, 1)), value: String(t.rows) }), t.startedAt === null ? ' waiting' : '']),
        el('td', { 'class': 'num' }, [num(t.rows)]),
        el('td', { 'class': 'num' }, [num(t.estimate)]),
        el('td', {}, [t.id]),
      ]);
    }));
  }

  function drawSources(sources) {
    replace('sources', table(['source', 'phase', 'position', 'last token', 'events written', 'rate', 'snapshot', 'incremental snapshots'], sources.map(function (s) {
      return el('tr', { 'data-source': s.name, 'data-phase': s.phase || '' }, [
        el('td', {}, [s.name]),
        el('td', {}, [s.phase || 'not in this process']),
        el('td', {}, [el('pre', {}, [s.position || '—'])]),
        el('td', { title: s.tokenWrittenAt || '' }, [ago(s.tokenWrittenAt)]),
        el('td', { 'class': 'num' }, [num(s.out)]),
        el('td', { 'class': 'num' }, [rate(s.rate)]),
        el('td', {}, [snapshotTables(s)]),
        el('td', {}, [incrementalTables(s)]),
      ]);
    })));
  }

  function drawRepartition(r) {
    replace('repartition', table(['records in', 'events out', 'rate', 'lag of the change topics'], [
      el('tr', {}, [el('td', { 'class': 'num' }, [num(r.in)]), el('td', { 'class': 'num' }, [num(r.out)]), el('td', { 'class': 'num' }, [rate(r.rate)]), el('td', {}, [lagText(r.lag)])]),
    ]));
  }

  function drawSinks(sinks) {
    replace('sinks', table(['sink', 'partitions', 'applied', 'apply rate', 'lag per partition', 'last error'], sinks.map(function (s) {
      return el('tr', { 'data-sink': s.name }, [
        el('td', {}, [s.name]),
        el('td', { 'class': 'num' }, [s.partitions === null ? '—' : num(s.partitions)]),
        el('td', { 'class': 'num' }, [num(s.out)]),
        el('td', { 'class': 'num' }, [rate(s.rate)]),
        el('td', {}, [lagText(s.lag)]),
        el('td', { 'class': s.lastError ? 'error' : 'muted' }, [s.lastError ? ago(s.lastError.at) + ': ' + s.lastError.message : 'none']),
      ]);
    })));
  }

  function drawDeadLetters(deadLetters) {
    document.getElementById('dead-letter-total').textContent = '(' + num(deadLetters.total) + ' since start)';
    if (deadLetters.recent.length === 0) return replace('dead-letters', el('p', { 'class': 'muted' }, ['none']));
    replace('dead-letters', table(['when', 'stage', 'reason', 'from', 'payload'], deadLetters.recent.map(function (d) {
      return el('tr', { 'data-dead-letter': d.stage }, [
        el('td', { title: d.at }, [ago(d.at)]),
        el('td', {}, [d.stage]),
        el('td', { 'class': 'error' }, [d.reason]),
        el('td', {}, [d.origin || 'source stage']),
        el('td', {}, [el('pre', {}, [JSON.stringify(d.payload, null, 1)])]),
      ]);
    })));
  }

  function draw(state) {
    document.getElementById('pipeline').textContent = state.pipeline;
    document.title = 'cdc ' + state.pipeline;
    var ready = document.getElementById('ready');
    ready.textContent = state.ready ? 'ready' : 'starting / snapshotting';
    ready.className = 'badge ' + (state.ready ? 'ok' : 'wait');
    document.getElementById('updated').textContent = 'updated ' + new Date(state.now).toLocaleTimeString();
    drawSources(state.sources);
    drawRepartition(state.repartition);
    drawSinks(state.sinks);
    drawDeadLetters(state.deadLetters);
    document.getElementById('topology').textContent = state.topology.text;
  }

  function poll() {
    fetch('api/state', { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(draw, function (error) {
        var ready = document.getElementById('ready');
        ready.textContent = 'unreachable (' + error.message + ')';
        ready.className = 'badge down';
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
`;
