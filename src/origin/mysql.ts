import mysql from 'mysql2';
import { decodeRows, type Row } from '../core/codec.js';
import { countParams, type StatementListener } from '../core/events.js';
import type { Origin, SelectRequest, TreeLevel } from '../core/origin.js';
import type { CompiledColumn, CompiledEntity } from '../core/schema.js';
import { dedupeLinks } from './dedupe-links.js';
import { ResultCheck } from './mysql/result-check.js';
import { fieldsOf, rememberFields } from './mysql/result-fields.js';
import { RefusedSqlError } from '../sql/refused-sql-error.js';
import { checkMysqlCallerSql } from './mysql-caller-sql.js';
import { multipleStatementOptions, singleStatementOptions, takesMultipleStatements } from './mysql-multiple-statements.js';

/** What {@link mysqlOrigin} accepts: a connection URL, mysql2 pool options, or a mysql2 pool (callback or promise). */
export type MysqlOriginSource = string | mysql.PoolOptions | mysql.Pool | { pool: mysql.Pool };

/**
 * A MySQL/MariaDB origin through `mysql2`. Given a URL or options, it makes (and later closes) its own
 * pool, whose sessions are read-only so the server itself refuses writes; given a pool, it uses it and
 * leaves it open.
 *
 * @example
 * mysqlOrigin('mysql://root@127.0.0.1:3306/test')
 */
export function mysqlOrigin(source: MysqlOriginSource): Origin {
  return new MysqlOrigin(source);
}

/** Per-query options so values decode the same on a pool the caller configured differently. */
const QUERY_OPTIONS = { supportBigNumbers: true, timezone: 'Z' } as const;
/**
 * Entity rows (the library's statements and custom queries) take dates as the server's text, parsed
 * strictly: mysql2's own parse turns a zero-in-date value into another day (DATE '2024-02-00' into 2024-01-31).
 */
const ENTITY_QUERY_OPTIONS = { ...QUERY_OPTIONS, dateStrings: true } as const;
/** Every session the library opens runs in UTC, so a TIMESTAMP reads as its true instant whatever the server's zone. */
const SESSION_TIME_ZONE = "SET time_zone = '+00:00'";
/** Connections reserved for one-trip tree loads (the only ones allowed multiple statements). */
const TREE_CONNECTIONS = 2;
const POOL_DEFAULTS: mysql.PoolOptions = {
  ...QUERY_OPTIONS,
  jsonStrings: true,
  dateStrings: false,
  decimalNumbers: false,
  connectionLimit: 8,
  maxIdle: 8,
  enableKeepAlive: true,
  // Every statement goes by the text protocol (query, never execute): mysql2's default cache of 16,000
  // prepared statements per connection would only cost each connection 0.5 MB of arrays made up front.
  maxPreparedStatements: 1,
};

/**
 * Lets the idle connections of a pool this origin made not hold the process open: a connection's socket
 * is unreferenced while it waits in the pool and referenced again while it is in use, so a program that
 * is done exits even if it never closed its store (close it all the same: that ends the sessions cleanly).
 */
function letIdleConnectionsSleep(pool: mysql.Pool): void {
  const socket = (conn: unknown) => (conn as { stream?: { ref?(): void; unref?(): void } }).stream;
  pool.on('release', (conn) => socket(conn)?.unref?.());
  pool.on('acquire', (conn) => socket(conn)?.ref?.());
}

function isPool(value: unknown): value is mysql.Pool {
  return typeof value === 'object' && value !== null && typeof (value as mysql.Pool).getConnection === 'function' && typeof (value as mysql.Pool).query === 'function';
}

/** One statement; `expectRows` rejects a statement that wrote (or otherwise returned no result set). */
function run(target: mysql.Pool | mysql.PoolConnection, sql: string, values: readonly unknown[], timeout?: number, expectRows = true, options: object = QUERY_OPTIONS): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    target.query({ sql, values: values as unknown[], ...options, ...(timeout === undefined ? {} : { timeout }) }, (error, rows, fields) => {
      if (error) reject(error);
      else if (!expectRows) resolve([]);
      else if (!Array.isArray(rows)) reject(new Error(`expected rows from ${JSON.stringify(sql.slice(0, 60))}, got a write result`));
      else {
        rememberFields(rows, fields, false);
        resolve(rows as Row[]);
      }
    });
  });
}

