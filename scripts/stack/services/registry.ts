import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fetchArtifact } from '../maven.ts';
import { serviceDir } from '../paths.ts';
import { startDetached } from '../process.ts';
import { StackError } from '../stack-error.ts';
import type { Service } from '../service.ts';

const VERSION = '3.0.9';
const PORT = Number(process.env.STACK_REGISTRY_PORT ?? 8081);
const appDir = join(serviceDir('registry'), `apicurio-registry-${VERSION}`);
const runner = join(appDir, `apicurio-registry-app-${VERSION}-runner.jar`);

/**
 * Apicurio Registry 3.0.9 (the newest release for Java 17 on Maven Central; 3.1.x is not published there),
 * in-memory H2 storage, used through its Confluent-compatible API.
 */
export const registry: Service = {
  name: 'registry',
  envName: 'SCHEMA_REGISTRY_URL',
  endpoint: `http://127.0.0.1:${PORT}/apis/ccompat/v7`,
  ports: [PORT],
  managed: true,
  startTimeoutMs: 90_000,

  async prepare() {
    if (existsSync(runner)) return;
    const zip = fetchArtifact('registry', `io.apicurio:apicurio-registry-app:${VERSION}:zip:all`, `apicurio-registry-app-${VERSION}-all.zip`);
    mkdirSync(appDir, { recursive: true });
    // `jar` comes with the JDK the stack needs anyway, so no unzip package is required.
    const result = spawnSync('jar', ['xf', zip], { cwd: appDir, encoding: 'utf8' });
    if (result.status !== 0 || !existsSync(runner)) {
      throw new StackError(`registry: unpacking ${zip} failed (a JDK with the jar tool is needed): ${result.stderr?.trim() ?? ''}`);
    }
  },

  start() {
    startDetached(registry,
      'java',
      ['-Xms128m', '-Xmx512m', `-Dquarkus.http.port=${PORT}`, '-Dquarkus.http.host=127.0.0.1', '-jar', runner],
      appDir,
    );
  },

  async ready() {
    const response = await fetch(`${registry.endpoint}/subjects`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  },
};
