import { describe } from './mode.js';

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
    super(`${entity} not found for key${keys.length === 1 ? '' : 's'} ${keys.map(describe).join(', ')}`);
    this.entity = entity;
    this.keys = keys;
  }
}

/** The origin failed a statement; `cause` is the driver's error. */
export class OriginError extends Error {
  override name = 'OriginError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A schema definition is wrong; the message names the entity and the field. */
export class SchemaError extends Error {
  override name = 'SchemaError';
}
