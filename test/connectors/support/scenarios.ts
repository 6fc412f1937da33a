import { readFileSync } from 'node:fs';

/** A case of shared/scenarios/unique-keys.json: statements on a source table and the state they end in. */
export interface Scenario {
  name: string;
  ddl: string;
  statements: string[];
  expect: unknown[][];
}

/** The unique-key cases every sink must get right, read from ../shared beside the repo (as CI has it). */
export const uniqueKeyScenarios: readonly Scenario[] = (
  JSON.parse(readFileSync(new URL('../../../../shared/scenarios/unique-keys.json', import.meta.url), 'utf8')) as { cases: Scenario[] }
).cases;
