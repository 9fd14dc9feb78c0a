import { decodeRows, planDecode, type DecodePlan, type Row } from '../core/codec.js';
import type { Origin, SelectRequest } from '../core/origin.js';
import type { ColumnType, CompiledEntity } from '../core/schema.js';
import { keysJson, quoteSqlite as q, SqliteConnection } from '../sqlite/connection.js';

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

const DECODED: ReadonlySet<ColumnType> = new Set<ColumnType>(['bigint', 'boolean', 'decimal', 'datetime', 'json', 'blob']);

class SqliteOrigin implements Origin {
  readonly description: string;
  readonly #filename: string;
  readonly #plans = new Map<CompiledEntity, DecodePlan>();
  #db: SqliteConnection | undefined;

  constructor(filename: string) {
    this.#filename = filename;
    this.description = `SQLite origin ${filename}`;
  }

  async open(): Promise<void> {
    this.#db ??= await SqliteConnection.open(this.#filename, true);
    await this.#db.exec('PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;');
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    await db?.close();
  }

  async select(request: SelectRequest): Promise<Row[]> {
    const { entity, where, keys, orderBy } = request;
    // Bigints are read as text so values beyond 2^53 stay exact.
    const cols = entity.columns.map((c) => (c.type === 'bigint' ? `CAST(${q(c.name)} AS TEXT) AS ${q(c.name)}` : q(c.name)));
    let sql = `SELECT ${cols.join(', ')} FROM ${q(entity.table)} WHERE ${q(where.name)} IN (SELECT value FROM json_each(?))`;
    if (orderBy !== undefined && orderBy.length > 0) sql += ` ORDER BY ${[where, ...orderBy].map((c) => q(c.name)).join(', ')}`;
    const rows = await this.#conn().all<Row>(sql, [keysJson(keys, true)]);
    let plan = this.#plans.get(entity);
    if (plan === undefined) this.#plans.set(entity, (plan = planDecode(entity, DECODED)));
    decodeRows(rows, plan);
    return rows;
  }

  raw(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.#conn().all<Row>(sql, params);
  }

  #conn(): SqliteConnection {
    if (this.#db === undefined) throw new Error(`${this.description} is not open`);
    return this.#db;
  }
}
