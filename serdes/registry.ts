/**
 * The schema registry as the serde needs it: the id of a schema under a subject (registering a new
 * BACKWARD-compatible version when needed) and a schema's text by id. Called only when a schema is
 * first met; avro-serde.ts caches the answers, so the hot path makes no HTTP call.
 */
import { COMPATIBILITY, SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryAPIClientArgs } from '@kafkajs/confluent-schema-registry/dist/api/index.js';
import { CdcError, UnreachableError } from '../topology/errors.ts';
import { SchemaIncompatibleError } from './errors.ts';

export interface SchemaGuard {
  /** `db.table`, for the error when the registry refuses the schema. */
  table: string;
  /** Throws SchemaIncompatibleError when `schema` cannot follow the subject's latest version. */
  check(latest: string): void;
}

/** What the Avro serde needs of a schema registry; ConfluentSchemaRegistry implements it over @kafkajs/confluent-schema-registry. */
export interface SchemaRegistryPort {
  /**
   * The id of `schema` under `subject`. A schema the subject does not hold yet is registered as its
   * next version, after `guard.check` has accepted the latest one, and the subject is set to BACKWARD.
   */
  idOf(subject: string, schema: string, guard: SchemaGuard): Promise<number>;
  /** The schema text with this id, or undefined when the registry has none. */
  schemaText(id: number): Promise<string | undefined>;
}

interface RegistryResponse {
  data(): { id?: number; schema?: string };
}

interface RegistryApi {
  Schema: { find(params: { id: number }): Promise<RegistryResponse> };
  Subject: {
    registered(params: { subject: string; body: { schema: string } }): Promise<RegistryResponse>;
    latestVersion(params: { subject: string }): Promise<RegistryResponse>;
    register(params: { subject: string; body: { schema: string } }): Promise<RegistryResponse>;
    updateConfig(params: { subject: string; body: { compatibility: string } }): Promise<RegistryResponse>;
  };
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error ? (error as { status: number }).status : undefined;
}

/** The answer, or undefined for a 404 (no such subject, version or schema). */
async function unless404(request: Promise<RegistryResponse>): Promise<RegistryResponse | undefined> {
  try {
    return await request;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** Through @kafkajs/confluent-schema-registry's HTTP client (its retries, auth and middlewares). */
export class ConfluentSchemaRegistry implements SchemaRegistryPort {
  private readonly api: RegistryApi;
  private readonly backward = new Set<string>();

  constructor(client: SchemaRegistry) {
    // The client's public register() refuses a subject whose compatibility is not already the one
    // asked for, and its lookups parse every schema with avsc; the endpoints it wraps give us the
    // plain answers (and the 404s and 409s) we decide on ourselves.
    this.api = client['api'] as unknown as RegistryApi;
  }

  static fromArgs(args: SchemaRegistryAPIClientArgs): ConfluentSchemaRegistry {
    return new ConfluentSchemaRegistry(new SchemaRegistry(args));
  }

  async idOf(subject: string, schema: string, guard: SchemaGuard): Promise<number> {
    return this.call(subject, async () => {
      const known = await unless404(this.api.Subject.registered({ subject, body: { schema } }));
      if (known !== undefined) return idIn(known);
      const latest = await unless404(this.api.Subject.latestVersion({ subject }));
      if (latest !== undefined) {
        guard.check(latest.data().schema ?? '');
        await this.ensureBackward(subject);
      }
      let registered: RegistryResponse;
      try {
        registered = await this.api.Subject.register({ subject, body: { schema } });
      } catch (error) {
        if (statusOf(error) === 409) {
          throw new SchemaIncompatibleError(guard.table, undefined, `registry refused it under ${subject}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        throw error;
      }
      // A new subject has no config to set before its first version (Apicurio answers 404 then).
      if (latest === undefined) await this.ensureBackward(subject);
      return idIn(registered);
    });
  }

  async schemaText(id: number): Promise<string | undefined> {
    return this.call(`schema id ${id}`, async () => (await unless404(this.api.Schema.find({ id })))?.data().schema);
  }

  private async ensureBackward(subject: string): Promise<void> {
    if (this.backward.has(subject)) return;
    await this.api.Subject.updateConfig({ subject, body: { compatibility: COMPATIBILITY.BACKWARD } });
    this.backward.add(subject);
  }

  /** Our errors pass through; the registry's become UnreachableError (retriable) or CdcError. */
  private async call<T>(what: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof CdcError) throw error;
      const status = statusOf(error);
      const message = `schema registry (${what}): ${error instanceof Error ? error.message : String(error)}`;
      // mappersmith reports a refused or dropped connection as status 400, a timeout as 408.
      if (status === undefined || status === 400 || status === 408 || status >= 500) {
        throw new UnreachableError(message, { cause: error });
      }
      throw new CdcError('INTERNAL', message, { cause: error });
    }
  }
}

function idIn(response: RegistryResponse): number {
  const id = response.data().id;
  if (typeof id !== 'number') throw new CdcError('INTERNAL', `schema registry answered without an id: ${JSON.stringify(response.data())}`);
  return id;
}
