// Origin-side decoders for the values a plain decode would change between the origin and the cache.
import { DECODERS, type Decoder } from '../core/codec.js';
import { SchemaError } from '../core/errors.js';
import { describe } from '../core/mode.js';

/**
 * A DATE/DATETIME/TIMESTAMP text (`YYYY-MM-DD[ HH:MM:SS[.ffffff]]`, as MySQL/MariaDB give them) as the
 * instant it names, read as UTC (the library's sessions run in UTC), sub-millisecond digits dropped. A
 * date the calendar does not have — MySQL's zero date `0000-00-00`, a zero month or day (`2024-00-15`,
 * `2024-02-00`), an invalid one (`2024-02-30`, under ALLOW_INVALID_DATES) — is null: `new Date()` would
 * silently roll it into another day, and the cache could not store it. Returns undefined for text of
 * another shape. Read character by character: a regular expression took three times as long.
 */
export function parseSqlDateStrict(text: string): Date | null | undefined {
  const n = text.length;
  if (n !== 10 && n < 19) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  if (n > 10) {
    const sep = text.charCodeAt(10);
    hour = digits(text, 11, 2);
    minute = digits(text, 14, 2);
    second = digits(text, 17, 2);
    if ((sep !== SPACE && sep !== T) || hour < 0 || minute < 0 || second < 0 || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) return undefined;
    if (n > 19) {
      const fraction = digits(text, 20, n - 20);
      if (text.charCodeAt(19) !== DOT || n === 20 || n > 29 || fraction < 0) return undefined;
      ms = n >= 23 ? Math.floor(fraction / 10 ** (n - 23)) : fraction * 10 ** (23 - n);
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC reads years 0–99 as 1900–1999.
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

const DASH = 0x2d;
const COLON = 0x3a;
const SPACE = 0x20;
const T = 0x54;
const DOT = 0x2e;

/** The decimal number of `count` digits at `from`, or -1 when one of them is not a digit. */
function digits(text: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS[month - 1] as number;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
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

/**
 * Whether a JSON text may hold a number that parses to -0 or ±Infinity: a number starting "-0" with no
 * nonzero fraction digit, an exponent of three digits or more, or a run of 100 digits (with a mantissa and
 * an exponent below those, no number reaches the double range's ends). Text in strings can match too; that
 * only takes the slower, checking parse.
 */
const MAYBE_ODD_NUMBER = /(?<!\d)-0(?!\.\d*[1-9])|\d[eE][+-]?\d{3}|\d{100}/;

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
