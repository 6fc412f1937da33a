import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, MAVEN_DIR, STACK_DIR } from './paths.ts';
import { StackError } from './stack-error.ts';

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin';

/**
 * Resolves the jars of scripts/stack/maven/<name>/pom.xml from Maven Central into .stack/lib/<name>,
 * once: later runs find them there (and Maven's own ~/.m2 cache serves a wiped .stack).
 */
export function resolveJars(name: string): string {
  const dir = join(STACK_DIR, 'lib', name);
  if (isComplete(dir)) return dir;
  runMaven(name, ['-f', join(MAVEN_DIR, name, 'pom.xml'), `${DEPENDENCY_PLUGIN}:3.8.1:copy-dependencies`, `-DoutputDirectory=${dir}`]);
  markComplete(dir);
  return dir;
}

/**
 * Fetches one artifact (e.g. a zip) into .stack/dist and returns its path. Plugin 2.10's `copy` fetches the
 * file without reading its parent POMs, which Apicurio's zip needs: its parent POM is not always published.
 */
export function fetchArtifact(name: string, coordinates: string, fileName: string): string {
  const dir = join(STACK_DIR, 'dist');
  const file = join(dir, fileName);
  if (existsSync(file)) return file;
  runMaven(name, [`${DEPENDENCY_PLUGIN}:2.10:copy`, `-Dartifact=${coordinates}`, `-DoutputDirectory=${dir}`]);
  if (!existsSync(file)) throw new StackError(`Maven fetched ${coordinates} but ${file} is missing: see ${join(LOG_DIR, `maven-${name}.log`)}`);
  return file;
}

function runMaven(name: string, args: string[]): void {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = join(LOG_DIR, `maven-${name}.log`);
  const result = spawnSync('mvn', ['-B', '-q', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) {
    throw new StackError('mvn was not found: install Maven (apt-get install maven) so the stack can fetch its jars from Maven Central');
  }
  if (result.status !== 0) {
    throw new StackError(
      `Maven could not fetch the ${name} jars from Maven Central: check the network or the proxy in ~/.m2/settings.xml (details: ${log})`,
    );
  }
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, '.complete')) && readdirSync(dir).some((f) => f.endsWith('.jar'));
}

function markComplete(dir: string): void {
  writeFileSync(join(dir, '.complete'), '');
}
