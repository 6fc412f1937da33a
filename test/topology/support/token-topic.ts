import { topics } from '../../../topology/topics.ts';
import { tokenKey, type SourceToken } from '../../../topology/token.ts';
import { TokenFold } from '../../../topology/token-store.ts';
import type { MemoryTransport } from '../../../topology/transports/memory.ts';

/** The latest token of the FakeSource `src` in the memory transport's token topic; undefined before its first. */
export function latestToken(transport: MemoryTransport, pipeline: string): SourceToken | undefined {
  const fold = new TokenFold();
  for (const record of transport.records(topics.tokens(pipeline))) fold.add(record.key, record.value);
  return fold.latest().get(tokenKey(pipeline, 'src'));
}
