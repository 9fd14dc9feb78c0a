// Which MySQL/MariaDB result column can feed which declared column type, and how its values decode.
import { DECODERS, type Decoder } from '../../core/codec.js';
import type { ColumnType } from '../../core/schema.js';
import { bitBooleanDecoder, datetimeDecoder, jsonDecoder, safeIntegerDecoder } from '../faithful-decoders.js';

/** What the compatibility check reads of one result column (the fields of a mysql2 `FieldPacket`). */
export interface OriginField {
  readonly name: string;
  /** The wire type (`columnType`, the `MYSQL_TYPE_*` number). */
  readonly columnType?: number;
  readonly type?: number;
  readonly flags: number | readonly string[];
  readonly decimals: number;
  /** Collation id of the column's character set; 63 is `binary` (a Buffer, not a string). */
  readonly characterSet?: number;
  readonly columnLength?: number;
  /** MariaDB extended metadata: `json` for a JSON column (a LONGTEXT on the wire). */
  readonly extendedFormat?: string;
  readonly extendedTypeName?: string;
}

/** MySQL wire types (`MYSQL_TYPE_*`). */
export const T = {
  DECIMAL: 0x00, TINY: 0x01, SHORT: 0x02, LONG: 0x03, FLOAT: 0x04, DOUBLE: 0x05, NULL: 0x06, TIMESTAMP: 0x07,
  LONGLONG: 0x08, INT24: 0x09, DATE: 0x0a, TIME: 0x0b, DATETIME: 0x0c, YEAR: 0x0d, NEWDATE: 0x0e, VARCHAR: 0x0f,
  BIT: 0x10, VECTOR: 0xf2, JSON: 0xf5, NEWDECIMAL: 0xf6, ENUM: 0xf7, SET: 0xf8, TINY_BLOB: 0xf9, MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb, BLOB: 0xfc, VAR_STRING: 0xfd, STRING: 0xfe, GEOMETRY: 0xff,
} as const;

const UNSIGNED_FLAG = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

/** Integers a JavaScript number holds exactly whatever the value (mysql2 gives them as numbers). */
const SMALL_INTS = new Set<number>([T.TINY, T.SHORT, T.INT24, T.LONG, T.YEAR]);
const DECIMALS = new Set<number>([T.DECIMAL, T.NEWDECIMAL]);
const DATES = new Set<number>([T.DATE, T.NEWDATE, T.DATETIME, T.TIMESTAMP]);
const STRINGS = new Set<number>([T.VARCHAR, T.VAR_STRING, T.STRING, T.ENUM, T.SET]);
const BLOBS = new Set<number>([T.TINY_BLOB, T.MEDIUM_BLOB, T.LONG_BLOB, T.BLOB]);

/** How the library reads a session's values, which decides some verdicts. */
export interface ReadOptions {
  /** JSON arrives as text (the library's own pools), not parsed by mysql2 (a caller's pool may differ). */
  readonly jsonStrings: boolean;
}

/** A column that can feed the declared type, with the decoder its values need (none: taken as they come). */
export interface Accepted {
  readonly ok: true;
  readonly decoder?: Decoder;
}

/** A column that cannot: `actual` names it as SQL would, `needs` says what the declared type takes. */
export interface Refused {
  readonly ok: false;
  readonly actual: string;
  readonly needs: string;
}

/** What each declared type takes, for messages. */
export const NEEDS: Readonly<Record<ColumnType, string>> = {
  integer: 'an integer column (TINYINT…INT, YEAR; BIGINT whose values stay within ±(2^53−1))',
  bigint: 'an integer column (TINYINT…BIGINT, signed or unsigned) or DECIMAL(n,0)',
  real: 'FLOAT, DOUBLE or an integer column up to INT (a DECIMAL is exact: declare it \'decimal\', or CAST it AS DOUBLE)',
  decimal: 'DECIMAL or an integer column (read as exact decimal text)',
  text: 'a character column (CHAR, VARCHAR, TEXT…, ENUM, SET, TIME, DATE/DATETIME/TIMESTAMP as text) in a non-binary character set',
  boolean: 'TINYINT(1)/BOOLEAN, BIT(1), or an integer expression of display width 1',
  datetime: 'DATETIME, TIMESTAMP or DATE',
  json: 'JSON (MySQL JSON, MariaDB JSON), or a TEXT/MEDIUMTEXT/LONGTEXT holding JSON',
  blob: 'BINARY, VARBINARY, BLOB… (binary character set) or BIT',
};

function typeOf(field: OriginField): number {
  return field.columnType ?? field.type ?? -1;
}

function flag(field: OriginField, bit: number, name: string): boolean {
  return typeof field.flags === 'number' ? (field.flags & bit) !== 0 : field.flags.includes(name);
}

function unsigned(field: OriginField): boolean {
  return flag(field, UNSIGNED_FLAG, 'UNSIGNED');
}

function binary(field: OriginField): boolean {
  // The BINARY flag is also set on dates, numbers and _bin collations; mysql2 gives a Buffer by character set.
  return field.characterSet === BINARY_CHARSET;
}

