// The basic values every part of the library passes around: keys, rows, and how a bad value is shown.

/** A key value after normalisation: what identity maps and completeness marks are keyed by. */
export type KeyValue = number | bigint | string;

/** A row as a driver hands it over (or, after decoding, with canonical values). */
export type Row = Record<string, unknown>;

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
