/**
 * The web console in a real browser (Debian's chromium, headless, driven by playwright-core) against `cdc
 * run` of a MariaDB → Kafka → MariaDB pipeline: it shows the source and the sink, a record an operator
 * dead-lettered (decoded, its values masked), and a big table's snapshot progress moving while the
 * snapshot runs, then its incremental snapshot's (asked for with `cdc snapshot`), all by polling the page's DOM. The console asks for the basic auth of metrics.auth, and
 * the password never reaches the logs. scripts/test.ts installs chromium when it is missing.
 *
 * The screenshot goes to $CONSOLE_SCREENSHOT (`CONSOLE_SCREENSHOT=docs/console.png` refreshes the one the
 * README shows), else into the temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { cdc } from '../support/cli.ts';
import { scratchMariaDb } from '../../connectors/support/targets.ts';
import { mysqlPipelineConfig, runPipeline } from '../../connectors/mysql/cli-pipeline.ts';
import { withKafkaPipeline } from '../../connectors/mysql/kafka-pipeline.ts';
import { withSourceDatabase } from '../../connectors/mysql/source-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Enough rows, read 200 at a time, that the snapshot runs through many of the page's polls. */
const BIG_ROWS = 200_000;
const USER = 'ops';
const PASSWORD = 'console-Pw-7c0f2d';
const POISON_ID = 7;

/** A repartition-stage operator that throws for the row whose pad is 'poison' (onError: dead-letter). */
const POISON_OPERATOR = `import { map } from '${import.meta.resolve('rxjs')}';
export default () => map((event) => {
  if (event.after?.pad === 'poison') throw new Error('poison row ' + event.key.id);
  return event;
});
`;

