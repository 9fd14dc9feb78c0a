// A view's lens on local changes: applies them (or, for `{ local: false }`, the origin's versions) to the answers it adopts.
import type { Loaded } from '../load/lookup-kind.js';
import type { CompiledEntity, CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LocalChanges } from './local-changes.js';
import { applyToAll, applyToEntities, applyToGroups, applyToQueryRows, type LocalSnapshot, type Side } from './overlay.js';

/**
 * @internal How one view sees local changes. Rows read from the cache already show them (the cache keeps
 * local rows in its tables), so a view that shows local changes needs the file's changes only for answers
 * the origin gave; a view of the origin's truth (`side: 'origin'`) puts the origin's versions back in
 * every answer.
 */
export class LocalLens {
  readonly side: Side;
  readonly #changes: LocalChanges;

  constructor(changes: LocalChanges, side: Side) {
    this.#changes = changes;
    this.side = side;
  }

  /** The snapshot to apply to an answer, if it needs one (`fresh`: some of it came from the origin). */
  async snapshot(fresh: boolean): Promise<LocalSnapshot | undefined> {
    if (this.side === 'local' && !fresh) return undefined;
    const snap = await this.#changes.current();
    return snap.empty ? undefined : snap;
  }

  /** The file's local changes now (at most one statement; a read of them when they changed). */
  current(): Promise<LocalSnapshot> {
    return this.#changes.current();
  }

  /** Applies the changes to a batch of entity answers. */
  async entities(entity: CompiledEntity, loaded: Loaded<Row | null>): Promise<void> {
    const snap = await this.snapshot(loaded.fresh.size > 0);
    if (snap !== undefined) applyToEntities(snap, this.side, entity, loaded.values);
  }

  /** Applies the changes to a batch of relation groups. */
  async groups(rel: CompiledRelation, loaded: Loaded<Row[]>): Promise<void> {
    const snap = await this.snapshot(loaded.fresh.size > 0);
    if (snap !== undefined) applyToGroups(snap, this.side, rel, loaded.values);
  }

  /** Applies the changes to a custom query's answer. */
  async query(entity: CompiledEntity, key: KeyValue, loaded: Loaded<Row[]>): Promise<void> {
    const rows = loaded.values.get(key);
    if (rows === undefined) return;
    const snap = await this.snapshot(loaded.fresh.size > 0);
    if (snap !== undefined) loaded.values.set(key, applyToQueryRows(snap, this.side, entity, rows));
  }

  /** Every row of an entity (`all()`), in key order. */
  async all(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): Promise<Row[]> {
    const snap = await this.snapshot(fresh);
    return snap === undefined ? (rows as Row[]) : applyToAll(snap, this.side, entity, rows);
  }
}