function runMulti(pool: mysql.Pool, sql: string, values: readonly unknown[], timeout?: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    pool.query({ sql, values: values as unknown[], ...ENTITY_QUERY_OPTIONS, ...(timeout === undefined ? {} : { timeout }) }, (error, results, fields) => {
      if (error) reject(error);
      else {
        rememberFields(results, fields, true);
        resolve(results);
      }
    });
  });
}

/** The SELECT of one tree level; its keys come from bound values or from the level above, as a subquery. */
function treeStatement(levels: readonly TreeLevel[], i: number): { sql: string; params: unknown[] } {
  const level = levels[i] as TreeLevel;
  const params: unknown[] = [];
  const a = `t${i}`;
  const cols = level.entity.columns.map((c) => `${a}.${quote(c.name)}`);
  if (level.through !== undefined) cols.unshift(`j${i}.${quote(level.through.sourceKey.name)} AS \`$src\``);
  let sql = `SELECT ${cols.join(', ')} ${treeFrom(levels, i, params)}`;
  const order = level.orderBy ?? [];
  if (order.length > 0) {
    const group = level.through !== undefined ? [`j${i}.${quote(level.through.sourceKey.name)}`] : level.where.columns.map((c) => `${a}.${quote(c.name)}`);
    sql += ` ORDER BY ${[...group, ...order.map((c) => `${a}.${quote(c.name)}`)].join(', ')}`;
  }
  return { sql, params };
}

function treeFrom(levels: readonly TreeLevel[], i: number, params: unknown[]): string {
  const level = levels[i] as TreeLevel;
  const a = `t${i}`;
  let source: string;
  if (level.from === undefined) {
    const keys = level.keys ?? [];
    params.push(level.where.composite ? keys.map(level.where.components) : keys);
    source = '?';
  } else {
    const p = level.from.level;
    source = `SELECT ${level.from.columns.columns.map((c) => `t${p}.${quote(c.name)}`).join(', ')} ${treeFrom(levels, p, params)}`;
  }
  if (level.through !== undefined) {
    const j = `j${i}`;
    const key = level.entity.key.columns[0] as CompiledColumn;
    return (
      `FROM ${quote(level.through.table)} ${j} JOIN ${quote(level.entity.table)} ${a} ON ${a}.${quote(key.name)} = ${j}.${quote(level.through.targetKey.name)} ` +
      `WHERE ${j}.${quote(level.through.sourceKey.name)} IN (${source})`
    );
  }
  const whereCols = level.where.columns.map((c) => `${a}.${quote(c.name)}`).join(', ');
  return `FROM ${quote(level.entity.table)} ${a} WHERE ${level.where.composite ? `(${whereCols})` : whereCols} IN (${source})`;
}

