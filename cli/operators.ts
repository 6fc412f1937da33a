import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChangeOperator, NamedOperator } from '../topology/operator-stage.ts';
import { ConfigError } from '../topology/errors.ts';
import type { OperatorConfig, PipelineConfig } from './config-schema.ts';
import { formatPath } from './config.ts';

/** A config's operator, loaded: where it goes and what it is. */
export interface LoadedOperator extends NamedOperator {
  stage: OperatorConfig['stage'];
  topics: readonly string[];
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/** 'strip' or 'transform' where this Node runs TypeScript itself (22.18+, 24+); absent or false elsewhere. */
const nodeRunsTypeScript = Boolean((process.features as { typescript?: string | false }).typescript);

/**
 * Imports each module named under `operators:` and calls its factory with its options. Every way this
 * can go wrong is a ConfigError of one line naming the path (`operators[0].module: ...`): the CLI exits 2
 * before anything connects.
 */
export async function loadOperators(config: PipelineConfig, configFile: string): Promise<LoadedOperator[]> {
  const loaded: LoadedOperator[] = [];
  for (const [index, op] of config.operators.entries()) {
    const at = (key?: string) => formatPath(key === undefined ? ['operators', index] : ['operators', index, key]);
    const file = resolveModule(op.module, dirname(resolve(configFile)), at('module'));
    const exports = await importModule(file, op.module, at('module'));
    const factory = exports[op.export];
    if (factory === undefined) {
      const names = Object.keys(exports);
      throw new ConfigError(`${at('export')}: ${op.module} has no export "${op.export}" (it exports: ${names.length ? names.join(', ') : 'nothing'})`);
    }
    if (typeof factory !== 'function') {
      throw new ConfigError(`${at('export')}: "${op.export}" of ${op.module} is ${typeof factory}, expected a function (options) => operator`);
    }
    let operator: unknown;
    try {
      operator = (factory as (options: Record<string, unknown>) => unknown)(op.options);
    } catch (error) {
      throw new ConfigError(`${at('options')}: ${op.module} refused its options: ${(error as Error).message ?? String(error)}`);
    }
    if (typeof operator !== 'function') {
      throw new ConfigError(`${at()}: "${op.export}" of ${op.module} returned ${operator === null ? 'null' : typeof operator}, expected an RxJS operator (a function of an Observable)`);
    }
    loaded.push({ name: op.name, operator: operator as ChangeOperator, onError: op.onError, stage: op.stage, topics: op.topics });
  }
  return loaded;
}

/** A path relative to the config file, an absolute path, or a package resolved from the config's folder. */
function resolveModule(specifier: string, configDir: string, at: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return resolve(configDir, specifier);
  try {
    return createRequire(resolve(configDir, 'pipeline.yaml')).resolve(specifier);
  } catch {
    throw new ConfigError(`${at}: cannot find package ${specifier} from ${configDir} (install it there, or give a path starting with ./)`);
  }
}

async function importModule(file: string, specifier: string, at: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.has(extname(file)) && !nodeRunsTypeScript) {
    throw new ConfigError(`${at}: ${specifier} is TypeScript, which Node ${process.version} cannot run: use Node 22.18+ or 24+ (they strip types), or compile it to JavaScript`);
  }
  if (!existsSync(file)) throw new ConfigError(`${at}: cannot find ${specifier} (looked for ${file})`);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${at}: cannot load ${specifier}: ${(error as Error).message?.split('\n')[0] ?? String(error)}`);
  }
}
