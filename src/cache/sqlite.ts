import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { StatementListener } from '../core/events.js';
import type { CacheStore, EntityRead, MergeBatch, QueryKey, RecordedQuery, RelationRead, VerifyReport } from '../core/cache-store.js';
import { DECODERS, decodeRows, planDecode, type DecodePlan, type Decoder, type KeyValue, type Row } from '../core/codec.js';
import type { ColumnType, CompiledColumn, CompiledEntity, CompiledRelation, CompiledSchema } from '../core/schema.js';
import { keysParam, type CompiledKey } from '../core/key.js';
import { inKeys, keyEquals, quoteSqlite as q, type SqliteConnection } from '../sqlite/connection.js';
import { checkSqliteDriver, openSqliteConnection, type SqliteDriver } from '../sqlite/sqlite-driver.js';
import { assertReadOnlyStatement } from '../sql/read-only-statement.js';

/** Options of {@link sqliteCache}. */
export interface SqliteCacheOptions {
  /**
   * The package that runs SQLite. `'sqlite3'` (the default) is asynchronous: statements run on libuv's
   * thread pool and never block the event loop, which is what a server needs. `'better-sqlite3'` runs each
   * statement synchronously on the calling thread: less overhead per statement, for batch jobs (warming,
   * exports, scripts), but nothing else runs meanwhile, not even while SQLite waits up to `busyTimeoutMs`
   * for another process's write lock. Both read and write the same file format and values, so a file
   * written through one opens through the other.
   *
   * `better-sqlite3` is an optional peer dependency, loaded only when chosen: `npm i better-sqlite3@12`
   * (version 12 supports Node 20; 13 needs Node 22).
   *
   * @example
   * await openStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db', { driver: 'better-sqlite3' }) });
   */
  driver?: SqliteDriver;
  /**
   * How long a statement waits for another process's write lock, in ms. Default 10000. With the
   * `better-sqlite3` driver the event loop is blocked while it waits.
   */
  busyTimeoutMs?: number;
  /** SQLite page cache size in KiB. Default 65536 (64 MiB). */
  cacheSizeKiB?: number;
  /** `PRAGMA synchronous`. Default `NORMAL` (durable across process crashes in WAL mode). */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /**
   * How long a process's claim to fetch a lookup holds, in ms, before other processes sharing the file may
   * fetch it themselves (a crashed process blocks no one for longer). Default 30000.
   */
  claimMs?: number;
}

/**
 * A cache in a SQLite file (or in memory when `filename` is omitted or `:memory:`). By default through the
 * asynchronous `sqlite3` driver, which never blocks the event loop; `options.driver` picks `better-sqlite3`
 * instead, for batch jobs.
 *
 * @example
 * await openStore(schema, { origin: mysqlOrigin(url), cache: sqliteCache('cache.db') });
 */
export function sqliteCache(filename = ':memory:', options: SqliteCacheOptions = {}): CacheStore {
  if (typeof filename !== 'string' || filename === '') throw new TypeError(`sqliteCache: expected a file name, got ${JSON.stringify(filename)}`);
  return new SqliteCacheStore(filename, options);
}

const STORAGE: Readonly<Record<ColumnType, string>> = {
  integer: 'INTEGER', bigint: 'TEXT', real: 'REAL', decimal: 'TEXT', text: 'TEXT',
  boolean: 'INTEGER', datetime: 'INTEGER', json: 'TEXT', blob: 'BLOB',
};
const DECODED: ReadonlySet<ColumnType> = new Set<ColumnType>(['bigint', 'boolean', 'datetime', 'json']);

type Encoder = (value: unknown) => unknown;
const ENCODERS: Readonly<Partial<Record<ColumnType, Encoder>>> = {
  bigint: (v) => String(v),
  boolean: (v) => (v ? 1 : 0),
  datetime: (v) => {
    const t = (v as Date).getTime();
    return Number.isNaN(t) ? null : t;
  },
  json: (v) => JSON.stringify(v),
  blob: (v) => (v as Buffer).toString('hex'),
};

