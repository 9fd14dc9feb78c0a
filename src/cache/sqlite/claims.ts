// Claims between processes sharing a cache file: who is fetching which lookup from the origin now.
import type { KeyValue } from '../../core/codec.js';
import type { CompiledKey } from '../../core/schema.js';
import type { SqliteConnection } from '../../sqlite/connection.js';
import { keysParam } from '../../sqlite/keys-param.js';

/**
 * Claims the keys of `json_each(?4)` of kind `?1` not claimed by a live other owner, nor marked complete
 * (the same kind) since `?6`: returns those claimed.
 */
const CLAIM_SQL =
  'INSERT INTO adbv_fetching (kind, key, owner, expires_at) SELECT ?1, value, ?2, ?3 FROM json_each(?4) ' +
  'WHERE NOT EXISTS (SELECT 1 FROM ever_loaded e WHERE e.kind = ?1 AND e.key = value AND e.loaded_at >= ?6) ' +
  'ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at ' +
  'WHERE adbv_fetching.expires_at < ?5 OR adbv_fetching.owner = ?2 RETURNING key';

/** Drops this owner's claims on some keys of a kind. */
export const RELEASE_SQL = 'DELETE FROM adbv_fetching WHERE kind = ? AND key IN (SELECT value FROM json_each(?)) AND owner = ?';

/** Claims of the former vocabulary (`e:A`, `r:A.bs`): no process of this version takes or releases them. */
export const CLEAR_OLD_CLAIMS_SQL = "DELETE FROM adbv_fetching WHERE kind GLOB 'e:*' OR kind GLOB 'r:*';";

/** Who this process is in `adbv_fetching`, and how long its claims hold. */
export interface Claimant {
  readonly owner: string;
  readonly claimMs: number;
}

/** The `json_each` text of keys of a kind keyed by `key`, or of custom-query parameters (`key` undefined). */
export function kindKeysParam(key: CompiledKey | undefined, keys: readonly KeyValue[]): string {
  return key === undefined ? JSON.stringify(keys) : keysParam(key, keys, false);
}

/** Claims `keys` of a lookup kind (keyed by `key`) in one statement; returns those now claimed by `who`. */
export async function claimKeysIn(
  db: SqliteConnection, who: Claimant, kind: string, key: CompiledKey | undefined, keys: readonly KeyValue[], markedSince: number,
): Promise<KeyValue[]> {
  const now = Date.now();
  const rows = await db.all<{ key: unknown }>(CLAIM_SQL, [kind, who.owner, now + who.claimMs, kindKeysParam(key, keys), now, markedSince]);
  if (rows.length === keys.length) return [...keys];
  const claimed = new Set(rows.map((r) => r.key));
  return keys.filter((k) => claimed.has(typeof k === 'bigint' ? String(k) : k));
}

/** Gives up `who`'s claims on `keys` of a kind (keyed by `key`). */
export async function releaseKeysIn(db: SqliteConnection, who: Claimant, kind: string, key: CompiledKey | undefined, keys: readonly KeyValue[]): Promise<void> {
  await db.run(RELEASE_SQL, [kind, kindKeysParam(key, keys), who.owner]);
}
