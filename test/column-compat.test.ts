// The compatibility table of declared column types against MariaDB result columns, cell by cell.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SchemaError } from 'asyncdbview';
import { createTestDb, mysqlSkipReason, type TestDb } from './helpers/mysql.js';

const skip = await mysqlSkipReason();

/** Root of the package (build/test/ → ../..). */
const root = fileURLToPath(new URL('../..', import.meta.url));

type ColumnType = 'integer' | 'bigint' | 'real' | 'decimal' | 'text' | 'boolean' | 'datetime' | 'json' | 'blob';
const TYPES: readonly ColumnType[] = ['integer', 'bigint', 'real', 'decimal', 'text', 'boolean', 'datetime', 'json', 'blob'];

interface Compat {
  verdict(declared: ColumnType, field: object, where: string, options: { jsonStrings: boolean }): { ok: boolean; decoder?: (v: unknown) => unknown; actual?: string; needs?: string };
  describeField(field: object): string;
}

/**
 * Each column of the origin table: its SQL type, the name the check gives it in messages, and the declared
 * types it may feed. Every other declared type must be refused.
 */
const COLUMNS: Record<string, { sql: string; named: string; accepts: readonly ColumnType[] }> = {
  t1: { sql: 'TINYINT(1)', named: 'TINYINT(1)', accepts: ['integer', 'bigint', 'real', 'decimal', 'boolean'] },
  bo: { sql: 'BOOLEAN', named: 'TINYINT(1)', accepts: ['integer', 'bigint', 'real', 'decimal', 'boolean'] },
  t4: { sql: 'TINYINT', named: 'TINYINT(4)', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  si: { sql: 'SMALLINT', named: 'SMALLINT', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  mi: { sql: 'MEDIUMINT', named: 'MEDIUMINT', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  i: { sql: 'INT', named: 'INT', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  iu: { sql: 'INT UNSIGNED', named: 'INT UNSIGNED', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  yr: { sql: 'YEAR', named: 'YEAR', accepts: ['integer', 'bigint', 'real', 'decimal'] },
  bi: { sql: 'BIGINT', named: 'BIGINT', accepts: ['integer', 'bigint', 'decimal'] },
  biu: { sql: 'BIGINT UNSIGNED', named: 'BIGINT UNSIGNED', accepts: ['integer', 'bigint', 'decimal'] },
  fl: { sql: 'FLOAT', named: 'FLOAT', accepts: ['real'] },
  db: { sql: 'DOUBLE', named: 'DOUBLE', accepts: ['real'] },
  de: { sql: 'DECIMAL(10,2)', named: 'DECIMAL(10,2)', accepts: ['decimal'] },
  deu: { sql: 'DECIMAL(10,2) UNSIGNED', named: 'DECIMAL(10,2) UNSIGNED', accepts: ['decimal'] },
  de0: { sql: 'DECIMAL(20,0)', named: 'DECIMAL(20,0)', accepts: ['bigint', 'decimal'] },
  ch: { sql: 'CHAR(5)', named: 'CHAR', accepts: ['text'] },
  vc: { sql: 'VARCHAR(20)', named: 'VARCHAR', accepts: ['text'] },
  vcb: { sql: 'VARCHAR(20) COLLATE utf8mb4_bin', named: 'VARCHAR', accepts: ['text'] },
  l1: { sql: 'VARCHAR(20) CHARACTER SET latin1', named: 'VARCHAR', accepts: ['text'] },
  tx: { sql: 'TEXT', named: 'TEXT', accepts: ['text', 'json'] },
  lt: { sql: 'LONGTEXT', named: 'LONGTEXT', accepts: ['text', 'json'] },
  js: { sql: 'JSON', named: 'LONGTEXT (JSON)', accepts: ['text', 'json'] },
  en: { sql: "ENUM('a','b')", named: 'ENUM', accepts: ['text'] },
  st: { sql: "SET('a','b')", named: 'SET', accepts: ['text'] },
  uu: { sql: 'UUID', named: 'CHAR (UUID)', accepts: ['text'] },
  tm: { sql: 'TIME', named: 'TIME', accepts: ['text'] },
  da: { sql: 'DATE', named: 'DATE', accepts: ['text', 'datetime'] },
  dt: { sql: 'DATETIME(3)', named: 'DATETIME', accepts: ['text', 'datetime'] },
  ts: { sql: 'TIMESTAMP NULL', named: 'TIMESTAMP', accepts: ['text', 'datetime'] },
  bn: { sql: 'BINARY(4)', named: 'BINARY', accepts: ['blob'] },
  vb: { sql: 'VARBINARY(10)', named: 'VARBINARY', accepts: ['blob'] },
  bl: { sql: 'BLOB', named: 'BLOB', accepts: ['blob'] },
  b1: { sql: 'BIT(1)', named: 'BIT(1)', accepts: ['boolean', 'blob'] },
  b8: { sql: 'BIT(8)', named: 'BIT(8)', accepts: ['blob'] },
  pt: { sql: 'POINT', named: 'GEOMETRY', accepts: [] },
};

describe('column compatibility table (declared type × MariaDB result column)', { skip }, () => {
  let db: TestDb;
  let compat: Compat;
  let fields: Map<string, object>;
  before(async () => {
    compat = (await import(pathToFileURL(join(root, 'dist', 'origin', 'mysql', 'column-compat.js')).href)) as Compat;
    db = await createTestDb(`CREATE TABLE compat (${Object.entries(COLUMNS).map(([n, c]) => `${n} ${c.sql} NULL`).join(', ')}) CHARSET utf8mb4`);
    const [, f] = await db.admin.query('SELECT *, NULL AS nu, (1 > 0) AS cmp FROM compat');
    fields = new Map((f as { name: string }[]).map((x) => [x.name, x]));
  });
  after(async () => {
    await db.drop();
  });

  it('accepts exactly the listed declared types for each column, and names the column as SQL would', () => {
    let cells = 0;
    for (const [name, c] of Object.entries(COLUMNS)) {
      const field = fields.get(name) as object;
      assert.equal(compat.describeField(field), c.named, `${name} ${c.sql}`);
      for (const type of TYPES) {
        const v = compat.verdict(type, field, `T.${name}`, { jsonStrings: true });
        assert.equal(v.ok, c.accepts.includes(type), `${c.sql} declared ${type}: ${v.ok ? 'accepted' : `refused (${v.actual})`}`);
        if (!v.ok) {
          assert.equal(v.actual, c.named);
          assert.ok((v.needs ?? '').length > 0);
        }
        cells++;
      }
    }
    assert.equal(cells, Object.keys(COLUMNS).length * TYPES.length);
  });

  it('a NULL column (SELECT NULL AS x) feeds any type; an integer expression of width 1 feeds boolean', () => {
    for (const type of TYPES) assert.equal(compat.verdict(type, fields.get('nu') as object, 'T.nu', { jsonStrings: true }).ok, true, type);
    assert.equal(compat.verdict('boolean', fields.get('cmp') as object, 'T.cmp', { jsonStrings: true }).ok, true);
  });

  it('a JSON column is text only when the pool hands JSON over as text', () => {
    assert.equal(compat.verdict('text', fields.get('js') as object, 'T.js', { jsonStrings: true }).ok, true);
    assert.equal(compat.verdict('text', fields.get('js') as object, 'T.js', { jsonStrings: false }).ok, false);
    assert.equal(compat.verdict('json', fields.get('js') as object, 'T.js', { jsonStrings: false }).ok, true);
  });

  it('decoders: BIGINT as integer refuses a value beyond 2^53−1, BIT(1) reads as a boolean, BIGINT UNSIGNED as bigint stays exact', () => {
    const asInteger = compat.verdict('integer', fields.get('bi') as object, 'T.bi', { jsonStrings: true }).decoder as (v: unknown) => unknown;
    assert.equal(asInteger(9007199254740991), 9007199254740991);
    assert.equal(asInteger(-9007199254740991), -9007199254740991);
    assert.throws(() => asInteger('9007199254740993'), (e: unknown) => e instanceof SchemaError && /T\.bi.*'integer'.*BIGINT.*9007199254740993.*'bigint'/.test(e.message));
    const bit = compat.verdict('boolean', fields.get('b1') as object, 'T.b1', { jsonStrings: true }).decoder as (v: unknown) => unknown;
    assert.equal(bit(Buffer.from([1])), true);
    assert.equal(bit(Buffer.from([0])), false);
    const big = compat.verdict('bigint', fields.get('biu') as object, 'T.biu', { jsonStrings: true }).decoder as (v: unknown) => unknown;
    assert.equal(big('18446744073709551615'), 18446744073709551615n);
    const dec0 = compat.verdict('bigint', fields.get('de0') as object, 'T.de0', { jsonStrings: true }).decoder as (v: unknown) => unknown;
    assert.equal(dec0('-99999999999999999999'), -99999999999999999999n);
  });
});