/** A write waiting for the next group commit. */
interface QueuedWrite {
  readonly op: (db: SqliteConnection) => Promise<unknown>;
  /** One statement, atomic by itself: alone in its group it needs no BEGIN and COMMIT around it. */
  readonly single: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Per-entity SQL and codecs, built once at open. */
interface TablePlan {
  readonly kind: string;
  readonly decode: DecodePlan;
  readonly readEntities: string;
  /** As readEntities, counting only rows whose entity mark is recent enough (?3). */
  readonly readEntitiesFresh: string;
  readonly readQuery: string;
  readonly upsert: string;
  readonly encoders: readonly (Encoder | undefined)[];
  readonly names: readonly string[];
  /** Selects the key and every dependent foreign key of rows; the WHERE is appended per use. */
  readonly selectForRemoval: string;
  readonly deleteRows: string;
}

const MARK_SQL =
  'INSERT INTO ever_loaded (kind, key, loaded_at) SELECT ?, value, ? FROM json_each(?) WHERE true ' +
  'ON CONFLICT (kind, key) DO UPDATE SET loaded_at = excluded.loaded_at';
const UNMARK_SQL = 'DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT value FROM json_each(?))';
const CLAIM_SQL =
  'INSERT INTO adbv_fetching (kind, key, owner, expires_at) SELECT ?1, value, ?2, ?3 FROM json_each(?4) ' +
  'WHERE NOT EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?6 AND e.key = value AND e.loaded_at >= ?7) ' +
  'ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at ' +
  'WHERE adbv_fetching.expires_at < ?5 OR adbv_fetching.owner = ?2 RETURNING key';
const RELEASE_SQL = 'DELETE FROM adbv_fetching WHERE kind = ? AND key IN (SELECT value FROM json_each(?)) AND owner = ?';
const UNMARK_QUERIES_SQL =
  'DELETE FROM ever_loaded WHERE (kind, key) IN ' +
  '(SELECT kind, params FROM adbv_query_rows WHERE entity = ? AND key IN (SELECT value FROM json_each(?)))';

/** Per-relation SQL, built once at open. */
interface RelationPlan {
  readonly read: string;
  readonly readFresh: string;
  /** manyToMany: decodes `$src` when the source key needs it. */
  readonly decodeSource: Decoder | undefined;
  /** manyToMany: replaces the links of some source keys. */
  readonly unlink?: string;
  readonly link?: string;
}

/** @internal The `CacheStore` over SQLite. */
export class SqliteCacheStore implements CacheStore {
  readonly description: string;
  readonly #filename: string;
  readonly #options: SqliteCacheOptions;
  readonly #driver: SqliteDriver;
  readonly #writes: LimitFunction = pLimit(1);
  readonly #queue: QueuedWrite[] = [];
  #draining = false;
  readonly #tables = new Map<CompiledEntity, TablePlan>();
  readonly #relations = new Map<CompiledRelation, RelationPlan>();
  #reader: SqliteConnection | undefined;
  /** Whether the in-memory database's one connection refuses ATTACH yet (set before its first caller SQL). */
  #attachDenied = false;
  #db: SqliteConnection | undefined;
  #closed: Promise<void> | undefined;
  #statementsBefore = 0;
  /** Who this process is in `adbv_fetching`. */
  readonly #owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  /** Claims only matter when other processes can open the file. */
  readonly #shared: boolean;