test('the console shows the source, the sink, a dead letter and the snapshot progress moving, behind basic auth', { timeout: 300_000 }, async (t) => {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('console', async (pipeline) => {
      const target = await scratchMariaDb('console');
      const { file, remove } = mysqlPipelineConfig({
        pipeline: pipeline.id,
        db,
        targetUrl: target.url,
        chunkSize: 200,
        metrics: `{ port: 0, auth: { username: ${USER}, password: '${PASSWORD}' } }`,
        operators: '  - { name: poison, module: ./poison.mjs, stage: repartition, onError: dead-letter }\n',
      });
      writeFileSync(join(dirname(file), 'poison.mjs'), POISON_OPERATOR);
      await admin.query(`CREATE TABLE \`${db}\`.big (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
      await admin.query(`INSERT INTO \`${db}\`.big SELECT seq, 0, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${BIG_ROWS}`);
      await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, pad VARCHAR(32) NOT NULL)`);
      await admin.query(`INSERT INTO \`${db}\`.items VALUES (1, 'fine'), (${POISON_ID}, 'poison'), (9, 'fine')`);
      // Fresh statistics, so the snapshot's row estimate is near the truth.
      await admin.query(`ANALYZE TABLE \`${db}\`.big`);

      const profile = mkdtempSync(join(tmpdir(), 'cdc-console-chromium-'));
      const run = runPipeline(file);
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        httpCredentials: { username: USER, password: PASSWORD },
        viewport: { width: 1400, height: 1000 },
      });
      try {
        const listening = await run.waitForLog('the console address', (line) => line.msg === 'metrics listening');
        const consoleUrl = String(listening.console);
        assert.equal((await fetch(consoleUrl)).status, 401, 'the console without credentials');
        assert.equal((await fetch(`${consoleUrl}api/state`)).status, 401, 'the state without credentials');

        const page = await browser.newPage();
        await page.goto(consoleUrl);
        await page.waitForSelector(`tr[data-source="s"]`);
        await page.waitForSelector(`tr[data-sink="copy"]`);

        // The snapshot of `big`, as the page shows it, poll after poll, until it says done.
        const table = `${db}.big`;
        const seen = await progressShown(page, 'data-table', table, (shown) => shown.at(-1)!.done);
        const during = [...new Set(seen.filter((p) => !p.done && p.rows > 0).map((p) => p.rows))];
        assert.ok(during.length >= 2, `the page showed the snapshot of ${table} moving: ${JSON.stringify(seen)}`);
        t.diagnostic(`the page showed ${during.length} row counts of ${table} before done: ${during.join(', ')}`);
        assert.ok(during.every((rows) => rows < BIG_ROWS), JSON.stringify(during));
        const last = seen.at(-1)!;
        assert.equal(last.rows, BIG_ROWS);
        assert.ok(last.estimate !== null && last.estimate > 0, `an estimate: ${JSON.stringify(last)}`);

        // An incremental snapshot of `big` asked for while the pipeline streams: the page shows its rows moving
        // under "incremental snapshots" (the pipeline is stopped before it ends, which it resumes from on a restart).
        const asked = await cdc(['snapshot', '--config', file, '--source', 's', '--table', table, '--wait', 'accepted']);
        assert.equal(asked.code, 0, asked.stderr);
        const incremental = await progressShown(page, 'data-incremental', table, (shown) => shown.filter(({ rows }) => rows > 0).length >= 2);
        const moving = [...new Set(incremental.map((p) => p.rows).filter((rows) => rows > 0))];
        assert.ok(moving.length >= 2 && moving.every((rows) => rows < BIG_ROWS), `the page showed the incremental snapshot of ${table} moving: ${JSON.stringify(incremental)}`);
        assert.ok(incremental.at(-1)!.estimate !== null, `an estimate: ${JSON.stringify(incremental)}`);

        // The dead-lettered row: its stage, its reason, its key shown and its other values masked.
        const deadLetter = page.locator('tr[data-dead-letter="repartition:operator poison"]');
        await deadLetter.first().waitFor({ timeout: 120_000 });
        const text = await deadLetter.first().innerText();
        assert.match(text, new RegExp(`poison row ${POISON_ID}`));
        assert.match(text, new RegExp(`"table": "${db}\\.items"`));
        assert.match(text, new RegExp(`"id": ${POISON_ID}`));
        assert.match(text, /"pad": "\*\*\* \(6 chars\)"/);
        assert.doesNotMatch(text, /"pad": "poison"/);

        // The sink: its partitions of the repartition topic, and events applied.
        const sink = page.locator('tr[data-sink="copy"]');
        await page.waitForFunction(() => document.querySelector('tr[data-sink="copy"] td:nth-child(2)')?.textContent === '4', undefined, { timeout: 120_000 });
        assert.match(await sink.innerText(), /^copy\t4\t/);
        assert.match(await page.locator('#topology').innerText(), new RegExp(`Topology: pipeline ${pipeline.id}[^]*Processor: poison[^]*Sink: copy`));

        const screenshot = process.env.CONSOLE_SCREENSHOT ?? join(tmpdir(), 'cdc-console.png');
        await page.screenshot({ path: screenshot, fullPage: true });
        t.diagnostic(`screenshot: ${screenshot}`);

        assert.equal(await run.stop(), 0, run.output);
        assert.ok(!run.output.includes(PASSWORD), 'the console password is in the logs');
        assert.ok(!run.output.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'the basic-auth credentials are in the logs');
      } finally {
        await browser.close();
        run.kill();
        await run.exited;
        rmSync(profile, { recursive: true, force: true });
        await target.drop();
        remove();
      }
    });
  });
});

interface ShownProgress {
  rows: number;
  estimate: number | null;
  done: boolean;
}

/**
 * What the page shows for a table's snapshot (initial: rows `data-table`; incremental: `data-incremental`) at
 * each change of its DOM, until `enough` says so of what was seen.
 */
async function progressShown(page: Page, attribute: 'data-table' | 'data-incremental', table: string, enough: (seen: ShownProgress[]) => boolean): Promise<ShownProgress[]> {
  const seen: ShownProgress[] = [];
  for (;;) {
    // Waits for the row to exist and differ from the last value seen (the page redraws each poll).
    const shown = await page.waitForFunction(
      ({ attribute, table, last }) => {
        const row = [...document.querySelectorAll(`tr[${attribute}]`)].find((candidate) => candidate.getAttribute(attribute) === table);
        if (!row) return undefined;
        const progress = { rows: Number(row.getAttribute('data-rows')), estimate: row.getAttribute('data-estimate') ? Number(row.getAttribute('data-estimate')) : null, done: row.getAttribute('data-done') === 'true' };
        return last === null || progress.rows !== last.rows || progress.done !== last.done ? progress : undefined;
      },
      { attribute, table, last: seen.at(-1) ?? null },
      { timeout: 180_000, polling: 50 },
    );
    seen.push((await shown.jsonValue()) as ShownProgress);
    if (enough(seen)) return seen;
  }
}