function quote(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

class MysqlOrigin implements Origin {
  readonly description: string;
  readonly #source: MysqlOriginSource;
  #check: ResultCheck | undefined;
  readonly #sql = new Map<string, string>();
  #pool: mysql.Pool | undefined;
  #owned = false;
  #jsonStrings = true;
  #listener: StatementListener | undefined;

  #timeoutMs: number | undefined;
  #options: mysql.PoolOptions = {};
  #trees: mysql.Pool | undefined;

  observe(listener: StatementListener): void {
    this.#listener = listener;
  }

  setTimeout(ms: number): void {
    this.#timeoutMs = ms;
  }

  constructor(source: MysqlOriginSource) {
    if (typeof source === 'string') {
      let url: URL;
      try {
        url = new URL(source);
      } catch {
        throw new TypeError(`mysqlOrigin: not a URL: ${JSON.stringify(source)}; expected mysql://user:password@host:port/database`);
      }
      if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') throw new TypeError(`mysqlOrigin: expected a mysql:// URL, got protocol ${url.protocol}`);
      this.description = `MySQL origin ${url.host}${url.pathname}`;
    } else if (isPool(source) || (typeof source === 'object' && source !== null && isPool((source as { pool: unknown }).pool))) {
      this.description = 'MySQL origin (caller pool)';
    } else if (typeof source === 'object' && source !== null) {
      const o = source as mysql.PoolOptions;
      this.description = `MySQL origin ${o.host ?? 'localhost'}:${o.port ?? 3306}/${o.database ?? ''}`;
    } else {
      throw new TypeError(`mysqlOrigin: expected a URL, pool options or a mysql2 pool, got ${String(source)}`);
    }
    this.#source = source;
  }

  async open(): Promise<void> {
    if (this.#pool !== undefined) return;
    const source = this.#source;
    if (isPool(source)) this.#pool = source;
    else if (typeof source === 'object' && isPool((source as { pool: unknown }).pool)) this.#pool = (source as { pool: mysql.Pool }).pool;
    else {
      // One statement per query, whatever the URL or options asked: caller SQL runs on these connections.
      // Connecting gives up with the store's origin timeout too, unless the URL or options say otherwise.
      const defaults = { ...POOL_DEFAULTS, ...(this.#timeoutMs === undefined ? {} : { connectTimeout: this.#timeoutMs }) };
      const options = singleStatementOptions(typeof source === 'string' ? { ...defaults, uri: source } : { ...defaults, ...source });
      this.#options = options;
      const pool = mysql.createPool(options);
      pool.on('connection', (conn) => {
        conn.query('SET SESSION TRANSACTION READ ONLY', () => undefined);
        conn.query(SESSION_TIME_ZONE, () => undefined);
      });
      letIdleConnectionsSleep(pool);
      this.#pool = pool;
      this.#owned = true;
    }
    const config = (this.#pool as unknown as { config?: { connectionConfig?: { jsonStrings?: boolean } } }).config;
    this.#jsonStrings = config?.connectionConfig?.jsonStrings ?? false;
    this.#check = new ResultCheck({ jsonStrings: this.#jsonStrings });
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    const trees = this.#trees;
    this.#pool = undefined;
    this.#trees = undefined;
    if (pool !== undefined && this.#owned) await new Promise<void>((resolve) => pool.end(() => resolve()));
    if (trees !== undefined) await new Promise<void>((resolve) => trees.end(() => resolve()));
  }

  async select(request: SelectRequest): Promise<Row[]> {
    if (request.asked === true) return this.#selectAsked(request);
    const { entity, where, keys, orderBy, through } = request;
    const sqlKey = `${entity.name}|${where.columns.map((c) => c.name).join(',')}|${orderBy?.map((c) => c.name).join(',') ?? ''}|${through?.table ?? ''}`;
    let sql = this.#sql.get(sqlKey);
    if (sql === undefined) {
      const cols = entity.columns.map((c) => `t.${quote(c.name)}`).join(', ');
      const order = orderBy !== undefined && orderBy.length > 0 ? orderBy.map((c) => `t.${quote(c.name)}`).join(', ') : '';
      if (through === undefined) {
        const whereCols = where.columns.map((c) => `t.${quote(c.name)}`).join(', ');
        sql = `SELECT ${cols} FROM ${quote(entity.table)} t WHERE ${where.composite ? `(${whereCols})` : whereCols} IN (?)`;
        if (order !== '') sql += ` ORDER BY ${whereCols}, ${order}`;
      } else {
        const src = `j.${quote(through.sourceKey.name)}`;
        const targetKey = entity.key.columns[0] as CompiledColumn;
        sql =
          `SELECT ${src} AS \`$src\`, ${cols} FROM ${quote(through.table)} j ` +
          `JOIN ${quote(entity.table)} t ON t.${quote(targetKey.name)} = j.${quote(through.targetKey.name)} ` +
          `WHERE ${src} IN (?) ORDER BY ${src}${order === '' ? '' : `, ${order}`}`;
      }
      this.#sql.set(sqlKey, sql);
    }
    const values = where.composite ? keys.map(where.components) : keys;
    const rows = await this.#query(sql, [values], true, ENTITY_QUERY_OPTIONS);
    decodeRows(rows, this.#checked().table(entity, fieldsOf(rows), through));
    return through === undefined ? rows : dedupeLinks(rows, entity);
  }

  /**
   * One branch per asked key, each the origin's own `WHERE column = ?` (so its collation, PAD SPACE and
   * numeric conversions decide what matches, exactly as for a single key), tagged with the key's index
   * `$i`. A derived table of keys joined to the table would not do: its column has a collation of its
   * own, which MariaDB refuses to mix with the table's (or silently prefers).
   */
  async #selectAsked(request: SelectRequest): Promise<Row[]> {
    const { entity, where, keys, through } = request;
    const cols = entity.columns.map((c) => `t.${quote(c.name)}`).join(', ');
    let from: string;
    let test: string;
    let head = '';
    if (through === undefined) {
      from = `${quote(entity.table)} t`;
      test = where.columns.map((c) => `t.${quote(c.name)} = ?`).join(' AND ');
    } else {
      const targetKey = entity.key.columns[0] as CompiledColumn;
      head = `j.${quote(through.sourceKey.name)} AS \`$src\`, `;
      from = `${quote(through.table)} j JOIN ${quote(entity.table)} t ON t.${quote(targetKey.name)} = j.${quote(through.targetKey.name)}`;
      test = `j.${quote(through.sourceKey.name)} = ?`;
    }
    // The index is the library's own integer, never a caller's value; the keys are bound.
    const sql = keys.map((_, i) => `SELECT ${i} AS \`$i\`, ${head}${cols} FROM ${from} WHERE ${test}`).join(' UNION ALL ');
    const values = where.composite ? keys.flatMap(where.components) : keys;
    const rows = await this.#query(sql, values, true, ENTITY_QUERY_OPTIONS);
    decodeRows(rows, this.#checked().table(entity, fieldsOf(rows), through));
    return through === undefined ? rows : dedupeLinks(rows, entity);
  }

  /**
   * Every level in one packet, inside one read-only consistent-snapshot transaction, on a small pool
   * reserved for it (the only connections with multiple statements enabled; values are still escaped by
   * the driver). A caller's pool cannot be given that flag, so there the levels go one statement at a time.
   */
  async selectTree(levels: readonly TreeLevel[]): Promise<Row[][]> {
    if (!this.treeInOneRoundTrip()) throw new Error(`${this.description}: a caller's pool cannot send a tree in one round trip; load it level by level`);
    const statements = levels.map((_, i) => treeStatement(levels, i));
    const text = ['START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', ...statements.map((s) => s.sql), 'COMMIT'].join(';\n');
    const values = statements.flatMap((s) => s.params);
    const t0 = performance.now();
    let results: Row[][];
    try {
      const all = (await runMulti(this.#treePool(), text, values, this.#timeoutMs)) as unknown[];
      results = all.slice(1, 1 + levels.length) as Row[][];
      this.#listener?.({ target: 'origin', sql: text, params: countParams(values), rows: results.reduce((n, r) => n + r.length, 0), durationMs: performance.now() - t0 });
    } catch (error) {
      this.#listener?.({ target: 'origin', sql: text, params: countParams(values), rows: 0, durationMs: performance.now() - t0, error: error as Error });
      throw error;
    }
    return results.map((rows, i) => {
      const level = levels[i] as TreeLevel;
      decodeRows(rows, this.#checked().table(level.entity, fieldsOf(rows), level.through));
      return level.through === undefined ? rows : dedupeLinks(rows, level.entity);
    });
  }

  /** A caller's pool is the caller's to connect: only the pools this origin made are warmed. */
  async warmUp(): Promise<void> {
    const pool = this.#pool;
    if (pool === undefined) throw new Error(`${this.description} is not open`);
    if (!this.#owned) return;
    // Each connection is held until a ping comes back, so its session setup is done too when this resolves.
    const one = (p: mysql.Pool) =>
      new Promise<mysql.PoolConnection>((resolve, reject) => p.getConnection((e, c) => (e ? reject(e) : resolve(c)))).then(
        (c) => new Promise<mysql.PoolConnection>((resolve, reject) => c.ping((e) => (e ? (c.destroy(), reject(e)) : resolve(c)))),
      );
    // Every connection that did open goes back to the pool, also when another failed.
    const connect = async (p: mysql.Pool, n: number) => {
      const settled = await Promise.allSettled(Array.from({ length: n }, () => one(p)));
      for (const s of settled) if (s.status === 'fulfilled') s.value.release();
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    };
    const limit = (p: mysql.Pool) => (p as unknown as { config?: { connectionLimit?: number } }).config?.connectionLimit ?? 1;
    await Promise.all([connect(pool, limit(pool)), connect(this.#treePool(), TREE_CONNECTIONS)]);
  }

  /** Only a pool this origin made can have the multiple-statement connections a one-trip tree needs. */
  treeInOneRoundTrip(): boolean {
    return typeof this.#source === 'string' || !(isPool(this.#source) || isPool((this.#source as { pool?: unknown }).pool));
  }

  #treePool(): mysql.Pool {
    if (this.#trees === undefined) {
      const pool = mysql.createPool({ ...multipleStatementOptions(this.#options), connectionLimit: TREE_CONNECTIONS, maxIdle: TREE_CONNECTIONS });
      pool.on('connection', (conn) => {
        conn.query('SET SESSION TRANSACTION READ ONLY', () => undefined);
        conn.query(SESSION_TIME_ZONE, () => undefined);
      });
      letIdleConnectionsSleep(pool);
      this.#trees = pool;
    }
    return this.#trees;
  }

  async selectSql(entity: CompiledEntity, sql: string, params: readonly unknown[]): Promise<Row[]> {
    checkMysqlCallerSql('query', sql, params, this.#pool);
    const rows = await this.#query(sql, params, false, ENTITY_QUERY_OPTIONS);
    decodeRows(rows, this.#checked().query(entity, fieldsOf(rows), `custom query on ${entity.name} (${sql.length > 60 ? sql.slice(0, 57) + '...' : sql})`));
    return rows;
  }

  /** Refuses (RefusedSqlError, nothing sent) caller SQL that is not exactly one plain read. */
  async raw(sql: string, params: readonly unknown[]): Promise<Row[]> {
    checkMysqlCallerSql('raw', sql, params, this.#pool);
    return this.#query(sql, params, false);
  }

  /**
   * Sessions of a pool this origin made are read-only already; on a caller's pool, caller SQL runs in a
   * read-only transaction on a reserved connection, so the server refuses writes either way.
   */
  async #query(sql: string, values: readonly unknown[], trusted: boolean, options?: object): Promise<Row[]> {
    const listener = this.#listener;
    if (listener === undefined) return this.#send(sql, values, trusted, options);
    const t0 = performance.now();
    try {
      const rows = await this.#send(sql, values, trusted, options);
      listener({ target: 'origin', sql, params: countParams(values), rows: rows.length, durationMs: performance.now() - t0 });
      return rows;
    } catch (error) {
      listener({ target: 'origin', sql, params: countParams(values), rows: 0, durationMs: performance.now() - t0, error: error as Error });
      throw error;
    }
  }

  /**
   * The library's own SELECTs run straight on the pool. Caller SQL runs on a reserved connection whose
   * session is made read-only just before it (so a caller cannot lift it with a statement of its own, and
   * DDL, which would escape a read-only transaction, is refused too); a caller's connection is then
   * dropped rather than handed back changed.
   */
  async #send(sql: string, values: readonly unknown[], trusted: boolean, options?: object): Promise<Row[]> {
    const pool = this.#pool;
    if (pool === undefined) throw new Error(`${this.description} is not open`);
    if (trusted) return run(pool, sql, values, this.#timeoutMs, true, options);
    const conn = await new Promise<mysql.PoolConnection>((resolve, reject) => pool.getConnection((e, c) => (e ? reject(e) : resolve(c))));
    try {
      if (takesMultipleStatements(conn) !== false) throw new RefusedSqlError('raw', 'mysql', sql, 'a connection that takes several statements per query');
      await run(conn, 'SET SESSION TRANSACTION READ ONLY', [], undefined, false);
      return await run(conn, sql, values, this.#timeoutMs, true, options);
    } finally {
      if (this.#owned) conn.release();
      else conn.destroy();
    }
  }

  #checked(): ResultCheck {
    if (this.#check === undefined) throw new Error(`${this.description} is not open`);
    return this.#check;
  }
}
