// Whether any other connection has committed to a WAL cache file since this store's last look, read off the shared-memory header without a statement.
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { resolve } from 'node:path';

/**
 * The first copy of the WAL-index header at the start of the `-shm` file (SQLite's file format, "the
 * WAL-index format"): every commit to the file, by any connection of any process, rewrites it, and its
 * change counter (`iChange`, a native-order u32 at offset 8) goes up by exactly one per commit. It is what
 * `PRAGMA data_version` looks at, read here with one `pread` instead of a statement.
 */
const HEADER_BYTES = 48;

/**
 * One descriptor per `-shm` file per process, shared by the watches on it and closed with the last. SQLite
 * locks the `-shm` file with POSIX (fcntl) locks, which belong to the process: closing any descriptor of
 * the file drops every lock this process's connections hold on it, and another process could then reset
 * the shared memory under them. So a watch never closes the file while another store of this process may
 * have it open, and a store closes its watch only after its own connections.
 */
const descriptors = new Map<string, { readonly fd: number; users: number }>();

/** The header's commit counter (offset 8, in the machine's byte order). */
function changeCounter(header: Buffer): number {
  return endianness() === 'LE' ? header.readUInt32LE(8) : header.readUInt32BE(8);
}

/**
 * The header moved from `before` (read inside a write transaction, under the write lock) by this
 * transaction alone: restarting the WAL rewrites the header without counting, and a commit counts one. A
 * transaction that changed rows committed once; one that changed none may have committed nothing, so any
 * count after it is someone else's (a newcomer's registration may land the moment the lock is free).
 */
function byThisCommit(before: Buffer, after: Buffer, committed: boolean): boolean {
  return ((changeCounter(after) - changeCounter(before)) >>> 0) <= (committed ? 1 : 0);
}

/**
 * @internal Tells a store whether anyone else has committed to its file since a baseline: the header as
 * this store's own last write transaction left it. Every doubt (no `-shm` file, a header being rewritten
 * as it is read, a commit not this store's) reads as "someone else committed", which only costs the
 * statements a store not alone sends anyway.
 */
export class CommitWatch {
  readonly #path: string;
  #shared: { readonly fd: number; users: number } | undefined;
  #failed = false;
  /** The header after this store's last commit (or look), when no other commit can have come between. */
  #baseline: Buffer | undefined;
  /** The header read inside the open write transaction, before its COMMIT. */
  #before: Buffer | undefined;
  /** Where `quiet()` reads the header: its read is compared and dropped, never kept. */
  readonly #scratch = Buffer.alloc(HEADER_BYTES);

  constructor(filename: string) {
    this.#path = resolve(`${filename}-shm`);
  }

  /**
   * Inside a write transaction (which holds the file's write lock: no one else can commit until it ends):
   * the header now, to tell this transaction's commit from others'. Returns true if someone else has
   * committed since the baseline (or there is none).
   */
  begin(): boolean {
    const before = this.#read();
    this.#before = before;
    return before === undefined || this.#baseline === undefined || !before.equals(this.#baseline);
  }

  /**
   * After the transaction begun with `begin()` has committed (`wroteRows`: with changed rows) or rolled
   * back (false): if the header moved by this transaction's commit alone (or not at all), it is the new
   * baseline; otherwise there is none until the next transaction.
   */
  end(wroteRows: boolean): void {
    const before = this.#before;
    this.#before = undefined;
    const after = this.#read();
    this.#baseline = before !== undefined && after !== undefined && byThisCommit(before, after, wroteRows) ? after : undefined;
  }

  /** Forgets the baseline: someone else may have committed (or this store committed outside `begin`/`end`). */
  forget(): void {
    this.#baseline = undefined;
  }

  /**
   * True if no connection but this store's own has committed since the baseline. While a write
   * transaction of this store is open, only its own commit can have moved the header since `begin()`.
   * No statement.
   */
  quiet(): boolean {
    const now = this.#read(this.#scratch);
    if (now === undefined) return false;
    if (this.#before !== undefined) return byThisCommit(this.#before, now, true);
    return this.#baseline !== undefined && now.equals(this.#baseline);
  }

  /** Done with the file: call once the store's own connections are closed (see `descriptors`). */
  close(): void {
    const shared = this.#shared;
    this.#shared = undefined;
    this.#failed = true;
    if (shared !== undefined && --shared.users === 0) {
      descriptors.delete(this.#path);
      closeSync(shared.fd);
    }
  }

  #read(into: Buffer = Buffer.alloc(HEADER_BYTES)): Buffer | undefined {
    if (this.#failed) return undefined;
    try {
      if (this.#shared === undefined) {
        let shared = descriptors.get(this.#path);
        if (shared === undefined) descriptors.set(this.#path, (shared = { fd: openSync(this.#path, 'r'), users: 0 }));
        shared.users++;
        this.#shared = shared;
      }
      return readSync(this.#shared.fd, into, 0, HEADER_BYTES, 0) === HEADER_BYTES ? into : undefined;
    } catch {
      // No shared-memory file (not WAL, or not a plain path): never quiet, so claims are taken as before.
      this.#failed = true;
      return undefined;
    }
  }
}
