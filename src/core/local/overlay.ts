// How a view shows local changes over the rows it is given: local rows win (overlay), or the origin's truth (underlay).
import { sortRows } from '../codec.js';
import { compareExactly, type CompiledEntity, type CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { StoredLocalChange } from './local-change.js';

/**
 * The local changes of a cache file at one version, indexed by entity and key, applied to answers. Every
 * function is idempotent: rows the cache gave (which already show the changes) come out the same.
 */
export class LocalSnapshot {
  readonly version: number;
  readonly #byEntity = new Map<string, Map<KeyValue, StoredLocalChange>>();

  constructor(version: number, changes: readonly StoredLocalChange[]) {
    this.version = version;
    for (const c of changes) {
      let m = this.#byEntity.get(c.entity);
      if (m === undefined) this.#byEntity.set(c.entity, (m = new Map()));
      m.set(c.key, c);
    }
  }

  /** The changes of `entity` (empty when it has none). */
  of(entity: CompiledEntity): ReadonlyMap<KeyValue, StoredLocalChange> {
    return this.#byEntity.get(entity.name) ?? EMPTY;
  }

  /** True when no entity has a local change. */
  get empty(): boolean {
    return this.#byEntity.size === 0;
  }
}

const EMPTY: ReadonlyMap<KeyValue, StoredLocalChange> = new Map();

/**
 * Which version of a changed row an answer shows: the local one (`null`: removed), or for a view opened
 * with `{ local: false }` the origin's (the latest an origin load brought, else the one the change was
 * made against; `undefined`: not known).
 */
export type Side = 'local' | 'origin';

function version(change: StoredLocalChange, side: Side): Row | null | undefined {
  return side === 'local' ? change.local : change.origin !== undefined ? change.origin : change.base;
}

/** Entity answers (key → row or null): each changed key shows its `side` version (unknown versions are left as given). */
export function applyToEntities(snap: LocalSnapshot, side: Side, entity: CompiledEntity, answers: Map<KeyValue, Row | null>): void {
  const changes = snap.of(entity);
  if (changes.size === 0) return;
  const keyOf = entity.key.of;
  const mayAlias = !compareExactly(entity.key);
  for (const [key, answer] of answers) {
    // A key answered by a row of another spelling shows that row's change.
    const change = changes.get(key) ?? (mayAlias && answer !== null ? changes.get(keyOf(answer) as KeyValue) : undefined);
    if (change === undefined) continue;
    const row = version(change, side);
    if (row !== undefined) answers.set(key, row === null ? null : { ...row });
  }
}

/**
 * Relation groups (parent key → target rows): a changed row is shown in the group of its `side`
 * version's foreign key (moved, added, or taken out when removed), in the relation's order. For manyToMany
 * the links are the origin's: changed rows are replaced or taken out, none is added.
 */
export function applyToGroups(snap: LocalSnapshot, side: Side, rel: CompiledRelation, groups: Map<KeyValue, Row[]>): void {
  const changes = snap.of(rel.target);
  if (changes.size === 0) return;
  const keyOf = rel.target.key.of;
  const through = rel.through !== undefined;
  for (const [parent, rows] of groups) {
    const out: Row[] = [];
    const present = new Set<KeyValue>();
    for (const row of rows) {
      const key = keyOf(row) as KeyValue;
      const change = changes.get(key);
      if (change === undefined) {
        out.push(row);
        present.add(key);
        continue;
      }
      const shown = version(change, side);
      if (shown === undefined && side === 'local') continue;
      if (shown === null || shown === undefined) continue;
      if (!through && rel.foreignKey.of(shown) !== parent) continue;
      out.push(through ? { ...shown, $src: row.$src } : { ...shown });
      present.add(key);
    }
    if (!through) {
      for (const [key, change] of changes) {
        if (present.has(key)) continue;
        const shown = version(change, side);
        if (shown !== null && shown !== undefined && rel.foreignKey.of(shown) === parent) out.push({ ...shown });
      }
      sortRows(out, rel.batchOrder);
    }
    groups.set(parent, out);
  }
}

/** A custom query's rows in order: changed rows show their `side` version, removed ones are left out; none is added. */
export function applyToQueryRows(snap: LocalSnapshot, side: Side, entity: CompiledEntity, rows: readonly Row[]): Row[] {
  const changes = snap.of(entity);
  if (changes.size === 0) return rows as Row[];
  const keyOf = entity.key.of;
  const out: Row[] = [];
  for (const row of rows) {
    const change = changes.get(keyOf(row) as KeyValue);
    if (change === undefined) out.push(row);
    else {
      const shown = version(change, side);
      if (shown !== null && shown !== undefined) out.push({ ...shown });
    }
  }
  return out;
}

/** Every row of an entity in key order (`all()`): changed rows show their `side` version; local puts are added. */
export function applyToAll(snap: LocalSnapshot, side: Side, entity: CompiledEntity, rows: readonly Row[]): Row[] {
  const changes = snap.of(entity);
  if (changes.size === 0) return rows as Row[];
  const keyOf = entity.key.of;
  const out: Row[] = [];
  const seen = new Set<KeyValue>();
  for (const row of rows) {
    const key = keyOf(row) as KeyValue;
    seen.add(key);
    const change = changes.get(key);
    if (change === undefined) out.push(row);
    else {
      const shown = version(change, side);
      if (shown !== null && shown !== undefined) out.push({ ...shown });
    }
  }
  for (const [key, change] of changes) {
    if (seen.has(key)) continue;
    const shown = version(change, side);
    if (shown !== null && shown !== undefined) out.push({ ...shown });
  }
  sortRows(out, entity.key.columns);
  return out;
}
