import { resolve as resolvePath } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { StatementListener } from '../core/events.js';
import { MAX_KEPT_STATEMENTS, reportStatement, type SqliteConnection } from './connection.js';
import { parameterLayout, type ParameterLayout } from './parameter-layout.js';

type Constructor = typeof BetterSqlite3;

/** A prepared statement and where its parameters go. */
interface Prepared {
  readonly statement: BetterSqlite3.Statement;
  readonly layout: ParameterLayout;
  /** Whether it needs the file lock: it writes, or it begins a transaction. */
  readonly writes: boolean;
}

/** node-sqlite3's busy timeout until a `PRAGMA busy_timeout` says otherwise, so both drivers wait alike. */
const DEFAULT_BUSY_TIMEOUT_MS = 1000;

let loading: Promise<Constructor> | undefined;

/**
 * Loads better-sqlite3 on first use only: it is an optional peer dependency, and a program that never
 * picks it must neither need it installed nor pay for loading it.
 */
function load(): Promise<Constructor> {
  loading ??= import('better-sqlite3').then(
    (module) => module.default,
    (error: unknown) => {
      loading = undefined;
      const code = (error as { code?: unknown }).code;
      const message = (error as Error).message ?? String(error);
      if (code === 'ERR_MODULE_NOT_FOUND' && message.includes("'better-sqlite3'")) {
        throw new Error("the cache driver 'better-sqlite3' needs the better-sqlite3 package, which is not installed: npm i better-sqlite3@12", { cause: error });
      }
      throw new Error(`the cache driver 'better-sqlite3' cannot load the better-sqlite3 package: ${message}`, { cause: error });
    },
  );
  return loading;
}

/**
 * A database file's write lock among this process's better-sqlite3 connections to it. SQLite's own lock
 * cannot serve between them: a connection waiting for it blocks the thread, so a connection of the same
 * thread holding it in a transaction that goes on over awaits never gets to COMMIT, and the waiter fails
 * after its busy timeout (two stores on one file in one process). A connection takes this lock before a
 * statement that writes or begins a transaction, and lets it go once it is out of any transaction; the
 * others wait for it without blocking.
 */
interface FileLock {
  holder: BetterSqlite3Connection | undefined;
  readonly waiting: (() => void)[];
  /** Open connections sharing it; the lock is forgotten with the last. */
  users: number;
}

const fileLocks = new Map<string, FileLock>();

/**
 * @internal A connection through better-sqlite3: each statement runs synchronously on the calling thread,
 * which is cheaper per statement but blocks the event loop meanwhile, including while SQLite waits (up to
 * its busy timeout) for another process's lock. Values bind as node-sqlite3 binds them, so both drivers
 * store and compare the same values; statements run in call order, as on node-sqlite3's serialized queue.
 */
export class BetterSqlite3Connection implements SqliteConnection {
  readonly filename: string;
  readonly #db: BetterSqlite3.Database;
  readonly #prepared = new Map<string, Prepared>();
  /** This file's lock among the process's connections; none for a private (in-memory) or read-only one. */
  readonly #lockKey: string | undefined;
  readonly #lock: FileLock | undefined;
  /** The last of the statements queued behind one waiting for the file lock. */
  #tail: Promise<void> | undefined;
  #statements = 0;
  #changes = 0;
  listener: StatementListener | undefined;

