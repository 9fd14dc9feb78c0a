import { decodeRows, planDecode, type DecodePlan, type Row } from '../core/codec.js';
import type { StatementListener } from '../core/events.js';
import type { Origin, SelectRequest } from '../core/origin.js';
import type { ColumnType, CompiledColumn, CompiledEntity } from '../core/schema.js';
import { inKeys, keyEquals, quoteSqlite as q, type SqliteConnection } from '../sqlite/connection.js';
import { keysParam } from '../sqlite/keys-param.js';
import { NodeSqlite3Connection } from '../sqlite/node-sqlite3.js';
import { dedupeLinks } from './dedupe-links.js';
import { datetimeDecoder, jsonDecoder, realDecoder } from './faithful-decoders.js';
import { duplicateNames, resultWidth } from './sqlite/result-width.js';
import { assertUniqueColumns } from './unique-columns.js';
import { assertReadOnlyStatement } from '../sql/read-only-statement.js';

/**
 * An origin in a SQLite file, opened read-only: for the demo, for tests without a server, and for
 * users whose source of truth is a SQLite file.
 *
 * @example
 * await openStore(schema, { origin: sqliteOrigin('data.db'), cache: sqliteCache('cache.db') });
 */
export function sqliteOrigin(filename: string): Origin {
  if (typeof filename !== 'string' || filename === '') throw new TypeError(`sqliteOrigin: expected a file name, got ${JSON.stringify(filename)}`);
  return new SqliteOrigin(filename);
}

const DECODED: ReadonlySet<ColumnType> = new Set<ColumnType>(['bigint', 'boolean', 'decimal', 'datetime', 'json', 'blob', 'real']);
/** Custom-query SQL texts whose result width is remembered. */
const MAX_WIDTHS = 256;

class SqliteOrigin implements Origin {
  readonly description: string;
  readonly #filename: string;
  readonly #plans = new Map<CompiledEntity, DecodePlan>();
  readonly #widths = new Map<string, number | undefined>();
  #db: SqliteConnection | undefined;

  constructor(filename: string) {
    this.#filename = filename;
    this.description = `SQLite origin ${filename}`;
  }

  #listener: StatementListener | undefined;

  observe(listener: StatementListener): void {
    this.#listener = listener;
  }

  async open(): Promise<void> {
    if (this.#db === undefined) {
      this.#db = await NodeSqlite3Connection.open(this.#filename, true);
      // Caller SQL runs here too: it can neither attach nor (VACUUM INTO) create a file.
      await this.#db.denyAttach();
      // The connection reports as a cache would; retag its events as the origin's.
      const listener = this.#listener;
      if (listener !== undefined) this.#db.listener = (e) => listener({ ...e, target: 'origin' });
    }
    await this.#db.exec('PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;');
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }

