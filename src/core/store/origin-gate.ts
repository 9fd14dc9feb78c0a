// The one way to the origin: bounded concurrency, a timeout, statement counting, failures as OriginError.
import pLimit, { type LimitFunction } from 'p-limit';
import { IsOfflineError, OriginError, SchemaError } from '../errors.js';
import type { Origin, SelectRequest } from '../origin.js';
import type { Row } from '../values.js';
import { Deadlines } from '../deadlines.js';

/**
 * @internal Every origin statement of a store passes here: at most `concurrency` at once across all
 * views, each given up after `timeoutMs`, counted (statements and round trips), and a failure wrapped in
 * an `OriginError` carrying the driver's error (a `SchemaError` or `TypeError` the origin raised about a
 * result it refused passes as it is).
 */
export class OriginGate {
  readonly #origin: Origin | null;
  readonly #limit: LimitFunction;
  readonly #timeoutMs: number;
  readonly #batchSize: number;
  /** Every call's timeout, under one timer. */
  readonly #deadlines: Deadlines;
  statements = 0;
  roundTrips = 0;

  constructor(origin: Origin | null, options: { concurrency: number; timeoutMs: number; batchSize: number }) {
    this.#origin = origin;
    this.#limit = pLimit(options.concurrency);
    this.#timeoutMs = options.timeoutMs;
    this.#batchSize = options.batchSize;
    this.#deadlines = new Deadlines(options.timeoutMs);
  }

  /** One round trip of `statements` statements: under the bound, counted, timed out, errors wrapped. */
  call<T>(call: (origin: Origin) => Promise<T>, statements = 1): Promise<T> {
    const origin = this.#origin;
    if (origin === null) return Promise.reject(new IsOfflineError('the store has no origin'));
    return this.#limit(async () => {
      this.statements += statements;
      this.roundTrips++;
      try {
        return await this.#timed(origin, call);
      } catch (error) {
        // Caller SQL the origin refused before sending anything (a RefusedSqlError): no statement was sent.
        if (error instanceof TypeError && error.name === 'RefusedSqlError') {
          this.statements -= statements;
          this.roundTrips--;
        }
        throw error;
      }
    });
  }

  /**
   * Opens the origin's connections now (`Origin.warmUp`): given up after the timeout and failing with an
   * `OriginError`, as a statement is, but neither counted nor queued behind statements.
   */
  async warmUp(): Promise<void> {
    const origin = this.#origin;
    if (origin?.warmUp === undefined) return;
    await this.#timed(origin, (o) => (o.warmUp as NonNullable<Origin['warmUp']>).call(o));
  }

  /** `call`, given up after the timeout, its failure wrapped in an `OriginError` carrying the driver's error. */
  async #timed<T>(origin: Origin, call: (origin: Origin) => Promise<T>): Promise<T> {
    try {
      return await new Promise<T>((resolve, reject) => {
        const settled = this.#deadlines.set(() => reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ADBV_ORIGIN_TIMEOUT' })));
        let answer: Promise<T>;
        try {
          answer = call(origin);
        } catch (error) {
          settled();
          throw error;
        }
        answer.then(
          (value) => {
            settled();
            resolve(value);
          },
          (error: unknown) => {
            settled();
            reject(error);
          },
        );
      });
    } catch (error) {
      // A result the schema cannot map, or caller SQL refused, is the caller's to fix: not the origin failing
      // (nor unreachable).
      if (error instanceof SchemaError || error instanceof TypeError) throw error;
      throw new OriginError(`${origin.description}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  /** A set-wise read, split into statements of at most the batch size (run concurrently under the bound). */
  async select(request: SelectRequest): Promise<Row[]> {
    const size = this.#batchSize;
    const run = (keys: SelectRequest['keys']) => this.call((o) => o.select(keys === request.keys ? request : { ...request, keys }));
    if (request.keys.length <= size) return run(request.keys);
    const chunks: Promise<Row[]>[] = [];
    for (let i = 0; i < request.keys.length; i += size) {
      const chunk = run(request.keys.slice(i, i + size));
      // `$i` indexes the chunk's keys: make it index the request's.
      chunks.push(request.asked === true && i > 0 ? chunk.then((rows) => shiftAsked(rows, i)) : chunk);
    }
    return (await Promise.all(chunks)).flat();
  }
}

function shiftAsked(rows: Row[], by: number): Row[] {
  for (const row of rows) row.$i = Number(row.$i) + by;
  return rows;
}
