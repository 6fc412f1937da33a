/**
 * The jars of the Kafka Connect worker (scripts/bench/debezium/pom.xml), resolved from Maven Central into
 * .stack/lib/debezium once, as the stack resolves Kafka's: later runs find them there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, ROOT, STACK_DIR } from '../../stack/paths.ts';

const POM = join(ROOT, 'scripts', 'bench', 'debezium', 'pom.xml');
const LIB_DIR = join(STACK_DIR, 'lib', 'debezium');
const SETTINGS = join(STACK_DIR, 'debezium', 'maven-settings.xml');
const LOG = join(LOG_DIR, 'maven-debezium.log');

/**
 * Debezium's parent POM names the Confluent repository, which this machine cannot reach (and which the
 * benchmark must not depend on): a mirror of every repository onto Central keeps Maven on Central only.
 */
const CENTRAL_ONLY = `<settings>
  <mirrors>
    <mirror><id>central-only</id><mirrorOf>*</mirrorOf><url>https://repo1.maven.org/maven2</url></mirror>
  </mirrors>
</settings>
`;

/** The directory holding every jar of the worker's classpath. */
export function debeziumJars(): string {
  if (existsSync(join(LIB_DIR, '.complete')) && readdirSync(LIB_DIR).some((file) => file.endsWith('.jar'))) return LIB_DIR;
  mkdirSync(join(STACK_DIR, 'debezium'), { recursive: true });
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(SETTINGS, CENTRAL_ONLY);
  const result = spawnSync(
    'mvn',
    ['-B', '-q', '-s', SETTINGS, '-f', POM, 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${LIB_DIR}`],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(LOG, `${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) throw new Error('mvn was not found: install Maven so the benchmark can fetch Debezium and Kafka Connect from Maven Central');
  if (result.status !== 0) throw new Error(`Maven could not fetch the Debezium jars from Maven Central (details: ${LOG})`);
  writeFileSync(join(LIB_DIR, '.complete'), '');
  return LIB_DIR;
}