  async select(request: SelectRequest): Promise<Row[]> {
    const { entity, where, keys, orderBy, through } = request;
    // Bigints are read as text so values beyond 2^53 stay exact.
    const text = (expr: string, type: string) => (type === 'bigint' ? `CAST(${expr} AS TEXT)` : expr);
    const cols = entity.columns.map((c) => `${text(`t.${q(c.name)}`, c.type)} AS ${q(c.name)}`).join(', ');
    const order = orderBy?.map((c) => `t.${q(c.name)}`).join(', ') ?? '';
    let sql: string;
    if (request.asked === true && through === undefined) {
      // Each key compared as the table's own `WHERE column = ?` would: the column's collation and affinity decide.
      sql = `SELECT k.key AS "$i", ${cols} FROM json_each(?) k JOIN ${q(entity.table)} t ON ${keyEquals(where, 't', 'k.value')}`;
    } else if (request.asked === true && through !== undefined) {
      const src = `j.${q(through.sourceKey.name)}`;
      sql =
        `SELECT k.key AS "$i", ${text(src, through.sourceKey.type)} AS "$src", ${cols} FROM json_each(?) k JOIN ${q(through.table)} j ON ${src} = k.value ` +
        `JOIN ${q(entity.table)} t ON t.${q((entity.key.columns[0] as CompiledColumn).name)} = j.${q(through.targetKey.name)}`;
    } else if (through === undefined) {
      const whereCols = where.columns.map((c) => `t.${q(c.name)}`).join(', ');
      sql = `SELECT ${cols} FROM ${q(entity.table)} t WHERE ${inKeys(where, 't')}`;
      if (order !== '') sql += ` ORDER BY ${whereCols}, ${order}`;
    } else {
      const src = `j.${q(through.sourceKey.name)}`;
      sql =
        `SELECT ${text(src, through.sourceKey.type)} AS "$src", ${cols} FROM ${q(through.table)} j ` +
        `JOIN ${q(entity.table)} t ON t.${q((entity.key.columns[0] as CompiledColumn).name)} = j.${q(through.targetKey.name)} ` +
        `WHERE ${src} IN (SELECT value FROM json_each(?)) ORDER BY ${src}${order === '' ? '' : `, ${order}`}`;
    }
    const rows = await this.#conn().all<Row>(sql, [keysParam(where, keys, true)]);
    decodeRows(rows, this.#plan(entity));
    if (through === undefined) return rows;
    if (through.sourceKey.type === 'bigint') for (const r of rows) r.$src = BigInt(r.$src as string);
    return dedupeLinks(rows, entity);
  }

  async selectSql(entity: CompiledEntity, sql: string, params: readonly unknown[]): Promise<Row[]> {
    assertReadOnlyStatement(sql, 'sqlite', 'query');
    const rows = await this.#all(sql, params);
    if (rows[0] !== undefined) await this.#assertUniqueColumns(entity, sql, params, rows[0]);
    decodeRows(rows, this.#plan(entity));
    return rows;
  }

  /**
   * Caller SQL that is not exactly one read is refused (RefusedSqlError) before it is sent; the file is
   * opened read-only with `query_only` and no ATTACH, so SQLite itself refuses writes as well.
   */
  async raw(sql: string, params: readonly unknown[]): Promise<Row[]> {
    assertReadOnlyStatement(sql, 'sqlite', 'raw');
    return this.#all(sql, params);
  }

  #all(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.#conn().all<Row>(sql, params.map((p) => (typeof p === 'bigint' ? String(p) : p)));
  }

  /**
   * node-sqlite3 folds same-named columns into one key, so a duplicate shows only as a row with fewer keys
   * than the statement has columns (counted once per SQL text). An empty result is not checked: it writes
   * no row a duplicate could have corrupted.
   */
  async #assertUniqueColumns(entity: CompiledEntity, sql: string, params: readonly unknown[], row: Row): Promise<void> {
    let width: number | undefined;
    if (this.#widths.has(sql)) width = this.#widths.get(sql);
    else {
      width = await resultWidth(this.#conn(), sql);
      if (this.#widths.size >= MAX_WIDTHS) this.#widths.delete(this.#widths.keys().next().value as string);
      this.#widths.set(sql, width);
    }
    const keys = Object.keys(row);
    if (width === undefined || width <= keys.length) return;
    const where = `custom query on ${entity.name} (${sql.length > 60 ? sql.slice(0, 57) + '...' : sql})`;
    const dup = await duplicateNames(this.#conn(), sql, params.map((p) => (typeof p === 'bigint' ? String(p) : p)));
    if (dup !== undefined && dup.length > 0) assertUniqueColumns([...keys, ...dup], where);
    throw new TypeError(`${where}: the result has ${width} columns but only ${keys.length} distinct names; select each column once`);
  }

  #plan(entity: CompiledEntity): DecodePlan {
    let plan = this.#plans.get(entity);
    if (plan === undefined) {
      const where = (c: string) => `${entity.name}.${c}`;
      // Per-column decoders for the values a plain decode would change between the origin and the cache.
      const decoderOf = (c: CompiledColumn) =>
        c.type === 'datetime' ? datetimeDecoder(where(c.name)) : c.type === 'json' ? jsonDecoder(where(c.name), false) : c.type === 'real' ? realDecoder(where(c.name)) : undefined;
      const overrides = new Map(entity.columns.map((c) => [c.name, decoderOf(c)]));
      const base = planDecode(entity, DECODED);
      plan = { names: base.names, decoders: base.decoders.map((d, i) => overrides.get(base.names[i] as string) ?? d) };
      this.#plans.set(entity, plan);
    }
    return plan;
  }

  #conn(): SqliteConnection {
    if (this.#db === undefined) throw new Error(`${this.description} is not open`);
    return this.#db;
  }
}
