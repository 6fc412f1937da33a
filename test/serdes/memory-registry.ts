/** An in-memory SchemaRegistryPort for unit tests: subjects, versions and ids, no HTTP. */
import type { SchemaGuard, SchemaRegistryPort } from '../../serdes/registry.ts';

export class MemoryRegistry implements SchemaRegistryPort {
  readonly subjects = new Map<string, number[]>();
  readonly texts = new Map<number, string>();
  /** Calls made, to show the hot path makes none. */
  calls = 0;

  async idOf(subject: string, schema: string, guard: SchemaGuard): Promise<number> {
    this.calls++;
    const versions = this.subjects.get(subject) ?? [];
    const known = versions.find((id) => this.texts.get(id) === schema);
    if (known !== undefined) return known;
    const latest = versions.at(-1);
    if (latest !== undefined) guard.check(this.texts.get(latest) as string);
    const id = this.texts.size + 1;
    this.texts.set(id, schema);
    this.subjects.set(subject, [...versions, id]);
    return id;
  }

  async schemaText(id: number): Promise<string | undefined> {
    this.calls++;
    return this.texts.get(id);
  }
}
