// Include trees: every level the cache cannot answer read from the origin in one round trip, merged in one transaction.
import type { MergeBatch } from '../cache-store.js';
import type { IncludeNode } from '../include.js';
import { Mode } from '../mode.js';
import type { TreeLevel } from '../origin.js';
import { compareExactly, type CompiledEntity, type CompiledKey, type CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import { ROW, type EntityObject } from '../view/entity-class.js';
import { relationValue } from '../view/relation-value.js';
import type { LocalLens } from '../local/local-lens.js';
import { applyToEntities, applyToGroups, type LocalSnapshot } from '../local/overlay.js';
import type { LoadContext } from './context.js';
import { absentOf } from './entities.js';
import type { Lookups } from './lookups.js';
import { readKnown } from './pipeline.js';
import { groupRows } from './relation.js';

/**
 * @internal What a tree load needs of the view it loads into: what the view already holds (asked of it
 * before anything is read), and where its answers go (its identity map and relation answers).
 */
export interface TreeHost {
  readonly lookups: Lookups;
  /** How the view shows local changes: applied to the origin's rows before the view adopts them. */
  readonly lens: LocalLens;
  /** When the view was made, on the store's in-flight clock (FRESHEN takes only loads begun later). */
  readonly born: number;
  /** The object the view holds for `key`, if it answers under `mode`. */
  held(entity: CompiledEntity, key: KeyValue, mode: Mode): EntityObject | undefined;
  /** The answer (or the load in progress) the view already has for a relation lookup, if any. */
  knownRelation(rel: CompiledRelation, key: KeyValue): Promise<unknown> | undefined;
  adopt(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): EntityObject[];
  markAbsent(entity: CompiledEntity, keys: readonly KeyValue[], fresh: boolean): void;
  /** Gives a relation lookup its answer, so awaiting it later sends nothing. */
  primeRelation(rel: CompiledRelation, key: KeyValue, value: unknown): void;
}

/** What one origin level stands for: the relation it loads (none: roots by key), and where its parent keys come from. */
interface LevelPlan {
  readonly rel: CompiledRelation | undefined;
  readonly entity: CompiledEntity;
  /** Parent keys given (the top of an origin subtree), or the index of the parent level. */
  readonly keys?: readonly KeyValue[];
  readonly parent?: number;
  /** The include node the level loads (none: roots by key), and the nodes below it. */
  readonly node?: IncludeNode;
  readonly children: readonly IncludeNode[];
}

/**
 * Loads an include tree in as few round trips as there can be: the levels the cache holds complete are
 * read from it (one statement per level; none in FRESHEN), and every level it cannot answer goes to the
 * origin in a single round trip, each level's keys derived at the origin from the level above. All
 * levels' rows and marks are merged in one cache transaction; the view's loaders are primed, so awaiting
 * any included relation afterwards sends nothing.
 */
export async function loadTree(
  view: TreeHost,
  ctx: LoadContext,
  roots: readonly EntityObject[],
  nodes: readonly IncludeNode[],
  mode: Mode,
  fetchRoots?: { readonly entity: CompiledEntity; readonly keys: readonly KeyValue[] },
): Promise<void> {
  const levels: TreeLevel[] = [];
  const plans: LevelPlan[] = [];

  const below = (parent: IncludeNode | undefined, children: readonly IncludeNode[], index: number): void => {
    for (const child of children) if (parent === undefined || !isInverse(parent, child)) addOrigin(child, { parent: index });
  };

  const addOrigin = (node: IncludeNode, source: { keys: readonly KeyValue[] } | { parent: number }): void => {
    const size = ctx.batchSize;
    if ('keys' in source && source.keys.length > size) {
      // Bound keys never exceed the batch size: each chunk is a subtree of its own (still in the same round trip).
      for (let i = 0; i < source.keys.length; i += size) addOrigin(node, { keys: source.keys.slice(i, i + size) });
      return;
    }
    const index = levels.length;
    const rel = node.rel;
    const from = 'parent' in source ? { level: source.parent, columns: parentColumns(rel) } : undefined;
    const keys = 'keys' in source ? source.keys : undefined;
    levels.push({
      entity: rel.target,
      where: rel.kind === 'belongsTo' ? rel.target.key : rel.foreignKey,
      ...(rel.kind === 'belongsTo' ? {} : { orderBy: rel.orderBy }),
      ...(rel.through === undefined ? {} : { through: rel.through }),
      ...(keys === undefined ? {} : { keys }),
      ...(from === undefined ? {} : { from }),
    });
    plans.push({ rel, entity: rel.target, node, children: node.children, ...(keys === undefined ? {} : { keys }), ...('parent' in source ? { parent: source.parent } : {}) });
    below(node, node.children, index);
  };

  if (fetchRoots !== undefined && fetchRoots.keys.length > 0) {
    // Roots not in the view or the cache are the first level of the same round trip.
    const { entity, keys } = fetchRoots;
    for (let i = 0; i < keys.length; i += ctx.batchSize) {
      const chunk = keys.slice(i, i + ctx.batchSize);
      const index = levels.length;
      levels.push({ entity, where: entity.key, keys: chunk });
      plans.push({ rel: undefined, entity, keys: chunk, children: nodes });
      below(undefined, nodes, index);
    }
  }

  const walk = async (parents: readonly EntityObject[], children: readonly IncludeNode[]): Promise<void> => {
    await Promise.all(
      children.map(async (node) => {
        const rel = node.rel;
        const keyOf = parentColumns(rel).of;
        const all = distinct(parents.map((p) => keyOf(p[ROW])));
        if (all.length === 0) return;
        const next: EntityObject[] = [];
        // What this view already has (or is loading) is not asked again.
        const keys = await takeKnown(view, rel, all, mode, next);
        let missing = keys;
        if (keys.length > 0) {
          const answered = await readCached(view, rel, keys, mode, next);
          missing = keys.filter((k) => !answered.has(k));
        }
        ctx.count(rel.kind === 'belongsTo' ? rel.target.name : rel.id, keys.length - missing.length, missing.length);
        if (missing.length > 0) addOrigin(node, { keys: missing });
        if (node.children.length > 0 && next.length > 0) await walk(next, node.children);
      }),
    );
  };

  if (roots.length > 0) await walk(roots, nodes);
  if (levels.length === 0) return;
  if (view.lens.side === 'local') {
    // Rows only local, or moved locally, are not where the origin derives the levels below from: their
    // own subtrees go in the same round trip (each level looked at once; subtrees only go deeper).
    const snap = await view.lens.snapshot(true);
    for (let i = 0; snap !== undefined && i < plans.length; i++) {
      const plan = plans[i] as LevelPlan;
      const rows = plan.children.length === 0 ? [] : localRowsBelow(snap, plan);
      if (rows.length === 0) continue;
      for (const child of plan.children) {
        if (plan.node !== undefined && isInverse(plan.node, child)) continue;
        const keys = distinct(rows.map(parentColumns(child.rel).of));
        if (keys.length === 0) continue;
        ctx.count(child.rel.kind === 'belongsTo' ? child.rel.target.name : child.rel.id, 0, keys.length);
        addOrigin(child, { keys });
      }
    }
  }

  // Stamped when the read began: a slower, older read landing later must not pass for the newer one.
  const loadedAt = Date.now();
  const rowsByLevel = await ctx.selectTree(levels);
  const local = await view.lens.snapshot(true);
  const batches: MergeBatch[] = [];
  const adopts: (() => () => void)[] = [];
  /** Each level's answers by lookup kind, shared in flight until the write commits. */
  const answered: { kind: string; answers: Map<KeyValue, unknown> }[] = [];
  for (let i = 0; i < levels.length; i++) {
    const plan = plans[i] as LevelPlan;
    const rel = plan.rel;
    const rows = rowsByLevel[i] as Row[];
    const asked =
      plan.keys !== undefined
        ? [...plan.keys]
        : distinct((rowsByLevel[plan.parent as number] as Row[]).map(parentColumns(rel as CompiledRelation).of));
    if (asked.length === 0) continue;
    // Keys derived at the origin were asked of nothing else: all misses of the cache.
    if (rel !== undefined && plan.parent !== undefined) ctx.count(rel.kind === 'belongsTo' ? rel.target.name : rel.id, 0, asked.length);
    if (rel === undefined || rel.kind === 'belongsTo') {
      const entity = plan.entity;
      let absentKeys = absentOf(asked, rows, entity.key.of);
      let entityKeys = asked;
      if (absentKeys.length > 0 && !compareExactly(entity.key)) {
        // A key no row spells exactly may still match one at the origin ('ABC' and 'abc'): left unanswered
        // here, an entity lookup of its own asks which (see entities.ts).
        const unsure = new Set(absentKeys);
        entityKeys = asked.filter((k) => !unsure.has(k));
        absentKeys = [];
      }
      batches.push({ entity, rows, loadedAt, entityKeys, absentKeys, unclaimed: true });
      const answers = new Map<KeyValue, Row | null>();
      for (const key of absentKeys) answers.set(key, null);
      for (const row of rows) answers.set(entity.key.of(row) as KeyValue, row);
      answered.push({ kind: entity.name, answers });
      adopts.push(() => {
        if (local === undefined) {
          view.adopt(entity, rows, true);
          return () => view.markAbsent(entity, absentKeys, true);
        }
        // Local changes shown over the origin's rows (the cache keeps the origin's for the merge).
        const shown = new Map<KeyValue, Row | null>(absentKeys.map((k) => [k, null]));
        for (const row of rows) shown.set(entity.key.of(row) as KeyValue, row);
        applyToEntities(local, view.lens.side, entity, shown);
        const gone = [...shown].filter(([, r]) => r === null).map(([k]) => k);
        view.adopt(entity, [...shown.values()].filter((r): r is Row => r !== null), true);
        return () => view.markAbsent(entity, gone, true);
      });
      continue;
    }
    const groups = groupRows(rel, rows);
    // Keys that may match another spelling: where a row is grouped under a key not asked, or two asked
    // keys may be one at the origin, the level's groups are not sure answers. Its relation lookups then
    // go their own way (relation.ts asks which key each row answers).
    if (!compareExactly(rel.foreignKey) && !sureGroups(asked, groups)) continue;
    batches.push({ entity: rel.target, rows, loadedAt, relation: { rel, keys: asked }, unclaimed: true });
    const answers = new Map<KeyValue, Row[]>();
    for (const key of asked) answers.set(key, groups.get(key) ?? []);
    answered.push({ kind: rel.id, answers });
    adopts.push(() => {
      let grouped: Map<KeyValue, Row[]> = groups;
      if (local !== undefined) {
        // Copies: the origin's groups are also shared in flight as they are.
        grouped = new Map(asked.map((k) => [k, [...(groups.get(k) ?? [])]]));
        applyToGroups(local, view.lens.side, rel, grouped);
      }
      const objects = adoptGroups(view, rel, grouped, true);
      return () => {
        for (const key of asked) view.primeRelation(rel, key, relationValue(rel, objects.get(key)));
      };
    });
  }
  // The cache writes on its own thread while the view takes the rows in.
  const merged = ctx.written(ctx.cache.merge(batches));
  if (ctx.answerFirst) {
    // Answer now; until the write commits, lookups of these keys by any view take them from in flight.
    for (const level of answered) ctx.inflight.publish(level.kind, level.answers, merged);
    merged.catch(() => undefined); // reported by ctx.written
    for (const prime of adopts.map((adopt) => adopt())) prime();
    return;
  }
  let primes: (() => void)[];
  try {
    primes = adopts.map((adopt) => adopt());
  } finally {
    await merged;
  }
  for (const prime of primes) prime();
}

/**
 * The local rows of a level's entity that may show in its answer but whose relations below the origin
 * cannot derive from its own rows: rows the origin does not have (or not known), rows moved into another
 * group of the level's relation, and rows whose foreign key of a belongsTo below changed. A level bound
 * to keys takes only its keys' rows; a level derived at the origin (parents not known yet) takes them all.
 */
function localRowsBelow(snap: LocalSnapshot, plan: LevelPlan): Row[] {
  const changes = snap.of(plan.entity);
  if (changes.size === 0) return [];
  const rel = plan.rel;
  const grouped = rel !== undefined && rel.kind !== 'belongsTo' && rel.through === undefined ? rel : undefined;
  const wanted = plan.keys === undefined ? undefined : new Set(plan.keys);
  const belongsTo = plan.children.filter((c) => c.rel.kind === 'belongsTo').map((c) => c.rel.foreignKey);
  const rows: Row[] = [];
  for (const change of changes.values()) {
    const local = change.local;
    if (local === null) continue;
    if (wanted !== undefined && rel?.through === undefined) {
      const at = grouped === undefined ? plan.entity.key.of(local) : grouped.foreignKey.of(local);
      if (at === null || !wanted.has(at)) continue;
    }
    const base = change.base;
    const own =
      base === null ||
      base === undefined ||
      (grouped !== undefined && grouped.foreignKey.of(local) !== grouped.foreignKey.of(base)) ||
      belongsTo.some((fk) => fk.of(local) !== fk.of(base));
    if (own) rows.push(local);
  }
  return rows;
}

/**
 * Pushes onto `next` what the view already holds for `keys` (a relation it answered or is loading; a
 * belongsTo target it knows, fresh enough for the mode) and returns the keys it does not.
 */
async function takeKnown(view: TreeHost, rel: CompiledRelation, keys: readonly KeyValue[], mode: Mode, next: EntityObject[]): Promise<KeyValue[]> {
  const rest: KeyValue[] = [];
  if (rel.kind === 'belongsTo') {
    for (const key of keys) {
      const obj = view.held(rel.target, key, mode);
      if (obj !== undefined) next.push(obj);
      else rest.push(key);
    }
    return rest;
  }
  const pending: Promise<unknown>[] = [];
  const pendingKeys: KeyValue[] = [];
  for (const key of keys) {
    const answer = view.knownRelation(rel, key);
    if (answer === undefined) rest.push(key);
    else {
      pending.push(answer);
      pendingKeys.push(key);
    }
  }
  const settled = await Promise.allSettled(pending);
  settled.forEach((s, i) => {
    if (s.status === 'rejected') rest.push(pendingKeys[i] as KeyValue);
    else if (Array.isArray(s.value)) next.push(...(s.value as EntityObject[]));
    else if (s.value !== null && typeof s.value === 'object') next.push(s.value as EntityObject);
  });
  return rest;
}

/**
 * Whether `child` leads straight back to the parent objects of `parent`'s rows (Post.comments then
 * Comment.post): its targets are then already in the view, and the origin is not asked for them again.
 */
function isInverse(parent: IncludeNode, child: IncludeNode): boolean {
  const p = parent.rel;
  const c = child.rel;
  if (c.kind !== 'belongsTo' || child.children.length > 0) return false;
  if ((p.kind !== 'hasMany' && p.kind !== 'hasOne') || p.through !== undefined) return false;
  if (c.source !== p.target || c.target !== p.source) return false;
  const a = c.foreignKey.columns;
  const b = p.foreignKey.columns;
  return a.length === b.length && a.every((col, i) => col.name === b[i]?.name);
}

/** The columns of a parent row that hold the key a relation is looked up by. */
function parentColumns(rel: CompiledRelation): CompiledKey {
  return rel.kind === 'belongsTo' ? rel.foreignKey : rel.source.key;
}

function distinct(keys: readonly (KeyValue | null)[]): KeyValue[] {
  const out = new Set<KeyValue>();
  for (const k of keys) if (k !== null) out.add(k);
  return [...out];
}

/**
 * Answers a level from what the view may take without the origin — the cache where it is complete (not in
 * FRESHEN), and loads in flight in this process: primes the view with what it found, pushes the objects
 * found onto `next`, and returns the keys answered.
 */
async function readCached(view: TreeHost, rel: CompiledRelation, keys: readonly KeyValue[], mode: Mode, next: EntityObject[]): Promise<Set<KeyValue>> {
  const ctx = view.lookups.ctx;
  if (rel.kind === 'belongsTo') {
    const read = await readKnown(ctx, view.lookups.entity(rel.target), keys, mode, view.born);
    // Answers shared in flight are the origin's rows: the view's lens shows local changes over them.
    await view.lens.entities(rel.target, read);
    for (const fresh of [false, true]) {
      const rows: Row[] = [];
      const absent: KeyValue[] = [];
      for (const [key, row] of read.values) {
        if (read.fresh.has(key) !== fresh) continue;
        if (row === null) absent.push(key);
        else rows.push(row);
      }
      for (const obj of view.adopt(rel.target, rows, fresh)) next.push(obj);
      view.markAbsent(rel.target, absent, fresh);
    }
    return new Set(read.values.keys());
  }
  const read = await readKnown(ctx, view.lookups.relation(rel), keys, mode, view.born);
  await view.lens.groups(rel, read);
  for (const [key, rows] of read.values) {
    const members = rows.length === 0 ? undefined : view.adopt(rel.target, rows, read.fresh.has(key));
    if (members !== undefined) next.push(...members);
    view.primeRelation(rel, key, relationValue(rel, members));
  }
  return new Set(read.values.keys());
}

/**
 * Whether rows grouped by their exact key value answer exactly the asked keys: every group is an asked
 * key, and no two asked keys may be equal under a collation (case, accents and trailing spaces folded).
 */
function sureGroups(asked: readonly KeyValue[], groups: ReadonlyMap<KeyValue, Row[]>): boolean {
  const keys = new Set(asked);
  for (const key of groups.keys()) if (!keys.has(key)) return false;
  const folded = new Set<string>();
  for (const key of asked) {
    const f = typeof key === 'string' ? foldSpelling(key) : `${typeof key}:${String(key)}`;
    if (folded.has(f)) return false;
    folded.add(f);
  }
  return true;
}

/** A spelling with what common collations ignore taken out: case, accents, trailing spaces, a number's trailing zeros. */
function foldSpelling(s: string): string {
  const n = Number(s);
  if (s.trim() !== '' && Number.isFinite(n)) return `n:${n}`;
  return `s:${s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trimEnd()}`;
}

/** The view's objects for each group of rows. */
export function adoptGroups(view: Pick<TreeHost, 'adopt'>, rel: CompiledRelation, groups: ReadonlyMap<KeyValue, Row[]>, fresh: boolean): Map<KeyValue, EntityObject[]> {
  const out = new Map<KeyValue, EntityObject[]>();
  for (const [key, rows] of groups) if (rows.length > 0) out.set(key, view.adopt(rel.target, rows, fresh));
  return out;
}