  constructor(filename: string, options: SqliteCacheOptions) {
    this.#filename = filename;
    this.#options = options;
    this.#driver = checkSqliteDriver(options.driver, 'sqliteCache');
    this.description = `SQLite cache ${filename}${this.#driver === 'sqlite3' ? '' : ` (${this.#driver})`}`;
    this.#shared = filename !== ':memory:';
  }

  #listener: StatementListener | undefined;

  observe(listener: StatementListener): void {
    this.#listener = listener;
    if (this.#db !== undefined) this.#db.listener = listener;
  }

  get statementCount(): number {
    return this.#statementsBefore + (this.#db?.statements ?? 0);
  }

  async open(schema: CompiledSchema): Promise<void> {
    const db = await openSqliteConnection(this.#driver, this.#filename);
    db.listener = this.#listener;
    const { busyTimeoutMs = 10000, cacheSizeKiB = 65536, synchronous = 'NORMAL' } = this.#options;
    try {
      const memory = this.#filename === ':memory:' || this.#filename === '';
      const setup =
        `PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)};` +
        (memory ? '' : 'PRAGMA journal_mode = WAL;') +
        `PRAGMA synchronous = ${synchronous}; PRAGMA cache_size = ${-Math.trunc(cacheSizeKiB)}; PRAGMA temp_store = MEMORY;`;
      // Switching a new file to WAL while another connection opens it too fails with SQLITE_BUSY at once:
      // SQLite does not wait on that lock, busy timeout or not. The PRAGMAs are idempotent: try again.
      const deadline = Date.now() + busyTimeoutMs;
      for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
        try {
          await db.exec(setup);
          break;
        } catch (error) {
          if (!/^SQLITE_BUSY/.test(String((error as { code?: unknown }).code)) || Date.now() + delay > deadline) throw error;
          await sleep(delay);
        }
      }
      await db.exec(
        'BEGIN IMMEDIATE;' +
          'CREATE TABLE IF NOT EXISTS adbv_meta (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;' +
          'CREATE TABLE IF NOT EXISTS ever_loaded (kind TEXT NOT NULL, key ANY NOT NULL, loaded_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
          'CREATE TABLE IF NOT EXISTS adbv_fetching (kind TEXT NOT NULL, key ANY NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;' +
          'CREATE TABLE IF NOT EXISTS adbv_queries (kind TEXT NOT NULL, params TEXT NOT NULL, entity TEXT NOT NULL, sql TEXT NOT NULL, PRIMARY KEY (kind, params)) WITHOUT ROWID;' +
          'CREATE TABLE IF NOT EXISTS adbv_query_rows (kind TEXT NOT NULL, params TEXT NOT NULL, pos INTEGER NOT NULL, entity TEXT NOT NULL, key ANY NOT NULL, PRIMARY KEY (kind, params, pos)) WITHOUT ROWID;' +
          'CREATE INDEX IF NOT EXISTS adbv_query_rows_key ON adbv_query_rows (entity, key);' +
          'COMMIT;',
      );
      await this.#migrate(db, schema);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw new Error(`${this.description}: cannot open: ${(error as Error).message}`, { cause: error });
    }
    for (const entity of schema.entities) this.#tables.set(entity, planTable(entity));
    for (const rel of schema.relations) if (rel.kind !== 'belongsTo') this.#relations.set(rel, planRelation(rel));
    this.#db = db;
  }

  /**
   * Creates missing tables; a table or relation whose definition changed since the file was written is
   * dropped with its completeness marks, so rows shaped for an old schema are never served.
   */
  async #migrate(db: SqliteConnection, schema: CompiledSchema): Promise<void> {
    const stored = new Map((await db.all<{ name: string; fingerprint: string }>('SELECT name, fingerprint FROM adbv_meta')).map((r) => [r.name, r.fingerprint]));
    let script = 'BEGIN IMMEDIATE;';
    const setMeta = (name: string, fp: string) => `INSERT OR REPLACE INTO adbv_meta VALUES (${sqlString(name)}, ${sqlString(fp)});`;
    for (const entity of schema.entities) {
      const fp = JSON.stringify({ table: entity.table, key: names(entity.key), columns: entity.columns.map((c) => [c.name, c.type]) });
      const name = `entity:${entity.name}`;
      const old = stored.get(name);
      if (old !== undefined && old !== fp) {
        script += `DROP TABLE IF EXISTS ${q(JSON.parse(old).table)}; DELETE FROM ever_loaded WHERE kind = ${sqlString(entity.name)};`;
        for (const dep of [...entity.dependents, ...entity.linkedBy]) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(dep.id)};`;
        script += `DELETE FROM ever_loaded WHERE (kind, key) IN (SELECT kind, params FROM adbv_queries WHERE entity = ${sqlString(entity.name)});`;
        script += `DELETE FROM adbv_query_rows WHERE entity = ${sqlString(entity.name)}; DELETE FROM adbv_queries WHERE entity = ${sqlString(entity.name)};`;
      }
      if (old !== fp) script += setMeta(name, fp);
      const cols = entity.columns.map((c) => `${q(c.name)} ${STORAGE[c.type]}${entity.key.columns.includes(c) ? ' NOT NULL' : ''}`);
      script += `CREATE TABLE IF NOT EXISTS ${q(entity.table)} (${cols.join(', ')}, PRIMARY KEY (${entity.key.columns.map((c) => q(c.name)).join(', ')}));`;
      for (const dep of entity.dependents) {
        const idx = [...new Set([...dep.foreignKey.columns, ...dep.orderBy])].map((c) => q(c.name)).join(', ');
        script += `CREATE INDEX IF NOT EXISTS ${q(`${entity.table}__${dep.source.name}_${dep.name}`)} ON ${q(entity.table)} (${idx});`;
      }
    }
    const throughs = new Map<string, string>();
    for (const rel of schema.relations) {
      const t = rel.through;
      if (t === undefined) continue;
      const cols = [t.sourceKey, t.targetKey].sort((x, y) => (x.name < y.name ? -1 : 1));
      const ddl = `CREATE TABLE IF NOT EXISTS ${q(t.table)} (${cols.map((c) => `${q(c.name)} ${STORAGE[c.type]} NOT NULL`).join(', ')}, PRIMARY KEY (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}));`;
      const known = throughs.get(t.table);
      if (known !== undefined && known !== ddl.replace(/PRIMARY KEY .*$/, '')) {
        throw new Error(`join table "${t.table}" is declared with different columns by two relations (${rel.id})`);
      }
      if (known === undefined) {
        throughs.set(t.table, ddl.replace(/PRIMARY KEY .*$/, ''));
        script += ddl + `CREATE INDEX IF NOT EXISTS ${q(`${t.table}__${t.targetKey.name}`)} ON ${q(t.table)} (${q(t.targetKey.name)});`;
      }
    }
    for (const rel of schema.relations) {
      const fp = JSON.stringify([rel.kind, rel.target.name, names(rel.foreignKey), rel.orderBy.map((c) => c.name), rel.through ?? null]);
      const name = `relation:${rel.id}`;
      const old = stored.get(name);
      if (old !== undefined && old !== fp) script += `DELETE FROM ever_loaded WHERE kind = ${sqlString(rel.id)};`;
      if (old !== fp) script += setMeta(name, fp);
    }
    await db.exec(script + 'COMMIT;').catch(async (error) => {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw error;
    });
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      const db = this.#db;
      if (db === undefined) return;
      await this.#writes(() => undefined);
      this.#statementsBefore += db.statements;
      this.#db = undefined;
      const reader = this.#reader;
      this.#reader = undefined;
      this.#attachDenied = false;
      await Promise.all([db.close(), reader?.close()]);
    })();
    return this.#closed;
  }

  async readEntities(entity: CompiledEntity, keys: readonly KeyValue[], notBefore?: number): Promise<EntityRead> {
    const plan = this.#plan(entity);
    const param = keysParam(entity.key, keys, false);
    const raw =
      notBefore === undefined
        ? await this.#conn().all<Row>(plan.readEntities, [param, plan.kind])
        : await this.#conn().all<Row>(plan.readEntitiesFresh, [param, plan.kind, notBefore]);
    decodeRows(raw, plan.decode);
    const rows: Row[] = [];
    const absentKeys: KeyValue[] = [];
    for (const row of raw) {
      if (row.$a) absentKeys.push(entity.key.of(row) as KeyValue);
      else rows.push(row);
    }
    return { rows, absentKeys };
  }

  async readRelation(rel: CompiledRelation, keys: readonly KeyValue[], notBefore?: number): Promise<RelationRead> {
    const plan = this.#relations.get(rel);
    if (plan === undefined) throw new Error(`${rel.id} is not a hasMany, hasOne or manyToMany relation`);
    const param = keysParam(rel.source.key, keys, false);
    const raw =
      notBefore === undefined
        ? await this.#conn().all<Row>(plan.read, [param, rel.id])
        : await this.#conn().all<Row>(plan.readFresh, [param, rel.id, notBefore]);
    decodeRows(raw, this.#plan(rel.target).decode);
    const groupKey = rel.through === undefined ? rel.foreignKey.of : (row: Row) => row.$src as KeyValue;
    if (plan.decodeSource !== undefined) for (const row of raw) row.$src = plan.decodeSource(row.$src);
    let rows = raw;
    const emptyKeys: KeyValue[] = [];
    for (let i = 0; i < raw.length; i++) {
      if ((raw[i] as Row).$e) {
        if (rows === raw) rows = raw.slice(0, i);
        emptyKeys.push(groupKey(raw[i] as Row) as KeyValue);
      } else if (rows !== raw) rows.push(raw[i] as Row);
    }
    return { rows, emptyKeys };
  }

  merge(batch: MergeBatch | readonly MergeBatch[]): Promise<void> {
    const batches = Array.isArray(batch) ? (batch as readonly MergeBatch[]) : [batch as MergeBatch];
    return this.#transact(async (db) => {
      try {
        for (const b of batches) await this.#apply(db, b);
      } catch (error) {
        const names = [...new Set(batches.map((b) => b.entity.name))].join(', ');
        throw new Error(`${this.description}: cannot write ${names} rows: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  /**
   * Runs a write in a transaction. Writes that queue up while one commits are committed together (group
   * commit: many concurrent batches, one transaction); if that group fails, each is retried in a
   * transaction of its own, so one bad write fails only its caller. Writes are idempotent upserts.
   */
  #transact<T>(op: (db: SqliteConnection) => Promise<T>, single = false): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, single, resolve: resolve as (value: unknown) => void, reject });
    });
    this.#kick();
    return done;
  }

