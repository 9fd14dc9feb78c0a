// The SQLite cache store: opens the file, reads lookups, and ties the write queue, merge, claims and verify together.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalChangeSet, LocalWrite } from '../../core/local/local-change.js';
import type { CacheStore, EntityRead, MergeBatch, QueryKey, RecordedQuery, RelationRead, VerifyReport } from '../../core/cache-store.js';
import { decodeRows, type KeyValue, type Row } from '../../core/codec.js';
import { SchemaError } from '../../core/errors.js';
import type { StatementListener } from '../../core/events.js';
import type { CompiledColumn, CompiledEntity, CompiledRelation, CompiledSchema } from '../../core/schema.js';
import { inKeys, type SqliteConnection } from '../../sqlite/connection.js';
import { keysParam } from '../../sqlite/keys-param.js';
import { openSqliteConnection, type SqliteDriver } from '../../sqlite/sqlite-driver.js';
import { assertReadOnlyStatement } from '../../sql/read-only-statement.js';
import { claimKeysIn, claimsOf, HeldClaims, releaseKeysIn, type Claimant } from './claims.js';
import { CommitWatch } from './commit-watch.js';
import { createBookkeeping, migrate } from './ddl.js';
import { eventLoopTurn } from './event-loop-turn.js';
import { createLocalTable, discardLocal, listLocal, localVersion, openLocal, writeLocal } from './local-changes.js';
import { applyBatch, applyEntityBatches, plainEntityBatch, removeRows, type Releasing } from './merge.js';
import { readRows } from './packed-read.js';
import { Plans } from './plans.js';
import { DROP_MARKS_SQL, verifyCache } from './verify.js';
import { lookAround, UNREGISTER_SQL } from './users.js';
import { mergeAll, readAll } from './whole-table.js';
import { WriteQueue, type TransactionHooks } from './write-queue.js';

/** @internal The settings of a cache, defaults applied. */
export interface CacheSettings {
  readonly driver: SqliteDriver;
  readonly busyTimeoutMs: number;
  readonly cacheSizeKiB: number;
  readonly synchronous: 'OFF' | 'NORMAL' | 'FULL';
  readonly claimMs: number;
  readonly commitDelayMs: number;
}

/** Plain entity answers written together (see `applyEntityBatches`). */
interface PlainRun {
  readonly entity: CompiledEntity;
  readonly batches: MergeBatch[];
  started: boolean;
  done: Promise<void>;
}

/** The most answers one plain run takes: its statements stay small. */
const MAX_PLAIN_RUN = 512;

