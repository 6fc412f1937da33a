import { comparePositions } from '../../topology/change-event.ts';

/** A row (already in the target, or about to be written) and the source position of the event that wrote it. */
export interface Claimant {
  keyId: string;
  position: string;
}

/** `claimant` holds (or wants) the value `valueId` of unique key number `uniqueKey`. */
export interface UniqueClaim<T extends Claimant> {
  uniqueKey: number;
  valueId: string;
  claimant: T;
}

/**
 * The position rule for unique keys besides the primary key (docs/sinks.md; docs/design.md, idempotent apply).
 *
 * In the source, one row at a time holds a unique value. If rows A (written by the event at
 * position a) and B (position b > a) claim the same value, then A gave the value up at some
 * position in (a, b]: A has a later event than the one we hold (an update, a delete, or a
 * key-changing update), and that event will still arrive, because every partition delivers all its
 * events at least once, in order. So A is stale whatever else happens in this batch: a stale
 * row already in the target is removed, a stale incoming write is skipped, and A's later event
 * writes A's real state when it comes. The newest claimant is the only one that can be the
 * source's current holder, so it wins.
 *
 * Equal positions on one value only happen between snapshot rows (every `r` of a snapshot carries
 * the position streaming resumes from): the snapshot read them at different times, so each of them
 * changed after its read and has a later, streamed event. None of them wins.
 *
 * Returns every claimant that loses one of its claims.
 */
export function staleClaimants<T extends Claimant>(claims: readonly UniqueClaim<T>[]): Set<T> {
  const byValue = new Map<string, T[]>();
  for (const { uniqueKey, valueId, claimant } of claims) {
    const id = `${uniqueKey}:${valueId}`;
    const group = byValue.get(id);
    if (group) {
      if (!group.some((other) => other.keyId === claimant.keyId)) group.push(claimant);
    } else byValue.set(id, [claimant]);
  }
  const stale = new Set<T>();
  for (const group of byValue.values()) {
    if (group.length < 2) continue;
    const newest = group.reduce((a, b) => (comparePositions(a.position, b.position) >= 0 ? a : b)).position;
    const newestCount = group.filter((claimant) => claimant.position === newest).length;
    for (const claimant of group) {
      if (claimant.position !== newest || newestCount > 1) stale.add(claimant);
    }
  }
  return stale;
}
