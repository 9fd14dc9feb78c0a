import { decodeRows, planDecode, type DecodePlan, type Row } from '../core/codec.js';
import type { StatementListener } from '../core/events.js';
import type { Origin, SelectRequest } from '../core/origin.js';
import type { ColumnType, CompiledColumn, CompiledEntity } from '../core/schema.js';
import { inKeys, quoteSqlite as q, type SqliteConnection } from '../sqlite/connection.js';
import { keysParam } from '../sqlite/keys-param.js';
import { NodeSqlite3Connection } from '../sqlite/node-sqlite3.js';
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
    if (through === undefined) {
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
    if (through !== undefined && through.sourceKey.type === 'bigint') for (const r of rows) r.$src = BigInt(r.$src as string);
    return rows;
  }

  async selectSql(entity: CompiledEntity, sql: string, params: readonly unknown[]): Promise<Row[]> {
    assertReadOnlyStatement(sql, 'sqlite', 'query');
    const rows = await this.#all(sql, params);
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

  #plan(entity: CompiledEntity): DecodePlan {
    let plan = this.#plans.get(entity);
    if (plan === undefined) this.#plans.set(entity, (plan = planDecode(entity, DECODED)));
    return plan;
  }

  #conn(): SqliteConnection {
    if (this.#db === undefined) throw new Error(`${this.description} is not open`);
    return this.#db;
  }
}