/** The column as SQL would name it, for messages: `VARCHAR(80)`, `BIGINT UNSIGNED`, `DECIMAL(10,2)`, `LONGTEXT (JSON)`. */
export function describeField(field: OriginField): string {
  const t = typeOf(field);
  const len = field.columnLength ?? 0;
  const u = unsigned(field) ? ' UNSIGNED' : '';
  const json = field.extendedFormat === 'json' ? ' (JSON)' : '';
  const ext = field.extendedTypeName !== undefined && field.extendedTypeName !== '' ? ` (${field.extendedTypeName.toUpperCase()})` : '';
  switch (t) {
    case T.TINY: return `TINYINT(${len})${u}`;
    case T.SHORT: return `SMALLINT${u}`;
    case T.INT24: return `MEDIUMINT${u}`;
    case T.LONG: return `INT${u}`;
    case T.LONGLONG: return `BIGINT${u}`;
    case T.YEAR: return 'YEAR';
    case T.FLOAT: return 'FLOAT';
    case T.DOUBLE: return 'DOUBLE';
    case T.DECIMAL: case T.NEWDECIMAL: return `DECIMAL(${Math.max(0, len - (field.decimals > 0 ? 1 : 0) - (unsigned(field) ? 0 : 1))},${field.decimals})${u}`;
    case T.NULL: return 'NULL';
    case T.DATE: case T.NEWDATE: return 'DATE';
    case T.DATETIME: return 'DATETIME';
    case T.TIMESTAMP: return 'TIMESTAMP';
    case T.TIME: return 'TIME';
    case T.BIT: return `BIT(${len})`;
    case T.JSON: return 'JSON';
    case T.ENUM: return 'ENUM';
    case T.SET: return 'SET';
    case T.GEOMETRY: return 'GEOMETRY';
    case T.VECTOR: return 'VECTOR';
    case T.VARCHAR: case T.VAR_STRING: return (binary(field) ? 'VARBINARY' : 'VARCHAR') + json + ext;
    case T.STRING: return (flag(field, ENUM_FLAG, 'ENUM') ? 'ENUM' : flag(field, SET_FLAG, 'SET') ? 'SET' : binary(field) ? 'BINARY' : 'CHAR') + json + ext;
    case T.TINY_BLOB: case T.MEDIUM_BLOB: case T.LONG_BLOB: case T.BLOB: {
      // Servers send every TEXT/BLOB as BLOB; its size shows in the length: bytes, times up to 4 for a character set.
      const size = len <= 0xff * 4 ? 'TINY' : len <= 0xffff * 4 ? '' : len <= 0xffffff * 4 ? 'MEDIUM' : 'LONG';
      return size + (binary(field) ? 'BLOB' : 'TEXT') + json;
    }
    default: return `type ${t}`;
  }
}

/**
 * The compatibility table: whether values of this result column read as the declared type, faithfully
 * and the same online and offline, and with which decoder. `where` names the column in value errors.
 * (A NULL-typed column — `SELECT NULL AS x` — feeds any type. Nullability is not compared.)
 */
export function verdict(declared: ColumnType, field: OriginField, where: string, options: ReadOptions): Accepted | Refused {
  const t = typeOf(field);
  const refused = (): Refused => ({ ok: false, actual: describeField(field), needs: NEEDS[declared] });
  if (t === T.NULL) return { ok: true };
  const isJson = t === T.JSON || field.extendedFormat === 'json';
  // mysql2 parses a JSON column itself unless the pool has jsonStrings.
  const parsedJson = isJson && !options.jsonStrings;
  const text = (STRINGS.has(t) || BLOBS.has(t)) && !binary(field);
  switch (declared) {
    case 'integer':
      if (SMALL_INTS.has(t)) return { ok: true };
      if (t === T.LONGLONG) return { ok: true, decoder: safeIntegerDecoder(where, describeField(field)) };
      return refused();
    case 'bigint':
      if (SMALL_INTS.has(t) || t === T.LONGLONG || (DECIMALS.has(t) && field.decimals === 0)) return { ok: true, decoder: DECODERS.bigint };
      return refused();
    case 'real':
      return t === T.FLOAT || t === T.DOUBLE || SMALL_INTS.has(t) ? { ok: true } : refused();
    case 'decimal':
      return DECIMALS.has(t) || SMALL_INTS.has(t) || t === T.LONGLONG ? { ok: true, decoder: DECODERS.decimal } : refused();
    case 'text':
      if ((text || t === T.JSON) && !parsedJson) return { ok: true };
      // Dates and times come as the server's text (entity statements ask for date strings).
      return t === T.TIME || DATES.has(t) ? { ok: true } : refused();
    case 'boolean':
      if ((SMALL_INTS.has(t) || t === T.LONGLONG) && field.columnLength === 1) return { ok: true, decoder: DECODERS.boolean };
      if (t === T.BIT && field.columnLength === 1) return { ok: true, decoder: bitBooleanDecoder };
      return refused();
    case 'datetime':
      return DATES.has(t) ? { ok: true, decoder: datetimeDecoder(where) } : refused();
    case 'json':
      // MariaDB's JSON is a LONGTEXT; before 10.5 (or without extended metadata) nothing marks it as JSON.
      if (t === T.JSON || (isJson && text) || (BLOBS.has(t) && text)) return { ok: true, decoder: jsonDecoder(where, parsedJson) };
      return refused();
    case 'blob':
      return ((STRINGS.has(t) || BLOBS.has(t)) && binary(field)) || t === T.BIT ? { ok: true, decoder: DECODERS.blob } : refused();
  }
}