  #kick(): void {
    if (this.#draining || this.#queue.length === 0) return;
    this.#draining = true;
    void this.#writes(async () => {
      try {
        while (this.#queue.length > 0) await this.#commitGroup(this.#queue.splice(0));
      } finally {
        this.#draining = false;
        this.#kick();
      }
    });
  }

  async #commitGroup(group: QueuedWrite[]): Promise<void> {
    let db: SqliteConnection;
    try {
      db = this.#conn();
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    if (group.length > 1) {
      const results: unknown[] = [];
      try {
        await db.run('BEGIN IMMEDIATE');
        for (const w of group) results.push(await w.op(db));
        await db.run('COMMIT');
        group.forEach((w, i) => w.resolve(results[i]));
        return;
      } catch {
        await db.run('ROLLBACK').catch(() => undefined);
      }
    }
    for (const w of group) {
      if (w.single) {
        await w.op(db).then(w.resolve, w.reject);
        continue;
      }
      try {
        await db.run('BEGIN IMMEDIATE');
        const result = await w.op(db);
        await db.run('COMMIT');
        w.resolve(result);
      } catch (error) {
        await db.run('ROLLBACK').catch(() => undefined);
        w.reject(error);
      }
    }
  }

  /** Applies one batch inside the caller's transaction. */
  async #apply(db: SqliteConnection, batch: MergeBatch): Promise<void> {
    const { entity, rows, loadedAt, entityKeys, absentKeys, relation } = batch;
    const plan = this.#plan(entity);
    if (absentKeys !== undefined && absentKeys.length > 0) {
      const gone = await db.all<Row>(`${plan.selectForRemoval} WHERE ${inKeys(entity.key, 't')}`, [keysParam(entity.key, absentKeys, false)]);
      await this.#remove(db, entity, plan, gone, false);
    }
    if (relation !== undefined && relation.rel.through !== undefined) {
      const rp = this.#relations.get(relation.rel) as RelationPlan;
      await db.run(rp.unlink as string, [keysParam(relation.rel.source.key, relation.keys, false)]);
      const links = rows.map((r) => [encodeKey(r.$src), encodeKey(entity.key.of(r))]);
      if (links.length > 0) await db.run(rp.link as string, [JSON.stringify(links)]);
    } else if (relation !== undefined) {
      const kept = rows.map(entity.key.of) as KeyValue[];
      const stale = await db.all<Row>(
        `${plan.selectForRemoval} WHERE ${inKeys(relation.rel.foreignKey, 't', '?1')} AND NOT ${inKeys(entity.key, 't', '?2')}`,
        [keysParam(relation.rel.foreignKey, relation.keys, false), keysParam(entity.key, kept, false)],
      );
      await this.#remove(db, entity, plan, stale, true);
    }
    if (rows.length > 0) await db.run(plan.upsert, [encodeRows(rows, plan)]);
    if (entityKeys !== undefined && entityKeys.length > 0) await db.run(MARK_SQL, [plan.kind, loadedAt, keysParam(entity.key, entityKeys, false)]);
    if (relation !== undefined && relation.keys.length > 0) {
      await db.run(MARK_SQL, [relation.rel.id, loadedAt, keysParam(relation.rel.source.key, relation.keys, false)]);
    }
    if (this.#shared && batch.unclaimed !== true) {
      if (entityKeys !== undefined && entityKeys.length > 0) await db.run(RELEASE_SQL, [`e:${entity.name}`, keysParam(entity.key, entityKeys, false), this.#owner]);
      if (relation !== undefined) await db.run(RELEASE_SQL, [`r:${relation.rel.id}`, keysParam(relation.rel.source.key, relation.keys, false), this.#owner]);
      if (batch.query !== undefined) await db.run(RELEASE_SQL, [batch.query.kind, JSON.stringify([batch.query.params]), this.#owner]);
    }
    if (batch.query !== undefined) {
      const { kind, params, sql } = batch.query;
      await db.run('DELETE FROM adbv_query_rows WHERE kind = ? AND params = ?', [kind, params]);
      if (rows.length > 0) {
        await db.run(
          'INSERT INTO adbv_query_rows (kind, params, pos, entity, key) SELECT ?1, ?2, key, ?3, value FROM json_each(?4)',
          [kind, params, entity.name, keysParam(entity.key, rows.map(entity.key.of) as KeyValue[], false)],
        );
      }
      await db.run('INSERT OR REPLACE INTO adbv_queries (kind, params, entity, sql) VALUES (?, ?, ?, ?)', [kind, params, entity.name, sql]);
      await db.run(MARK_SQL, [kind, loadedAt, JSON.stringify([params])]);
    }
  }

  /**
   * Drops rows the origin no longer has where they were, and every mark that counted on them: the marks
   * of relations whose group held them and (for rows that may live on elsewhere) their own entity marks.
   */
  async #remove(db: SqliteConnection, entity: CompiledEntity, plan: TablePlan, gone: Row[], unmarkEntity: boolean): Promise<void> {
    if (gone.length === 0) return;
    for (const dep of entity.dependents) {
      const fks = gone.map(dep.foreignKey.ofStored).filter((v): v is KeyValue => v !== null);
      if (fks.length > 0) await db.run(UNMARK_SQL, [dep.id, keysParam(dep.foreignKey, fks, false)]);
    }
    const keys = keysParam(entity.key, gone.map(entity.key.ofStored) as KeyValue[], false);
    for (const rel of entity.linkedBy) {
      const t = rel.through as NonNullable<CompiledRelation['through']>;
      await db.run(
        `DELETE FROM ever_loaded WHERE kind = ? AND key IN (SELECT ${q(t.sourceKey.name)} FROM ${q(t.table)} WHERE ${q(t.targetKey.name)} IN (SELECT value FROM json_each(?)))`,
        [rel.id, keys],
      );
    }
    await db.run(UNMARK_QUERIES_SQL, [entity.name, keys]);
    if (unmarkEntity) await db.run(UNMARK_SQL, [plan.kind, keys]);
    await db.run(plan.deleteRows, [keys]);
  }

  async claim(kind: string, key: CompiledKey | undefined, keys: readonly KeyValue[], markKind: string, markedSince: number): Promise<KeyValue[]> {
    if (!this.#shared || keys.length === 0) return [...keys];
    const param = key === undefined ? JSON.stringify(keys) : keysParam(key, keys, false);
    const now = Date.now();
    const rows = await this.#transact((db) =>
      db.all<{ key: unknown }>(CLAIM_SQL, [kind, this.#owner, now + (this.#options.claimMs ?? 30000), param, now, markKind, markedSince]),
      true,
    );
    if (rows.length === keys.length) return [...keys];
    const claimed = new Set(rows.map((r) => r.key));
    return keys.filter((k) => claimed.has(typeof k === 'bigint' ? String(k) : k));
  }

  async release(kind: string, key: CompiledKey | undefined, keys: readonly KeyValue[]): Promise<void> {
    if (!this.#shared || keys.length === 0) return;
    const param = key === undefined ? JSON.stringify(keys) : keysParam(key, keys, false);
    await this.#transact((db) => db.run(RELEASE_SQL, [kind, param, this.#owner]), true);
  }

  async verify(): Promise<VerifyReport> {
    const db = this.#conn();
    const problems: string[] = [];
    const check = await db.all<{ quick_check: string }>('PRAGMA quick_check');
    for (const r of check) if (r.quick_check !== 'ok') problems.push(`integrity: ${r.quick_check}`);
    const [{ n: marks } = { n: 0 }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM ever_loaded');
    const rows: Record<string, number> = {};
    const known = new Set<string>();
    for (const [entity] of this.#tables) {
      known.add(entity.name);
      const [{ n } = { n: 0 }] = await db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${q(entity.table)}`);
      rows[entity.name] = n;
      const lost = await db.all<{ kind: string; params: string; key: unknown }>(
        `SELECT r.kind, r.params, r.key FROM adbv_query_rows r JOIN ever_loaded e ON e.kind = r.kind AND e.key = r.params ` +
          `LEFT JOIN ${q(entity.table)} t ON ${keyEquals(entity.key, 't', 'r.key')} ` +
          `WHERE r.entity = ? AND t.${q((entity.key.columns[0] as CompiledColumn).name)} IS NULL LIMIT 20`,
        [entity.name],
      );
      for (const l of lost) problems.push(`query ${l.kind.slice(2)} ${l.params} is marked complete but its ${entity.name} row ${String(l.key)} is missing`);
    }
    for (const [rel] of this.#relations) {
      known.add(rel.id);
      const t = rel.through;
      if (t === undefined) continue;
      const lost = await db.all<{ key: unknown; target: unknown }>(
        `SELECT e.key AS key, j.${q(t.targetKey.name)} AS target FROM ever_loaded e JOIN ${q(t.table)} j ON j.${q(t.sourceKey.name)} = e.key ` +
          `LEFT JOIN ${q(rel.target.table)} x ON x.${q((rel.target.key.columns[0] as CompiledColumn).name)} = j.${q(t.targetKey.name)} ` +
          `WHERE e.kind = ? AND x.${q((rel.target.key.columns[0] as CompiledColumn).name)} IS NULL LIMIT 20`,
        [rel.id],
      );
      for (const l of lost) problems.push(`${rel.id} of ${String(l.key)} is marked complete but its ${rel.target.name} row ${String(l.target)} is missing`);
    }
    const kinds = await db.all<{ kind: string }>('SELECT DISTINCT kind FROM ever_loaded');
    for (const { kind } of kinds) {
      if (!known.has(kind) && !kind.startsWith('q:')) problems.push(`marks of ${JSON.stringify(kind)}, which the schema does not know`);
    }
    return { ok: problems.length === 0, problems, marks, rows };
  }

  async readQuery(entity: CompiledEntity, key: QueryKey, notBefore?: number): Promise<Row[] | undefined> {
    const plan = this.#plan(entity);
    const raw = await this.#conn().all<Row>(plan.readQuery, [key.kind, key.params, notBefore ?? -1]);
    if (raw.length === 0) return undefined;
    const firstKey = (entity.key.columns[0] as CompiledColumn).name;
    if (raw.length === 1 && (raw[0] as Row).$pos === null) return [];
    // A recorded row missing from its table means the answer is no longer whole: treat as not complete.
    if (raw.some((r) => r[firstKey] === null)) return undefined;
    decodeRows(raw, plan.decode);
    return raw;
  }

  async completeLookups(): Promise<{ kind: string; keys: unknown[] }[]> {
    const rows = await this.#conn().all<{ kind: string; keys: string }>(
      'SELECT kind, json_group_array(key) AS keys FROM ever_loaded GROUP BY kind',
    );
    return rows.map((r) => ({ kind: r.kind, keys: JSON.parse(r.keys) as unknown[] }));
  }

  async recordedQueries(): Promise<RecordedQuery[]> {
    return this.#conn().all<RecordedQuery>(
      'SELECT q.kind, q.params, q.entity, q.sql FROM adbv_queries q JOIN ever_loaded e ON e.kind = q.kind AND e.key = q.params',
    );
  }

  /**
   * Caller SQL runs only if it is exactly one read (RefusedSqlError otherwise, before anything is sent), and
   * read-only: on a second, read-only connection for a file (it sees committed data), or for an in-memory
   * cache on the one connection with `query_only` on, between writes. Either connection refuses ATTACH
   * (and so VACUUM INTO), so no file can be opened or created even if the check missed something.
   */
  async sql(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const db = this.#conn();
    assertReadOnlyStatement(sql, 'sqlite', 'cacheSql');
    if (this.#filename === ':memory:') {
      return this.#writes(async () => {
        if (!this.#attachDenied) {
          await db.denyAttach();
          this.#attachDenied = true;
        }
        await db.exec('PRAGMA query_only = ON');
        try {
          return await db.all<Row>(sql, params);
        } finally {
          await db.exec('PRAGMA query_only = OFF');
        }
      });
    }
    if (this.#reader === undefined) {
      const reader = await openSqliteConnection(this.#driver, this.#filename, true);
      await reader.denyAttach();
      await reader.exec('PRAGMA query_only = ON');
      reader.listener = this.#listener;
      // Two first calls may both have opened one: the later keeps the first.
      if (this.#reader === undefined) this.#reader = reader;
      else await reader.close();
    }
    return this.#reader.all<Row>(sql, params);
  }

  #conn(): SqliteConnection {
    if (this.#db === undefined) throw new Error(`${this.description} is not open`);
    return this.#db;
  }

  #plan(entity: CompiledEntity): TablePlan {
    const plan = this.#tables.get(entity);
    if (plan === undefined) throw new Error(`${this.description}: entity ${entity.name} is not in the schema it was opened with`);
    return plan;
  }
}

function planTable(entity: CompiledEntity): TablePlan {
  const t = q(entity.table);
  const key = entity.key;
  const colNames = entity.columns.map((c) => c.name);
  const values = entity.columns.map((c, i) => (c.type === 'blob' ? `unhex(value ->> ${i})` : `value ->> ${i}`));
  const updates = entity.columns.filter((c) => !key.columns.includes(c)).map((c) => `${q(c.name)} = excluded.${q(c.name)}`);
  const removalCols = new Set([...key.columns, ...entity.dependents.flatMap((d) => d.foreignKey.columns)]);
  // Rows recorded absent come back with only their key columns, taken from the asked key.
  const absentAware = entity.columns
    .map((c) => {
      const i = key.columns.indexOf(c);
      if (i < 0) return `t.${q(c.name)}`;
      return `COALESCE(t.${q(c.name)}, ${key.composite ? `k.value ->> ${i}` : 'k.value'}) AS ${q(c.name)}`;
    })
    .join(', ');
  const firstKey = `t.${q((key.columns[0] as CompiledColumn).name)}`;
  return {
    kind: entity.name,
    decode: planDecode(entity, DECODED),
    readEntities:
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')} ` +
      `WHERE ${firstKey} IS NOT NULL OR EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?2 AND e.key = k.value)`,
    readEntitiesFresh:
      `SELECT ${absentAware}, ${firstKey} IS NULL AS "$a" ` +
      `FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value AND e.loaded_at >= ?3 ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'k.value')}`,
    readQuery:
      `SELECT ${colNames.map((c) => `t.${q(c)}`).join(', ')}, r.pos AS "$pos" FROM ever_loaded e ` +
      `LEFT JOIN adbv_query_rows r ON r.kind = e.kind AND r.params = e.key ` +
      `LEFT JOIN ${t} t ON ${keyEquals(key, 't', 'r.key')} ` +
      `WHERE e.kind = ?1 AND e.key = ?2 AND e.loaded_at >= ?3 ORDER BY r.pos`,
    upsert:
      `INSERT INTO ${t} (${colNames.map(q).join(', ')}) SELECT ${values.join(', ')} FROM json_each(?) WHERE true ` +
      `ON CONFLICT (${key.columns.map((c) => q(c.name)).join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
    encoders: entity.columns.map((c) => ENCODERS[c.type]),
    names: colNames,
    selectForRemoval: `SELECT DISTINCT ${[...removalCols].map((c) => `t.${q(c.name)}`).join(', ')} FROM ${t} t`,
    deleteRows: `DELETE FROM ${t} AS t WHERE ${inKeys(key, 't')}`,
  };
}

function planRelation(rel: CompiledRelation): RelationPlan {
  const target = rel.target;
  // Grouped by the relation key (as selected: the empty groups' too), then in the relation's order.
  const order = `ORDER BY ${rel.batchOrder.map((c) => (c.name === '$src' || rel.foreignKey.columns.includes(c) ? q(c.name) : `t.${q(c.name)}`)).join(', ')}`;
  const t = rel.through;
  let from: string;
  let cols: string;
  if (t === undefined) {
    const fk = rel.foreignKey;
    cols = target.columns
      .map((c) => {
        const i = fk.columns.indexOf(c);
        if (i < 0) return `t.${q(c.name)}`;
        return `COALESCE(t.${q(c.name)}, ${fk.composite ? `k.value ->> ${i}` : 'k.value'}) AS ${q(c.name)}`;
      })
      .join(', ');
    from = `LEFT JOIN ${q(target.table)} t ON ${keyEquals(fk, 't', 'k.value')}`;
  } else {
    cols = `k.value AS "$src", ${target.columns.map((c) => `t.${q(c.name)}`).join(', ')}`;
    from =
      `LEFT JOIN ${q(t.table)} j ON j.${q(t.sourceKey.name)} = k.value ` +
      `LEFT JOIN ${q(target.table)} t ON t.${q((target.key.columns[0] as CompiledColumn).name)} = j.${q(t.targetKey.name)}`;
  }
  // "$e" marks a complete key with no rows; the key columns cannot tell when the foreign key is the target's key.
  const head = `SELECT ${cols}, t.${q((target.key.columns[0] as CompiledColumn).name)} IS NULL AS "$e" FROM json_each(?1) k JOIN ever_loaded e ON e.kind = ?2 AND e.key = k.value`;
  const plan: RelationPlan = {
    read: `${head} ${from} ${order}`,
    readFresh: `${head} AND e.loaded_at >= ?3 ${from} ${order}`,
    decodeSource: t !== undefined && DECODED.has(t.sourceKey.type) ? DECODERS[t.sourceKey.type] : undefined,
  };
  if (t === undefined) return plan;
  return {
    ...plan,
    unlink: `DELETE FROM ${q(t.table)} WHERE ${q(t.sourceKey.name)} IN (SELECT value FROM json_each(?))`,
    link:
      `INSERT OR IGNORE INTO ${q(t.table)} (${q(t.sourceKey.name)}, ${q(t.targetKey.name)}) ` +
      `SELECT value ->> 0, value ->> 1 FROM json_each(?)`,
  };
}

/** A key as the cache stores it (bigints as text). */
function encodeKey(key: unknown): unknown {
  return typeof key === 'bigint' ? String(key) : key;
}

/** One JSON array of row arrays for `json_each`: the 2 µs-a-row path, against 40 µs for a statement per row. */
function encodeRows(rows: readonly Row[], plan: TablePlan): string {
  const { names, encoders } = plan;
  const out: unknown[][] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    const arr: unknown[] = new Array(names.length);
    for (let c = 0; c < names.length; c++) {
      const v = row[names[c] as string];
      const enc = encoders[c];
      arr[c] = v === null || v === undefined ? null : enc === undefined ? v : enc(v);
    }
    out[i] = arr;
  }
  return JSON.stringify(out);
}

function names(key: CompiledKey): string | string[] {
  return key.composite ? key.columns.map((c) => c.name) : (key.columns[0] as CompiledColumn).name;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