/** @internal The `CacheStore` over SQLite. */
export class SqliteCacheStore implements CacheStore {
  readonly description: string;
  readonly #filename: string;
  readonly #settings: CacheSettings;
  readonly #writes: WriteQueue;
  /** The queued write plain entity answers of its entity still join (until it starts, or another write is queued). */
  #plainRun: PlainRun | undefined;
  #plans: Plans | undefined;
  #reader: SqliteConnection | undefined;
  /** Whether the in-memory database's one connection refuses ATTACH yet (set before its first caller SQL). */
  #attachDenied = false;
  #db: SqliteConnection | undefined;
  /**
   * A second connection for the library's own reads (a file on node-sqlite3): on the one connection, a read
   * queued while a write transaction is open would run inside it — seeing its uncommitted rows and holding
   * the file's write lock longer, which other processes sharing the file then wait on.
   */
  #readDb: SqliteConnection | undefined;
  /** Statements the read connection ran while opening (its setup, like the main connection's, is not counted). */
  #readSetup = 0;
  #closed: Promise<void> | undefined;
  #statementsBefore = 0;
  /** Who this process is in `adbv_fetching`; undefined for an in-memory cache, which no other process opens. */
  readonly #claimant: Claimant | undefined;
  /** Claims taken and not yet released: a merge releases only these. */
  readonly #held = new HeldClaims();
  /**
   * No other store had the file open when this store last looked: at its open and in each of its write
   * transactions. It stays so only while no one else commits to the file (`#watch`, no statement): a store
   * that joins commits its registration first, so the next lookup here sees company. While alone, claims
   * are not taken and the local-change version is not read again: nobody else can fetch or change
   * anything. The newcomer claims as usual (it sees this store registered); a lookup both fetch in the
   * moment of joining only costs a fetch: merges never let an older read overwrite a newer one, and no
   * answer depends on claims. An in-memory cache is always alone.
   */
  #alone = true;
  /** Whether anyone else has committed to the file since this store's last write transaction. */
  readonly #watch: CommitWatch | undefined;
  /**
   * The watch found the file quiet in this turn of the event loop, with this many statements sent: it is
   * still quiet for the rest of the turn while no statement is sent. A lookup asks twice in one turn (its
   * claim and the local-change version), and nothing this store could have seen has changed in between:
   * node-sqlite3 answers only in later turns, and a better-sqlite3 statement (answered at once) counts.
   */
  #quietMemo: { readonly turn: object; readonly statements: number } | undefined;
  /** The file holds (or may hold) local changes, so an origin write may move the local-change version (by trigger). */
  #mayHaveLocal = false;
  /** The open write transaction may move the local-change version: until it ends, the version is read. */
  #txMoving = false;
  /** The local-change version as last read while alone, good while no write of this store may move it. */
  #version: number | undefined;
  /** Moves whenever a read of the version may no longer be kept (a moving write, a change of company). */
  #epoch = 0;
  #listener: StatementListener | undefined;

  constructor(filename: string, settings: CacheSettings) {
    this.#filename = filename;
    this.#settings = settings;
    this.description = `SQLite cache ${filename}${settings.driver === 'sqlite3' ? '' : ` (${settings.driver})`}`;
    this.#claimant = filename === ':memory:' ? undefined : { owner: `${process.pid}-${Math.random().toString(36).slice(2, 10)}`, claimMs: settings.claimMs };
    this.#watch = this.#claimant === undefined ? undefined : new CommitWatch(filename);
    this.#writes = new WriteQueue(() => this.#conn(), this.#transactionHooks(), settings.commitDelayMs);
  }

