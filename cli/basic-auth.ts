import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface BasicAuth {
  username: string;
  password: string;
}

/** What a client sends after `Basic ` in its Authorization header for these credentials. */
export function basicCredentials(auth: BasicAuth): string {
  return Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
}

/**
 * Whether a request carries these credentials. Compared as fixed-length digests in constant time, so the
 * time a wrong guess takes tells nothing about how much of it was right.
 */
export function authorized(request: IncomingMessage, auth: BasicAuth): boolean {
  const given = /^Basic\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(Buffer.from(given, 'base64').toString('utf8')), digest(`${auth.username}:${auth.password}`));
}
