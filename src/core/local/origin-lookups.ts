// The lookup kinds of a view opened with `{ local: false }`: cache reads with the origin's versions of changed rows.
import type { LoadContext } from '../load/context.js';
import type { LookupKind } from '../load/lookup-kind.js';
import { Lookups } from '../load/lookups.js';
import type { CompiledEntity, CompiledRelation } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import type { LocalChanges } from './local-changes.js';
import { applyToEntities, applyToGroups } from './overlay.js';

/**
 * @internal The store's lookup kinds, but their cache reads show what the origin has for changed rows:
 * the cache's tables hold the local versions, so each read puts the origin's back. A changed key whose
 * origin row is not known is not answered by the cache (it goes to the origin, as the mode says).
 */
export class OriginLookups extends Lookups {
  readonly #entities = new Map<CompiledEntity, LookupKind<Row | null>>();
  readonly #relations = new Map<CompiledRelation, LookupKind<Row[]>>();
  readonly #changes: LocalChanges;

  constructor(ctx: LoadContext, changes: LocalChanges) {
    super(ctx);
    this.#changes = changes;
  }

  override entity(entity: CompiledEntity): LookupKind<Row | null> {
    let kind = this.#entities.get(entity);
    if (kind === undefined) {
      const inner = super.entity(entity);
      kind = {
        ...inner,
        read: async (keys, notBefore) => {
          const read = await inner.read(keys, notBefore);
          const snap = await this.#changes.current();
          const changes = snap.of(entity);
          if (changes.size === 0) return read;
          for (const key of keys) {
            const change = changes.get(key);
            if (change === undefined) continue;
            if (change.origin === undefined && change.base === undefined) read.delete(key);
            else read.set(key, null); // replaced below; keys the cache had removed locally come back too
          }
          applyToEntities(snap, 'origin', entity, read);
          return read;
        },
      };
      this.#entities.set(entity, kind);
    }
    return kind;
  }

  override relation(rel: CompiledRelation): LookupKind<Row[]> {
    let kind = this.#relations.get(rel);
    if (kind === undefined) {
      const inner = super.relation(rel);
      kind = {
        ...inner,
        read: async (keys: readonly KeyValue[], notBefore?: number) => {
          const read = await inner.read(keys, notBefore);
          const snap = await this.#changes.current();
          applyToGroups(snap, 'origin', rel, read);
          return read;
        },
      };
      this.#relations.set(rel, kind);
    }
    return kind;
  }
}
