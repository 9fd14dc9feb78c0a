import { describe } from './values.js';

/** A store or view was used before `open()` or after `close()`. */
export class NotLiveError extends Error {
  override name = 'NotLiveError';
}

/** A lookup needed the origin, but the (effective) mode is `OFFLINE` or the store has no origin. */
export class IsOfflineError extends Error {
  override name = 'IsOfflineError';
}

/** One or more rows do not exist (at the origin, or recorded absent in the cache). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  /** The entity that was asked for. */
  readonly entity: string;
  /** The keys that do not exist. */
  readonly keys: readonly unknown[];
  constructor(entity: string, keys: readonly unknown[]) {
    super(`${entity} not found for key${keys.length === 1 ? '' : 's'} ${keys.map(describe).join(', ')}`.slice(0, 2000));
    this.entity = entity;
    this.keys = keys;
  }
}

/** Driver error codes that mean the origin could not be reached, rather than that it refused the statement. */
const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ADBV_ORIGIN_TIMEOUT',
]);

/** The origin failed a statement; `cause` is the driver's error. */
export class OriginError extends Error {
  override name = 'OriginError';
  /** True when the origin could not be reached (refused, reset, timed out): what `OFFLINE_FALLBACK` falls back on. */
  readonly unreachable: boolean;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    const code = (options.cause as { code?: unknown } | null)?.code;
    this.unreachable = typeof code === 'string' && UNREACHABLE.has(code);
  }
}

/** True for an `OriginError` whose origin could not be reached. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof OriginError && error.unreachable;
}

/** A schema definition is wrong; the message names the entity and the field. */
export class SchemaError extends Error {
  override name = 'SchemaError';
}
