/**
 * Avro names allow only [A-Za-z_][A-Za-z0-9_]*, while MySQL names allow almost anything; like
 * Debezium's `field.name.adjustment.mode=avro` we replace what Avro rejects with `_`. The original
 * name travels in the schema's `rxcdc.*` attributes, so nothing is lost.
 */
export function avroName(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(replaced) ? replaced : `_${replaced}`;
}

/** Avro names for a record's fields: adjusted, then numbered where two adjust to the same name. */
export function avroFieldNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = avroName(name);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = `${base}_${n}`;
    taken.add(candidate);
    return candidate;
  });
}
