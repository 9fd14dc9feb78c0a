// Which processes have the cache file open, with which table and relation definitions: a conflicting open is refused.
import { SchemaError } from '../../core/errors.js';
import type { SqliteConnection } from '../../sqlite/connection.js';

/** This store as a user of the file: who, and the fingerprint of each table and relation it defines. */
export interface FileUser {
  readonly owner: string;
  readonly pid: number;
  /** `table:<name>` and `relation:<id>` → fingerprint. */
  readonly fingerprints: ReadonlyMap<string, string>;
  /** The entity (or relation) name of each fingerprint, for messages. */
  readonly names: ReadonlyMap<string, string>;
}

/** Whether a process of this machine is running (SQLite's WAL only shares a file on one machine). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Registers `me` as a user of the file, inside the caller's transaction, after checking the others:
 * a running process that defines one of the same tables or relations differently would fail on the
 * tables this open migrates (or lie from marks written under another definition), so this open is
 * refused with a SchemaError naming the entity and that process. Users whose process is gone are dropped.
 * Returns how many other users (stores of running processes, this one's included) have the file open.
 */
export async function registerUser(db: SqliteConnection, me: FileUser, file: string): Promise<number> {
  const others = await db.all<{ owner: string; pid: number; fingerprints: string }>('SELECT owner, pid, fingerprints FROM adbv_users WHERE owner <> ?', [me.owner]);
  const gone: string[] = [];
  for (const other of others) {
    if (!alive(other.pid)) {
      gone.push(other.owner);
      continue;
    }
    const theirs = JSON.parse(other.fingerprints) as Record<string, string>;
    for (const [name, fp] of me.fingerprints) {
      const their = theirs[name];
      if (their === undefined || their === fp) continue;
      const what = name.startsWith('table:') ? `table "${name.slice(6)}"` : `relation ${name.slice(9)}`;
      throw new SchemaError(
        `${me.names.get(name)}: the cache file ${file} is in use by process ${other.pid}, which defines ${what} differently ` +
          `(there: ${their}; here: ${fp}); close that process first, or give this schema another cache file`,
      );
    }
  }
  if (gone.length > 0) await db.run('DELETE FROM adbv_users WHERE owner IN (SELECT value FROM json_each(?))', [JSON.stringify(gone)]);
  await db.run('INSERT OR REPLACE INTO adbv_users (owner, pid, fingerprints) VALUES (?, ?, ?)', [me.owner, me.pid, JSON.stringify(Object.fromEntries(me.fingerprints))]);
  return others.length - gone.length;
}

/** The other users of the file (owner and pid), and whether it holds any local change: one statement. */
const LOOK_SQL =
  'SELECT (SELECT json_group_array(json_array(owner, pid)) FROM adbv_users WHERE owner <> ?) AS others, ' +
  'EXISTS (SELECT 1 FROM adbv_local) AS local';

/** What a store sees of the file from inside one of its write transactions. */
export interface Surroundings {
  /** No other store of a running process has the file open. */
  readonly alone: boolean;
  /** The file holds local changes (an origin write may then move the local-change version, by trigger). */
  readonly local: boolean;
}

/**
 * Looks at the file's other users and local changes, inside the caller's write transaction (which holds
 * the write lock: no store registers or writes meanwhile). Users whose process is gone are dropped.
 */
export async function lookAround(db: SqliteConnection, owner: string): Promise<Surroundings> {
  const [row] = await db.all<{ others: string; local: number }>(LOOK_SQL, [owner]);
  const others = JSON.parse(row?.others ?? '[]') as [string, number][];
  const gone = others.filter(([, pid]) => !alive(pid)).map(([who]) => who);
  if (gone.length > 0) await db.run('DELETE FROM adbv_users WHERE owner IN (SELECT value FROM json_each(?))', [JSON.stringify(gone)]);
  return { alone: gone.length === others.length, local: row?.local === 1 };
}

/** Removes `owner` from the file's users (on close). */
export const UNREGISTER_SQL = 'DELETE FROM adbv_users WHERE owner = ?';
