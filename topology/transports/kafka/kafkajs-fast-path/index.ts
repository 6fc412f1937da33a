/**
 * The KafkaJS fast path: faster versions of the KafkaJS 2.2.4 modules on the producer's and consumer's
 * per-record path (several times less CPU per produced record; docs/benchmarks.md), installed at run time
 * when this module is first imported, so every install of rxcdc has them: a patch of node_modules would
 * only apply where this repository itself is installed.
 *
 * KafkaJS is CommonJS. Its Encoder and Decoder classes get faster methods on the classes themselves. Its
 * modules that export a function, which the modules requiring them capture at once, are replaced in
 * require.cache before KafkaJS first loads them, and checked afterwards to be the ones it took. So this
 * module must be evaluated before anything loads kafkajs: topology/transports/kafka.ts, and every other
 * module of the product that imports KafkaJS values, imports it first.
 *
 * It installs all of it or nothing, and nothing when KafkaJS is not 2.2.4 (the replacements mirror that
 * version's internals) or was loaded before: KafkaJS then runs as published, slower and just as correct.
 * kafkaJsFastPath() says which, and why.
 */
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { Logger } from '../../../log.ts';
import { crc32C } from './crc32c.ts';
import { patchDecoder } from './decoder.ts';
import { patchEncoder } from './encoder.ts';
import { groupMessagesPerPartition } from './group-messages-per-partition.ts';
import type { DecoderClass, EncoderClass, KafkaRequire, LongClass } from './kafkajs-internals.ts';
import { produceV3Request } from './produce-v3-request.ts';
import { recordBatchModule } from './record-batch.ts';
import { recordDecoder } from './record-decoder.ts';
import { recordEncoder } from './record.ts';

/** The KafkaJS version whose internals the replacements mirror. */
export const FAST_PATH_KAFKAJS_VERSION = '2.2.4';

/** What `kafkaJsFastPath()` answers. */
export interface KafkaJsFastPathStatus {
  active: boolean;
  /** Why not, when not active. */
  reason?: string;
}

/**
 * The modules replaced in require.cache (paths in the kafkajs package), in an order where each one's
 * dependencies are in place before it is built, with the KafkaJS modules that require them when loaded.
 */
const REPLACED: readonly { path: string; build: (kafkaRequire: KafkaRequire) => unknown; requiredBy: readonly string[] }[] = [
  { path: 'src/protocol/recordBatch/crc32C/crc32C.js', build: () => crc32C, requiredBy: ['src/protocol/recordBatch/crc32C/index.js'] },
  // Required by KafkaJS's produce v3 request only, replaced below by one that writes records through record.ts's recordCodec.
  { path: 'src/protocol/recordBatch/record/v0/index.js', build: recordEncoder, requiredBy: [] },
  { path: 'src/protocol/recordBatch/record/v0/decoder.js', build: recordDecoder, requiredBy: ['src/protocol/recordBatch/v0/decoder.js'] },
  { path: 'src/protocol/recordBatch/v0/index.js', build: recordBatchModule, requiredBy: ['src/protocol/requests/fetch/v4/decodeMessages.js'] },
  { path: 'src/producer/groupMessagesPerPartition.js', build: () => groupMessagesPerPartition, requiredBy: ['src/producer/sendMessages.js'] },
  // Produce requests v4 and v5 (and v6, v7 through them) are v3's; the produce API loads v3 on first use.
  { path: 'src/protocol/requests/produce/v3/request.js', build: produceV3Request, requiredBy: ['src/protocol/requests/produce/v4/request.js', 'src/protocol/requests/produce/v5/request.js'] },
];

const ownRequire = createRequire(import.meta.url);

export interface InstallOptions {
  /** kafkajs's package.json; by default the one this module resolves, which is the one the product loads. */
  packageJsonPath?: string;
}

let installed: { packageDir: string; status: KafkaJsFastPathStatus } | undefined;

/**
 * Installs the fast path into the KafkaJS at `packageJsonPath`, or says why it did not: another version, or
 * KafkaJS already loaded. Done once on import; calling it again for the same KafkaJS answers the same.
 */
export function installKafkaJsFastPath(options: InstallOptions = {}): KafkaJsFastPathStatus {
  let packageJsonPath: string;
  let version: unknown;
  try {
    packageJsonPath = options.packageJsonPath ?? ownRequire.resolve('kafkajs/package.json');
    version = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version?: unknown }).version;
  } catch (error) {
    return { active: false, reason: `kafkajs's package.json could not be read: ${(error as Error).message}` };
  }
  if (version !== FAST_PATH_KAFKAJS_VERSION) {
    return { active: false, reason: `kafkajs ${String(version)} is installed; the fast path is written for ${FAST_PATH_KAFKAJS_VERSION} only` };
  }
  const packageDir = dirname(packageJsonPath);
  if (installed?.packageDir === packageDir) return installed.status;

  const status = install(packageJsonPath, packageDir);
  installed = { packageDir, status };
  return status;
}

function install(packageJsonPath: string, packageDir: string): KafkaJsFastPathStatus {
  const cache = ownRequire.cache;
  const loaded = Object.keys(cache).find((path) => path.startsWith(packageDir + sep));
  if (loaded !== undefined) {
    return { active: false, reason: `kafkajs was loaded before the fast path could be installed (${loaded.slice(packageDir.length + 1)}): import rxcdc's Kafka transport before kafkajs` };
  }

  const kafkaRequire = createRequire(packageJsonPath);
  const seeded = new Map<string, Module>();
  for (const { path, build } of REPLACED) {
    const filename = join(packageDir, path);
    const module = new Module(filename);
    module.filename = filename;
    module.exports = build(kafkaRequire);
    module.loaded = true;
    cache[filename] = module;
    seeded.set(filename, module);
  }

  // KafkaJS itself, and the modules that require the replaced ones (some only on first use): each must hold
  // the replacement. Otherwise (a loader that bypasses require.cache) the classes stay as they are, and
  // KafkaJS's own modules are used; the replacements in the cache produce the same bytes meanwhile.
  kafkaRequire('./');
  for (const { path, requiredBy } of REPLACED) {
    const module = seeded.get(join(packageDir, path))!;
    if (cache[module.filename] !== module) return { active: false, reason: `KafkaJS did not keep the fast path's ${path}` };
    for (const dependent of requiredBy) {
      const filename = join(packageDir, dependent);
      kafkaRequire(filename);
      if (!cache[filename]?.children.includes(module)) return { active: false, reason: `KafkaJS's ${dependent} did not take the fast path's ${path}` };
    }
  }

  patchEncoder(kafkaRequire('./src/protocol/encoder') as EncoderClass);
  patchDecoder(kafkaRequire('./src/protocol/decoder') as DecoderClass, kafkaRequire('./src/utils/long') as LongClass);
  return { active: true };
}

/**
 * Whether the KafkaJS fast path is in use in this process and, when it is not, why: KafkaJS is another
 * version than 2.2.4, or something loaded kafkajs before rxcdc's Kafka transport. Either way KafkaJS works
 * as published, only slower.
 */
export function kafkaJsFastPath(): KafkaJsFastPathStatus {
  return { ...status };
}

let reported = false;

/** Says once per process, as a warning, why the fast path is off; nothing when it is on. */
export function reportKafkaJsFastPath(logger: Logger): void {
  if (status.active || reported) return;
  reported = true;
  logger.warn({ reason: status.reason }, 'KafkaJS fast path off: producing and consuming use more CPU');
}

const status = installKafkaJsFastPath();
