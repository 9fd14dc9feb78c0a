// The modes a lookup may run in, their order, and the checks on a mode given by a caller.
import { describe } from './values.js';

export { describe };

/**
 * How a lookup may use the cache and the origin.
 *
 * - `OFFLINE`: the cache only. A lookup the cache does not hold complete raises
 *   `IsOfflineError` (or yields the relation's `offlineFallback`).
 * - `OFFLINE_FALLBACK`: as `PREFER_CACHE` while the origin answers, as `OFFLINE` for a lookup whose
 *   origin statement cannot reach it (refused, reset, timed out); each fallback is counted in
 *   `store.stats.fallbacks` and reported as a `fallback` event.
 * - `PREFER_CACHE`: a lookup complete in the cache is answered from it; any other goes to the origin.
 * - `FRESHEN`: every lookup goes to the origin once per view, then is answered from what came back.
 *
 * Modes are ordered `OFFLINE < OFFLINE_FALLBACK < PREFER_CACHE < FRESHEN`; a relation's `mode` caps the view's.
 *
 * @example
 * const view = store.view({ mode: Mode.PREFER_CACHE });
 * view.mode = Mode.OFFLINE;
 */
export const Mode = {
  OFFLINE: 'offline',
  OFFLINE_FALLBACK: 'offline-fallback',
  PREFER_CACHE: 'prefer-cache',
  FRESHEN: 'freshen',
} as const;

/** One of the values of {@link Mode}. */
export type Mode = (typeof Mode)[keyof typeof Mode];

const RANK: Readonly<Record<Mode, number>> = { offline: 0, 'offline-fallback': 1, 'prefer-cache': 2, freshen: 3 };
const BY_RANK: readonly Mode[] = [Mode.OFFLINE, Mode.OFFLINE_FALLBACK, Mode.PREFER_CACHE, Mode.FRESHEN];
/** @internal How many modes there are (loaders are kept per mode). */
export const MODE_COUNT = BY_RANK.length;

/** True for the modes that answer complete lookups from the cache and go to the origin for the rest. */
export function readsCacheFirst(mode: Mode): boolean {
  return mode === Mode.PREFER_CACHE || mode === Mode.OFFLINE_FALLBACK;
}

/** The position of a mode in `OFFLINE < OFFLINE_FALLBACK < PREFER_CACHE < FRESHEN`. */
export function modeRank(mode: Mode): number {
  // A switch, not RANK[mode]: a keyed read of an object with a hyphenated key showed up on every lookup.
  switch (mode) {
    case Mode.OFFLINE:
      return 0;
    case Mode.OFFLINE_FALLBACK:
      return 1;
    case Mode.PREFER_CACHE:
      return 2;
    default:
      return 3;
  }
}

/** The weaker of a view's mode and a relation's cap. */
export function capMode(mode: Mode, cap: Mode | undefined): Mode {
  if (cap === undefined) return mode;
  return BY_RANK[Math.min(modeRank(mode), modeRank(cap))] as Mode;
}

/** Throws a `TypeError` naming `value` unless it is a {@link Mode}. */
export function assertMode(value: unknown, where: string): asserts value is Mode {
  if (typeof value !== 'string' || !(value in RANK)) {
    throw new TypeError(
      `${where}: mode must be one of ${Object.values(Mode).map((m) => JSON.stringify(m)).join(', ')} (use Mode.X); got ${describe(value)}`,
    );
  }
}
