// Claims between processes sharing a cache file: who is fetching which lookup from the origin now.
import type { MergeBatch } from '../../core/cache-store.js';
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

/** The claims of one lookup kind that a merge of its answer gives up: the keys and how they are encoded. */
export interface KindKeys {
  readonly kind: string;
  /** Undefined for a custom query (its key is its parameters' text). */
  readonly key: CompiledKey | undefined;
  readonly keys: readonly KeyValue[];
}

/** The lookups an origin answer completes, whose claims its merge releases (none for an unclaimed tree load). */
export function claimsOf(batch: MergeBatch): KindKeys[] {
  if (batch.unclaimed === true) return [];
  const out: KindKeys[] = [];
  if (batch.entityKeys !== undefined && batch.entityKeys.length > 0) out.push({ kind: batch.entity.name, key: batch.entity.key, keys: batch.entityKeys });
  if (batch.relation !== undefined && batch.relation.keys.length > 0) out.push({ kind: batch.relation.rel.id, key: batch.relation.rel.source.key, keys: batch.relation.keys });
  if (batch.query !== undefined) out.push({ kind: batch.query.kind, key: undefined, keys: [batch.query.params] });
  return out;
}

/**
 * The keys this store has claimed and may not have released yet, counted per claim taken. A store that
 * took no claim (alone on its file, or an in-memory cache) has none to release, so it sends no DELETE
 * for them; one that took claims while others shared the file still releases them after it is left alone,
 * so a process joining later does not wait out claims nobody will release.
 */
export class HeldClaims {
  readonly #count = new Map<string, number>();

  /** Counts a claim taken on `keys` of `kind`. */
  add(kind: string, keys: readonly KeyValue[]): void {
    for (const k of keys) {
      const id = heldId(kind, k);
      this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
    }
  }

  /** Whether any claim is held. */
  get any(): boolean {
    return this.#count.size > 0;
  }

  /** Of `keys` of `kind`, those this store may still hold a claim on. */
  of(kind: string, keys: readonly KeyValue[]): KeyValue[] {
    if (this.#count.size === 0) return [];
    return keys.filter((k) => this.#count.has(heldId(kind, k)));
  }

  /** Counts a release of `keys` of `kind` (committed): one claim of each fewer. */
  drop(kind: string, keys: readonly KeyValue[]): void {
    if (this.#count.size === 0) return;
    for (const k of keys) {
      const id = heldId(kind, k);
      const n = this.#count.get(id);
      if (n === undefined) continue;
      if (n <= 1) this.#count.delete(id);
      else this.#count.set(id, n - 1);
    }
  }
}

/** One key of a kind as HeldClaims counts it (a bigint apart from the string of its digits). */
function heldId(kind: string, key: KeyValue): string {
  return `${kind}\u0000${typeof key === 'bigint' ? `${key}n` : JSON.stringify(key)}`;
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
