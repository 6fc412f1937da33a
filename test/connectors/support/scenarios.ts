import { readFileSync } from 'node:fs';

/** A case of test/fixtures/unique-keys.json: statements on a source table and the state they end in. */
export interface Scenario {
  name: string;
  ddl: string;
  statements: string[];
  expect: unknown[][];
}

/** The unique-key cases every sink must get right (docs/design.md, idempotent apply). */
export const uniqueKeyScenarios: readonly Scenario[] = (
  JSON.parse(readFileSync(new URL('../../fixtures/unique-keys.json', import.meta.url), 'utf8')) as { cases: Scenario[] }
).cases;