  private constructor(filename: string, db: BetterSqlite3.Database, readOnly: boolean) {
    this.filename = filename;
    this.#db = db;
    if (!readOnly && !db.memory) {
      this.#lockKey = resolvePath(filename);
      let lock = fileLocks.get(this.#lockKey);
      if (lock === undefined) fileLocks.set(this.#lockKey, (lock = { holder: undefined, waiting: [], users: 0 }));
      lock.users++;
      this.#lock = lock;
    }
  }

  /** Opens `filename` (`:memory:` for a private in-memory database); rejects when better-sqlite3 is not installed. */
  static async open(filename: string, readOnly = false): Promise<BetterSqlite3Connection> {
    const Database = await load();
    let db: BetterSqlite3.Database;
    try {
      db = new Database(filename, { readonly: readOnly, fileMustExist: readOnly, timeout: DEFAULT_BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new Error(`cannot open SQLite database ${JSON.stringify(filename)}: ${withCode(error).message}`, { cause: error });
    }
    return new BetterSqlite3Connection(filename, db, readOnly);
  }

  get statements(): number {
    return this.#statements;
  }

  get changes(): number {
    return this.#changes;
  }

  all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#statement(sql, params, ({ statement, layout }) => {
      const args = bindArgs(layout, params);
      // node-sqlite3 runs a statement that returns no rows and answers []; better-sqlite3's all() refuses it.
      if (statement.reader) {
        const rows = statement.all(...args) as T[];
        return [rows, rows.length];
      }
      statement.run(...args);
      return [[], 0];
    });
  }

  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.#statement(sql, params, ({ statement, layout }) => {
      const { changes } = statement.run(...bindArgs(layout, params));
      this.#changes += changes;
      return [changes, changes];
    });
  }

  exec(sql: string): Promise<void> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    // A script may write: it takes the file lock like any writing statement.
    return this.#schedule(true, () => {
      try {
        this.#db.exec(sql);
        reportStatement(listener, sql, 0, 0, t0);
      } catch (error) {
        const e = withCode(error);
        reportStatement(listener, sql, 0, 0, t0, e);
        throw e;
      }
    });
  }

  /**
   * better-sqlite3 exposes neither `sqlite3_limit` nor an authorizer, so every attach slot is taken by an empty
   * in-memory database (`adbv_no_attach_N`, names no caller table shadows: they hold none), until SQLite
   * refuses one more with "too many attached databases". A caller could only free one with DETACH, which the
   * read-only check refuses.
   */
  denyAttach(): Promise<void> {
    return this.#schedule(false, () => {
      // SQLITE_MAX_ATTACHED is at most 125.
      for (let n = 1; n <= 126; n++) {
        try {
          this.#db.exec(`ATTACH ':memory:' AS adbv_no_attach_${n}`);
        } catch (error) {
          if (/too many attached databases/.test((error as Error).message)) return;
          throw withCode(error);
        }
      }
      throw new Error(`${this.filename}: SQLite took 126 attached databases; cannot fill its attach slots`);
    });
  }

  async close(): Promise<void> {
    await this.#tail;
    this.#prepared.clear();
    try {
      this.#db.close();
    } catch (error) {
      throw withCode(error);
    } finally {
      const lock = this.#lock;
      if (lock !== undefined) {
        if (lock.holder === this) this.#handOver(lock);
        if (--lock.users === 0 && lock.holder === undefined) fileLocks.delete(this.#lockKey as string);
      }
    }
  }

  /** Counts, prepares and schedules one statement; `execute` answers the result and the rows it reports. */
  #statement<R>(sql: string, params: readonly unknown[], execute: (prepared: Prepared) => [R, number]): Promise<R> {
    this.#statements++;
    const listener = this.listener;
    const t0 = listener === undefined ? 0 : performance.now();
    let prepared: Prepared;
    try {
      prepared = this.#prepare(sql);
    } catch (error) {
      const e = withCode(error);
      reportStatement(listener, sql, params.length, 0, t0, e);
      return Promise.reject(e);
    }
    return this.#schedule(prepared.writes, () => {
      try {
        const [result, rows] = execute(prepared);
        reportStatement(listener, sql, params.length, rows, t0);
        return result;
      } catch (error) {
        const e = withCode(error);
        reportStatement(listener, sql, params.length, 0, t0, e);
        throw e;
      }
    });
  }

  /**
   * Runs `run` now when nothing is queued and the file lock is not needed or free (the common case, with no
   * promise to wait on); otherwise after the statements queued before it, and once this connection holds
   * the lock. The lock is let go as soon as the connection is out of any transaction.
   */
  #schedule<T>(writes: boolean, run: () => T): Promise<T> {
    const go = (): T => {
      try {
        return run();
      } finally {
        this.#releaseIfDone();
      }
    };
    if (this.#tail === undefined && (!writes || this.#tryLock())) {
      try {
        return Promise.resolve(go());
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const result = (this.#tail ?? Promise.resolve()).then(async () => {
      if (writes) await this.#takeLock();
      return go();
    });
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return result;
  }

  #tryLock(): boolean {
    const lock = this.#lock;
    if (lock === undefined || lock.holder === this) return true;
    if (lock.holder !== undefined) return false;
    lock.holder = this;
    return true;
  }

  #takeLock(): Promise<void> | undefined {
    if (this.#tryLock()) return undefined;
    const lock = this.#lock as FileLock;
    return new Promise((resolve) => lock.waiting.push(() => {
      lock.holder = this;
      resolve();
    }));
  }

  #releaseIfDone(): void {
    const lock = this.#lock;
    if (lock !== undefined && lock.holder === this && !(this.#db.open && this.#db.inTransaction)) this.#handOver(lock);
  }

  /** Gives the lock to the first waiting connection, if any. */
  #handOver(lock: FileLock): void {
    lock.holder = undefined;
    lock.waiting.shift()?.();
  }

  #prepare(sql: string): Prepared {
    let prepared = this.#prepared.get(sql);
    if (prepared === undefined) {
      const statement = this.#db.prepare(sql);
      // BEGIN and SAVEPOINT count as read-only to SQLite, but the transaction they open may write.
      prepared = { statement, layout: parameterLayout(sql), writes: !statement.readonly || /^\s*(BEGIN|SAVEPOINT)\b/i.test(sql) };
      if (this.#prepared.size >= MAX_KEPT_STATEMENTS) this.#prepared.delete(this.#prepared.keys().next().value as string);
      this.#prepared.set(sql, prepared);
    }
    return prepared;
  }
}