  observe(listener: StatementListener): void {
    this.#listener = listener;
    if (this.#db !== undefined) this.#db.listener = listener;
    if (this.#readDb !== undefined) this.#readDb.listener = listener;
  }

  get statementCount(): number {
    return this.#statementsBefore + (this.#db?.statements ?? 0) + (this.#readDb === undefined ? 0 : this.#readDb.statements - this.#readSetup);
  }

  async open(schema: CompiledSchema): Promise<void> {
    const plans = new Plans(schema, this.description);
    const db = await openSqliteConnection(this.#settings.driver, this.#filename);
    db.listener = this.#listener;
    const { busyTimeoutMs, cacheSizeKiB, synchronous } = this.#settings;
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
      await createBookkeeping(db);
      await createLocalTable(db);
      const user = this.#claimant === undefined ? undefined : { owner: this.#claimant.owner, pid: process.pid, file: this.#filename };
      // The look at the file's users is the registration's: the watch starts from its commit.
      const others = await migrate(db, schema, user, () => void this.#watch?.begin());
      this.#watch?.end(true);
      this.#alone = others === 0;
      this.#mayHaveLocal = await openLocal(db, plans);
      // Putting held local changes back committed after the registration: no baseline until the first write.
      if (this.#mayHaveLocal) this.#watch?.forget();
    } catch (error) {
      await db.close().catch(() => undefined);
      this.#watch?.close();
      if (error instanceof SchemaError) throw error;
      throw new Error(`${this.description}: cannot open: ${(error as Error).message}`, { cause: error });
    }
    this.#plans = plans;
    this.#db = db;
    if (this.#filename !== ':memory:' && this.#filename !== '' && this.#settings.driver === 'sqlite3') {
      const readDb = await openSqliteConnection(this.#settings.driver, this.#filename, true);
      try {
        await readDb.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}; PRAGMA cache_size = ${-Math.trunc(cacheSizeKiB)}; PRAGMA query_only = ON;`);
      } catch (error) {
        await Promise.all([readDb.close().catch(() => undefined), db.close().catch(() => undefined)]);
        this.#db = undefined;
        this.#watch?.close();
        throw new Error(`${this.description}: cannot open: ${(error as Error).message}`, { cause: error });
      }
      readDb.listener = this.#listener;
      this.#readSetup = readDb.statements;
      this.#readDb = readDb;
    }
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      const db = this.#db;
      if (db === undefined) return;
      this.#writes.hurry();
      // No longer a user of the file: other schemas may open it once every user with this one has gone.
      if (this.#claimant !== undefined) await this.#transact((w) => w.run(UNREGISTER_SQL, [this.#claimant?.owner]), true).catch(() => undefined);
      await this.#writes.exclusive(() => undefined);
      const readDb = this.#readDb;
      this.#statementsBefore += db.statements + (readDb === undefined ? 0 : readDb.statements - this.#readSetup);
      this.#db = undefined;
      this.#readDb = undefined;
      const reader = this.#reader;
      this.#reader = undefined;
      this.#attachDenied = false;
      // The writer closes last: the last connection to close checkpoints the WAL and removes it, and only the writer can.
      await Promise.all([reader?.close(), readDb?.close()]);
      await db.close().finally(() => this.#watch?.close());
    })();
    return this.#closed;
  }

  async readEntities(entity: CompiledEntity, keys: readonly KeyValue[], notBefore?: number): Promise<EntityRead> {
    const plan = this.#planned().table(entity);
    const param = keysParam(entity.key, keys, false);
    const raw =
      notBefore === undefined
        ? await readRows(this.#readConn(), plan.readEntities, [param, plan.kind])
        : await readRows(this.#readConn(), plan.readEntitiesFresh, [param, plan.kind, notBefore]);
    decodeRows(raw, plan.decode);
    const rows: Row[] = [];
    const absentKeys: KeyValue[] = [];
    let aliased: [KeyValue, Row][] | undefined;
    for (const row of raw) {
      if (row.$a) absentKeys.push(entity.key.of(row) as KeyValue);
      else if (!plan.aliased) rows.push(row);
      else {
        // The asked key a row answers under another spelling (null: its own key).
        const asked = row.$asked as KeyValue | null;
        delete row.$asked;
        if (asked === null) rows.push(row);
        else (aliased ??= []).push([asked, row]);
      }
    }
    return aliased === undefined ? { rows, absentKeys } : { rows, absentKeys, aliased };
  }

  async readRelation(rel: CompiledRelation, keys: readonly KeyValue[], notBefore?: number): Promise<RelationRead> {
    const plans = this.#planned();
    const plan = plans.relation(rel);
    const param = keysParam(rel.source.key, keys, false);
    const raw =
      notBefore === undefined
        ? await readRows(this.#readConn(), plan.read, [param, rel.id])
        : await readRows(this.#readConn(), plan.readFresh, [param, rel.id, notBefore]);
    decodeRows(raw, plans.table(rel.target).decode);
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

  async readQuery(entity: CompiledEntity, key: QueryKey, notBefore?: number): Promise<Row[] | undefined> {
    const plan = this.#planned().table(entity);
    const raw = await this.#readConn().all<Row>(plan.readQuery, [key.kind, key.params, notBefore ?? -1]);
    if (raw.length === 0) return undefined;
    const firstKey = (entity.key.columns[0] as CompiledColumn).name;
    if (raw.length === 1 && (raw[0] as Row).$pos === null) return [];
    // A recorded row missing from its table means the answer is no longer whole: treat as not complete,
    // unless it was removed locally (a local remove takes the row out of every answer).
    let rows = raw;
    if (raw.some((r) => r[firstKey] === null)) {
      const gone = raw.filter((r) => r[firstKey] === null).map((r) => r.$k);
      const [{ n } = { n: 0 }] = await this.#conn().all<{ n: number }>(
        "SELECT COUNT(*) AS n FROM adbv_local WHERE entity = ? AND kind = 'remove' AND key IN (SELECT value FROM json_each(?))",
        [entity.name, JSON.stringify(gone)],
      );
      if (n !== new Set(gone.map((k) => JSON.stringify(k))).size) return undefined;
      rows = raw.filter((r) => r[firstKey] !== null);
    }
    for (const r of rows) delete r.$k;
    decodeRows(rows, plan.decode);
    return rows;
  }

  /**
   * While this store is alone on its file (or in memory) and holds no claim, the write may wait a moment
   * (`commitDelayMs`) for the next answers' writes to share its transaction: no other process waits on it,
   * and this one shares the answer in flight until it commits. Otherwise it commits at once: others may be
   * waiting on its claims. Whether it is still alone is not read off the file here: holding no claim, it
   * keeps nobody waiting even if someone has just joined (a newcomer fetches what it finds unclaimed), and
   * the next claim or write transaction that sees company commits the waiting writes at once.
   */
  merge(batch: MergeBatch | readonly MergeBatch[]): Promise<void> {
    const batches = Array.isArray(batch) ? (batch as readonly MergeBatch[]) : [batch as MergeBatch];
    const plans = this.#planned();
    const mayWait = !this.#held.any && (this.#claimant === undefined || this.#alone);
    const only = batches.length === 1 ? (batches[0] as MergeBatch) : undefined;
    if (mayWait && only !== undefined && plainEntityBatch(only)) {
      const run = this.#plainRun;
      if (run !== undefined && run.entity === only.entity && !run.started && run.batches.length < MAX_PLAIN_RUN) {
        run.batches.push(only);
        return run.done;
      }
      return this.#startPlainRun(plans, only);
    }
    this.#plainRun = undefined;
    const releasing: Releasing | undefined = this.#claimant === undefined ? undefined : { owner: this.#claimant.owner, held: this.#held };
    // The claims released are counted off once the release has committed (a rolled-back one still holds them).
    const released: { kind: string; keys: readonly KeyValue[] }[] = [];
    return this.#writes
      .transact(async (db) => {
        released.length = 0;
        try {
          for (const b of batches) {
            await applyBatch(db, plans, b, releasing);
            for (const c of claimsOf(b)) released.push({ kind: c.kind, keys: this.#held.of(c.kind, c.keys) });
          }
        } catch (error) {
          const names = [...new Set(batches.map((b) => b.entity.name))].join(', ');
          throw new Error(`${this.description}: cannot write ${names} rows: ${(error as Error).message}`, { cause: error });
        }
      }, false, mayWait)
      .then(() => {
        for (const r of released) this.#held.drop(r.kind, r.keys);
      });
  }

  hurry(): void {
    this.#writes.hurry();
  }

  /**
   * A write of plain entity answers that later ones of the same entity join until it starts (see
   * `applyEntityBatches`): lookups one after another then cost two statements together, not two each.
   */
  #startPlainRun(plans: Plans, first: MergeBatch): Promise<void> {
    const run: PlainRun = { entity: first.entity, batches: [first], started: false, done: Promise.resolve() };
    run.done = this.#writes.transact(
      async (db) => {
        run.started = true;
        if (this.#plainRun === run) this.#plainRun = undefined;
        try {
          await applyEntityBatches(db, plans, run.batches);
        } catch (error) {
          throw new Error(`${this.description}: cannot write ${run.entity.name} rows: ${(error as Error).message}`, { cause: error });
        }
      },
      false,
      true,
    );
    this.#plainRun = run;
    return run.done;
  }

  /** Queues a write other than a plain run's: plain answers after it start a new write, so writes keep their order. */
  #transact<T>(op: (db: SqliteConnection) => Promise<T>, single = false): Promise<T> {
    this.#plainRun = undefined;
    return this.#writes.transact(op, single);
  }

  /**
   * Alone on the file (see `#alone`), no statement: every key is this store's to fetch; after a wait
   * (`waited`), the claim statement whatever the store believes, so keys completed meanwhile are not taken.
   */
  async claim(kind: string, keys: readonly KeyValue[], markedSince: number, waited = false): Promise<KeyValue[]> {
    const key = this.#planned().kindKey(kind);
    const who = this.#claimant;
    if (who === undefined || keys.length === 0 || (!waited && this.#aloneNow())) return [...keys];
    const claimed = await this.#transact((db) => claimKeysIn(db, who, kind, key, keys, markedSince), true);
    this.#held.add(kind, claimed);
    return claimed;
  }

  /** Releases only claims this store took (none while alone): no statement otherwise. */
  async release(kind: string, keys: readonly KeyValue[]): Promise<void> {
    const key = this.#planned().kindKey(kind);
    const who = this.#claimant;
    if (who === undefined || keys.length === 0) return;
    const held = this.#held.of(kind, keys);
    if (held.length === 0) return;
    await this.#transact((db) => releaseKeysIn(db, who, kind, key, held), true);
    this.#held.drop(kind, held);
  }

  async verify(options: { readonly repair?: boolean } = {}): Promise<VerifyReport> {
    const found = await verifyCache(this.#conn(), this.#planned());
    const { problems, marks, rows } = found;
    if (options.repair !== true || found.unbacked.length === 0) return { ok: problems.length === 0, problems, marks, rows, repaired: 0 };
    try {
      const plans = this.#planned();
      const repaired = await this.#transact(async (db) => {
        // A row older than the mark recording its key absent goes with the mark (and the marks counting on it).
        for (const { entity, key } of found.stale) {
          const plan = plans.table(entity);
          const gone = await db.all<Row>(`${plan.selectForRemoval} WHERE ${inKeys(entity.key, 't')}`, [keysParam(entity.key, [key as KeyValue], false)]);
          await removeRows(db, entity, plan, gone, true);
        }
        await db.run(DROP_MARKS_SQL, [JSON.stringify(found.unbacked)]);
        return found.unbacked.length;
      });
      return { ok: found.unrepairable === 0, problems, marks, rows, repaired };
    } catch (error) {
      return { ok: false, problems: [...problems, `cannot repair: ${(error as Error).message}`], marks, rows, repaired: 0 };
    }
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
      return this.#writes.exclusive(async () => {
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
      const reader = await openSqliteConnection(this.#settings.driver, this.#filename, true);
      await reader.denyAttach();
      await reader.exec('PRAGMA query_only = ON');
      reader.listener = this.#listener;
      // Two first calls may both have opened one: the later keeps the first.
      if (this.#reader === undefined) this.#reader = reader;
      else await reader.close();
    }
    return this.#reader.all<Row>(sql, params);
  }

  readAll(entity: CompiledEntity, notBefore?: number): Promise<Row[] | undefined> {
    return readAll(this.#readConn(), this.#planned(), entity, notBefore);
  }

  mergeAll(entity: CompiledEntity, rows: readonly Row[], loadedAt: number, chunk: number): Promise<void> {
    const plans = this.#planned();
    return this.#transact(async (db) => {
      try {
        await mergeAll(db, plans, entity, rows, loadedAt, chunk);
      } catch (error) {
        throw new Error(`${this.description}: cannot write the whole ${entity.name} table: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  writeLocal(write: LocalWrite): Promise<void> {
    const plans = this.#planned();
    this.#mayHaveLocal = true;
    return this.#transact((db) => {
      this.#moving();
      return writeLocal(db, plans, write);
    });
  }

  localChanges(): Promise<LocalChangeSet> {
    return listLocal(this.#conn(), this.#planned());
  }

  /**
   * Alone on the file, the version is read once and then known until a write of this store may move it:
   * no other store can change local rows. Otherwise one statement.
   */
  async localVersion(): Promise<number> {
    if (this.#version !== undefined && !this.#txMoving && this.#aloneNow()) return this.#version;
    const epoch = this.#epoch;
    const version = await localVersion(this.#conn());
    // Kept only if nothing may have moved it since the read began (the read may have run before a commit).
    if (!this.#txMoving && epoch === this.#epoch && this.#aloneNow()) this.#version = version;
    return version;
  }

  discardLocal(targets?: readonly { readonly entity: string; readonly key: KeyValue }[]): Promise<number> {
    const plans = this.#planned();
    return this.#transact((db) => {
      this.#moving();
      return discardLocal(db, plans, targets);
    });
  }

  /**
   * What each write transaction of the queue does first: looks at the file's users (a store's notice that
   * another joined or all left, one statement on a file, none in memory) and whether the file holds local
   * changes; a transaction that may move the local-change version is marked so until it ends. Only
   * transactions the queue opens: a claim alone in its group runs as one statement, with no look.
   */
  #transactionHooks(): TransactionHooks {
    return {
      begin: async (db) => {
        const who = this.#claimant;
        // Someone else committed since this store's last transaction (or it cannot tell): they may have
        // joined, left or changed local rows. If not, and this store was alone, it still is: no look needed.
        const moved = who !== undefined && this.#watch?.begin() !== false;
        if (moved) this.#unsettle();
        if (who !== undefined && (moved || !this.#alone)) {
          let alone = false;
          let local = true;
          try {
            ({ alone, local } = await lookAround(db, who.owner));
          } catch {
            // Could not look: assume company (claims are taken) and local changes (the version is read).
          }
          if (local) this.#mayHaveLocal = true;
          this.#company(alone);
        }
        // Origin rows written over changed rows move the version (the local-change triggers).
        if (this.#mayHaveLocal) this.#moving();
      },
      end: (wroteRows) => {
        this.#watch?.end(wroteRows);
        if (!this.#txMoving) return;
        this.#txMoving = false;
        this.#unsettle();
      },
    };
  }

  /**
   * Alone on the file now: alone when last looked, and no one else has committed since (a store that
   * joins registers first). Someone has: company is assumed until the next write transaction looks.
   */
  #aloneNow(): boolean {
    if (this.#claimant === undefined) return true;
    if (this.#watch === undefined || !this.#alone) return false;
    const memo = this.#quietMemo;
    const turn = eventLoopTurn();
    const statements = this.#sent();
    if (memo !== undefined && memo.turn === turn && memo.statements === statements) return true;
    if (this.#watch.quiet()) {
      this.#quietMemo = { turn, statements };
      return true;
    }
    this.#company(false);
    return false;
  }

  /** Statements this store's connections have been sent (setup included). */
  #sent(): number {
    return (this.#db?.statements ?? 0) + (this.#readDb?.statements ?? 0);
  }

  /** Whether this store is alone on its file now. */
  #company(alone: boolean): void {
    if (alone === this.#alone) return;
    this.#alone = alone;
    this.#unsettle();
    // Answers' writes held back while alone go in now: the newcomer reads the file, not this process's memory.
    if (!alone) this.#writes.hurry();
  }

  /** The open write transaction may move the local-change version: forget it, and read it until the end. */
  #moving(): void {
    if (this.#txMoving) return;
    this.#txMoving = true;
    this.#unsettle();
  }

  /** The local-change version known may no longer be right, nor a read of it in progress. */
  #unsettle(): void {
    this.#version = undefined;
    this.#epoch++;
  }

  /** The connection the library's reads of rows and marks go to. */
  #readConn(): SqliteConnection {
    return this.#readDb ?? this.#conn();
  }

  #conn(): SqliteConnection {
    if (this.#db === undefined) throw new Error(`${this.description} is not open`);
    return this.#db;
  }

  #planned(): Plans {
    if (this.#plans === undefined) throw new Error(`${this.description} is not open`);
    return this.#plans;
  }
}
