/** One service of the local stack. `managed: false` services (PostgreSQL) are only checked, never started. */
export interface Service {
  readonly name: string;
  /** The `.stack/env` name that carries its endpoint; set in the environment, it replaces this service. */
  readonly envName: 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'MYSQL_URL' | 'MONGODB_URL' | 'PG_URL';
  readonly endpoint: string;
  readonly ports: readonly number[];
  readonly managed: boolean;
  /** How long a start may take before it is an error. */
  readonly startTimeoutMs: number;
  /** Fetches and initialises what the start needs; idempotent and cached. */
  prepare(): Promise<void>;
  start(): void;
  /** True once the service answers requests (not merely accepts connections). */
  ready(): Promise<boolean>;
  /** Runs once after the first successful `ready` of a start (users, grants). */
  bootstrap?(): Promise<void>;
  /**
   * Why a running instance (perhaps started from another checkout) lacks what this checkout needs, so
   * `up` restarts it; undefined when it will do.
   */
  outdated?(pid: number): string | undefined;
  /** `.stack/env` lines beyond `envName` (Kafka's secure listener), read once the service answers. */
  moreEnv?(): Record<string, string> | undefined;
  /** The line `up` prints when an unmanaged service does not answer. */
  readonly notReadyHint?: string;
}