/**
 * The arguments for a better-sqlite3 statement call from a node-sqlite3-style list: values of nameless
 * parameters in order, then one object for the named ones. Values past the last parameter are passed on so
 * better-sqlite3 refuses them, as node-sqlite3 does; missing ones bind NULL, as in node-sqlite3.
 */
function bindArgs(layout: ParameterLayout, params: readonly unknown[]): unknown[] {
  const positional: unknown[] = [];
  for (const k of layout.anonymous) positional.push(bindValue(params[k - 1]));
  for (let k = layout.count; k < params.length; k++) positional.push(bindValue(params[k]));
  if (layout.named.length === 0) return positional;
  const named: Record<string, unknown> = {};
  for (const [name, k] of layout.named) named[name] = bindValue(params[k - 1]);
  return [positional, named];
}

/**
 * A value as node-sqlite3 binds it. better-sqlite3 binds every number as REAL and refuses booleans, Dates
 * and objects; node-sqlite3 binds 32-bit integers as INTEGER (so `? / 2` divides as integers), other
 * numbers and Dates (their milliseconds) as REAL, booleans as 1/0, RegExps as their text, any other object
 * as the text `[object Object]`, and bigints, undefined and symbols as NULL.
 */
function bindValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return (value | 0) === value ? BigInt(value) : value;
    case 'boolean':
      return value ? 1n : 0n;
    case 'object':
      if (value === null || ArrayBuffer.isView(value)) return value;
      if (value instanceof Date) return value.getTime();
      if (value instanceof RegExp) return String(value);
      return '[object Object]';
    case 'function':
      return '[object Object]';
    default:
      return null;
  }
}

/**
 * Prefixes a driver error's message with its primary SQLite code, as node-sqlite3 writes its messages
 * (`SQLITE_BUSY: database is locked`), so logs and callers matching messages read the same with both drivers.
 */
function withCode(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    const primary = code.split('_', 2).join('_');
    if (!error.message.startsWith(`${primary}:`)) error.message = `${primary}: ${error.message}`;
  }
  return error;
}
