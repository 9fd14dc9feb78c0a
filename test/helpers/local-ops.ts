// The local changes test/workers/local-changes.ts makes one after another, and the changes a cache file must list after any number of them.
import type { Row } from 'asyncdbview';

/** B rows at the origin: B k is `{ id: k, name: 'b<k>', a_id: (k - 1) % 3 + 1 }`, k = 1..ORIGIN_BS. */
export const ORIGIN_BS = 400;
/** A put over an origin row writes a name this long (a write that takes a while: ~0.6 MB of row and as much of change record). */
export const LARGE = 600_000;

/** The origin's B row `k`. */
export function originB(k: number): { id: number; name: string; a_id: number } {
  return { id: k, name: `b${k}`, a_id: ((k - 1) % 3) + 1 };
}

/** DDL and seed for the origin: A 1..3, B 1..ORIGIN_BS. */
export function localOpsTables(): string[] {
  const bs = Array.from({ length: ORIGIN_BS }, (_, i) => originB(i + 1)).map((b) => `(${b.id}, '${b.name}', ${b.a_id})`);
  return [
    'CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)',
    'CREATE TABLE b (id INT PRIMARY KEY, name LONGTEXT NOT NULL, a_id INT NOT NULL, KEY (a_id))',
    "INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')",
    `INSERT INTO b VALUES ${bs.join(', ')}`,
  ];
}

/** One local change of B. */
export type LocalOp =
  | { readonly kind: 'put'; readonly row: { id: number; name: string; a_id: number } }
  | { readonly kind: 'patch'; readonly key: number; readonly set: { name: string } }
  | { readonly kind: 'remove'; readonly key: number };

/**
 * Change number `n` (0 ≤ n < ORIGIN_BS): each touches a key of its own, so any prefix of them is valid
 * whatever came before. The marker `m<n>:` (put) or `p<n>` (patch) starts the name it writes.
 */
export function localOp(n: number): LocalOp {
  const k = n + 1;
  switch (n % 4) {
    case 0:
      return { kind: 'put', row: { id: 100_000 + n, name: `m${n}:${'n'.repeat(n % 50)}`, a_id: (n % 3) + 1 } };
    case 1:
      return { kind: 'patch', key: k, set: { name: `p${n}` } };
    case 2:
      return { kind: 'remove', key: k };
    default:
      return { kind: 'put', row: { id: k, name: `m${n}:${'x'.repeat(LARGE + n)}`, a_id: ((k + 1) % 3) + 1 } };
  }
}

/** The key change `n` is made on. */
export function opKey(n: number): number {
  const op = localOp(n);
  return op.kind === 'put' ? op.row.id : op.key;
}

/** A change as `store.localChanges()` lists it, in the fields the test compares. */
export interface ExpectedChange {
  readonly entity: 'B';
  readonly key: number;
  readonly kind: 'put' | 'patch' | 'remove';
  readonly columns: readonly string[] | undefined;
  readonly base: Row | null;
  readonly local: Row | null;
}

/** What change `n` leaves listed (each key is changed once, so this is its whole change). */
export function expectedChange(n: number): ExpectedChange {
  const op = localOp(n);
  const key = opKey(n);
  // A put of a key the origin does not have was made against "absent" (null).
  const base = key <= ORIGIN_BS ? originB(key) : null;
  switch (op.kind) {
    case 'put':
      return { entity: 'B', key, kind: 'put', columns: undefined, base, local: { ...op.row } };
    case 'patch':
      return { entity: 'B', key, kind: 'patch', columns: ['name'], base, local: { ...(base as Row), ...op.set } };
    case 'remove':
      return { entity: 'B', key, kind: 'remove', columns: undefined, base, local: null };
  }
}
