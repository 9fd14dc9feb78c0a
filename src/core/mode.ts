/**
 * How a lookup may use the cache and the origin.
 *
 * - `OFFLINE`: the cache only. A lookup the cache does not hold complete raises
 *   `IsOfflineError` (or yields the relation's `offlineFallback`).
 * - `PREFER_CACHE`: a lookup complete in the cache is answered from it; any other goes to the origin.
 * - `FRESHEN`: every lookup goes to the origin once per view, then is answered from what came back.
 *
 * Modes are ordered `OFFLINE < PREFER_CACHE < FRESHEN`; a relation's `mode` caps the view's.
 *
 * @example
 * const view = store.view({ mode: Mode.PREFER_CACHE });
 * view.mode = Mode.OFFLINE;
 */
export const Mode = {
  OFFLINE: 'offline',
  PREFER_CACHE: 'prefer-cache',
  FRESHEN: 'freshen',
} as const;

/** One of the values of {@link Mode}. */
export type Mode = (typeof Mode)[keyof typeof Mode];

const RANK: Readonly<Record<Mode, number>> = { offline: 0, 'prefer-cache': 1, freshen: 2 };
const BY_RANK: readonly Mode[] = [Mode.OFFLINE, Mode.PREFER_CACHE, Mode.FRESHEN];

/** The position of a mode in `OFFLINE < PREFER_CACHE < FRESHEN`. */
export function modeRank(mode: Mode): number {
  return RANK[mode];
}

/** The weaker of a view's mode and a relation's cap. */
export function capMode(mode: Mode, cap: Mode | undefined): Mode {
  if (cap === undefined) return mode;
  return BY_RANK[Math.min(RANK[mode], RANK[cap])] as Mode;
}

/** Throws a `TypeError` naming `value` unless it is a {@link Mode}. */
export function assertMode(value: unknown, where: string): asserts value is Mode {
  if (typeof value !== 'string' || !(value in RANK)) {
    throw new TypeError(
      `${where}: mode must be one of ${Object.values(Mode).map((m) => JSON.stringify(m)).join(', ')} (use Mode.X); got ${describe(value)}`,
    );
  }
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 80 ? json.slice(0, 77) + '...' : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
