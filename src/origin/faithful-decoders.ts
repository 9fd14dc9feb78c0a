// Origin-side decoders for the values a plain decode would change between the origin and the cache.
import { DECODERS, type Decoder } from '../core/codec.js';
import { SchemaError } from '../core/errors.js';
import { describe } from '../core/mode.js';

/** `YYYY-MM-DD[ HH:MM:SS[.ffffff]]`, the text MySQL/MariaDB give DATE, DATETIME and TIMESTAMP values as. */
const SQL_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?$/;

/**
 * A DATE/DATETIME/TIMESTAMP text as the instant it names, read as UTC (the library's sessions run in UTC),
 * sub-millisecond digits dropped. A date the calendar does not have — MySQL's zero date `0000-00-00`, a
 * zero month or day (`2024-00-15`, `2024-02-00`), an invalid one (`2024-02-30`, under ALLOW_INVALID_DATES)
 * — is null: `new Date()` would silently roll it into another day, and the cache could not store it.
 * Returns undefined for text of another shape.
 */
export function parseSqlDateStrict(text: string): Date | null | undefined {
  const m = SQL_DATE.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((p) => (p === undefined ? 0 : Number(p)));
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year as number, (month as number) - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  const exists =
    date.getUTCFullYear() === year && date.getUTCMonth() === (month as number) - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  return exists ? date : null;
}

/**
 * The datetime decoder of origin rows: {@link parseSqlDateStrict} for SQL date text (null for a date the
 * calendar lacks, as the cache would give it back), the core decoder for other representations; a value
 * that is no date at all is a TypeError naming it, never an invalid Date.
 */
export function datetimeDecoder(where: string): Decoder {
  const core = DECODERS.datetime as Decoder;
  return (v) => {
    if (typeof v === 'string') {
      const strict = parseSqlDateStrict(v);
      if (strict !== undefined) return strict;
    }
    const date = core(v) as Date;
    if (Number.isNaN(date.getTime())) {
      if (v instanceof Date) return null; // a driver's own parse of a zero date
      throw new TypeError(`${where}: ${describe(v)} is not a date (expected YYYY-MM-DD[ HH:MM:SS[.ffffff]] or ms since 1970)`);
    }
    return date;
  };
}

/** Whether a JSON text may hold a number that parses to -0 or ±Infinity (an exponent or a "-0"). */
const MAYBE_ODD_NUMBER = /[eE]|-0/;

/**
 * The json decoder of origin rows. Numbers are JavaScript doubles, as the cache stores them: `-0` reads
 * as `0` (JSON.stringify would write it as 0), and a number beyond the double range (`1e400`) is a
 * TypeError naming the column, not `Infinity` (which the cache would write as null). Text that is not
 * JSON is a TypeError too. `parsed` says the driver already parsed the value (a pool without
 * `jsonStrings`): it is then checked the same way.
 */
export function jsonDecoder(where: string, parsed: boolean): Decoder {
  const revive = (_key: string, value: unknown): unknown => {
    if (typeof value !== 'number') return value;
    if (!Number.isFinite(value)) {
      throw new TypeError(`${where}: a JSON number is beyond the range of a JavaScript number (it would read as ${value}); declare the column 'text' to read its JSON text`);
    }
    return value === 0 ? 0 : value;
  };
  if (parsed) return (v) => (typeof v === 'string' ? v : normalize(v, revive));
  return (v) => {
    if (typeof v !== 'string') return normalize(v, revive);
    try {
      return MAYBE_ODD_NUMBER.test(v) ? JSON.parse(v, revive) : JSON.parse(v);
    } catch (error) {
      if (error instanceof SyntaxError) throw new TypeError(`${where}: ${describe(v)} is not JSON (${error.message})`);
      throw error;
    }
  };
}

/** Applies a JSON reviver to an already-parsed value, bottom-up as JSON.parse would. */
function normalize(value: unknown, revive: (key: string, value: unknown) => unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => revive(String(i), walk(x)));
    if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = revive(k, walk(x));
      return out;
    }
    return v;
  };
  return revive('', walk(value));
}

/**
 * An `integer` column read from a BIGINT: mysql2 gives a safe integer as a number and anything beyond
 * ±(2^53−1) as a string, which an `integer` cannot hold exactly: a SchemaError naming the value.
 */
export function safeIntegerDecoder(where: string, actual: string): Decoder {
  return (v) => {
    if (typeof v === 'number') return v;
    throw new SchemaError(`${where}: declared 'integer' but the origin column is ${actual} and holds ${String(v)}, beyond ±(2^53−1); declare it 'bigint'`);
  };
}

/** A BIT(1) column as a boolean: mysql2 gives it as a one-byte Buffer. */
export const bitBooleanDecoder: Decoder = (v) => (Buffer.isBuffer(v) ? v.some((b) => b !== 0) : Number(v) !== 0);

/**
 * The real decoder of origin rows whose database can compute -0 or ±Infinity (SQLite expressions): -0
 * reads as 0 and ±Infinity is a TypeError naming the column, as the cache writes numbers as JSON (where
 * -0 is 0 and Infinity is null).
 */
export function realDecoder(where: string): Decoder {
  return (v) => {
    if (typeof v !== 'number') return v;
    if (!Number.isFinite(v)) throw new TypeError(`${where}: ${v} cannot be cached (a real column holds finite numbers)`);
    return v === 0 ? 0 : v;
  };
}
