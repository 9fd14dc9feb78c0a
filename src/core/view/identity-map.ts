// One object per row within a view: the objects a view holds and the keys it knows absent.
import { Mode } from '../mode.js';
import type { CompiledEntity } from '../schema.js';
import type { KeyValue, Row } from '../values.js';
import { FRESH, ROW, type EntityConstructor, type EntityHost, type EntityObject } from './entity-class.js';

/**
 * @internal A view's identity map. Besides each row's object it remembers, per key, whether it came from
 * the origin within the view ("fresh": what FRESHEN accepts) or from the cache, and the keys known absent.
 */
export class IdentityMap {
  readonly #host: EntityHost;
  readonly #classes: readonly EntityConstructor[];
  /** entity index → key → object. */
  readonly #known: Map<KeyValue, EntityObject>[];
  /** entity index → key → whether the origin said it is absent within the view. */
  readonly #absent: Map<KeyValue, boolean>[];

  constructor(host: EntityHost, classes: readonly EntityConstructor[]) {
    this.#host = host;
    this.#classes = classes;
    this.#known = classes.map(() => new Map());
    this.#absent = classes.map(() => new Map());
  }

  /** The object held for `key`, whatever its source. */
  get(entity: CompiledEntity, key: KeyValue): EntityObject | undefined {
    return (this.#known[entity.index] as Map<KeyValue, EntityObject>).get(key);
  }

  /** Whether `key` is known absent, whatever the source. */
  isAbsent(entity: CompiledEntity, key: KeyValue): boolean {
    return (this.#absent[entity.index] as Map<KeyValue, boolean>).has(key);
  }

  /** The object held for `key` if it answers a lookup under `mode` (FRESHEN takes only rows read within the view). */
  held(entity: CompiledEntity, key: KeyValue, mode: Mode): EntityObject | undefined {
    const obj = (this.#known[entity.index] as Map<KeyValue, EntityObject>).get(key);
    return obj !== undefined && (mode !== Mode.FRESHEN || obj[FRESH]) ? obj : undefined;
  }

  /** Whether `key` is known absent in a way that answers a lookup under `mode`. */
  heldAbsent(entity: CompiledEntity, key: KeyValue, mode: Mode): boolean {
    const fresh = (this.#absent[entity.index] as Map<KeyValue, boolean>).get(key);
    return fresh !== undefined && (mode !== Mode.FRESHEN || fresh);
  }

  /**
   * Makes rows known: an existing object for the same key is kept (one object per row) and takes the row's
   * values when they come from the origin (`fresh`).
   */
  adopt(entity: CompiledEntity, rows: readonly Row[], fresh: boolean): EntityObject[] {
    const known = this.#known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.#absent[entity.index] as Map<KeyValue, boolean>;
    const Cls = this.#classes[entity.index] as EntityConstructor;
    const keyOf = entity.key.of;
    const out: EntityObject[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const key = keyOf(row) as KeyValue;
      let obj = known.get(key);
      if (obj === undefined) {
        obj = new Cls(this.#host, row, fresh);
        known.set(key, obj);
        if (absent.size > 0) absent.delete(key);
      } else if (fresh) {
        obj[ROW] = row;
        obj[FRESH] = true;
      }
      out[i] = obj;
    }
    return out;
  }

  /**
   * Makes `asked` another name of `obj`'s key: the origin answered the key `asked` with that object's row
   * (another spelling: `'ABC'` for `'abc'` under a case-insensitive collation), so both are one object.
   */
  alias(entity: CompiledEntity, asked: KeyValue, obj: EntityObject): void {
    (this.#known[entity.index] as Map<KeyValue, EntityObject>).set(asked, obj);
    (this.#absent[entity.index] as Map<KeyValue, boolean>).delete(asked);
  }

  /**
   * Records keys as absent. From the origin within the view (`fresh`) it overrides what the view held;
   * from the cache it never overrides what the view already knows of the key.
   */
  markAbsent(entity: CompiledEntity, keys: Iterable<KeyValue>, fresh: boolean): void {
    const known = this.#known[entity.index] as Map<KeyValue, EntityObject>;
    const absent = this.#absent[entity.index] as Map<KeyValue, boolean>;
    for (const key of keys) {
      if (fresh) {
        known.delete(key);
        absent.set(key, true);
      } else if (!absent.has(key)) absent.set(key, false);
    }
  }
}
