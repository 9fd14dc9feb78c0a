// The one way to the origin: bounded concurrency, a timeout, statement counting, failures as OriginError.
import pLimit, { type LimitFunction } from 'p-limit';
import { IsOfflineError, OriginError } from '../errors.js';
import type { Origin, SelectRequest } from '../origin.js';
import type { Row } from '../values.js';
import { RefusedSqlError } from '../../sql/refused-sql-error.js';

/**
 * @internal Every origin statement of a store passes here: at most `concurrency` at once across all
 * views, each given up after `timeoutMs`, counted (statements and round trips), and a failure wrapped in
 * an `OriginError` carrying the driver's error.
 */
export class OriginGate {
  readonly #origin: Origin | null;
  readonly #limit: LimitFunction;
  readonly #timeoutMs: number;
  readonly #batchSize: number;
  statements = 0;
  roundTrips = 0;

  constructor(origin: Origin | null, options: { concurrency: number; timeoutMs: number; batchSize: number }) {
    this.#origin = origin;
    this.#limit = pLimit(options.concurrency);
    this.#timeoutMs = options.timeoutMs;
    this.#batchSize = options.batchSize;
  }

  /** One round trip of `statements` statements: under the bound, counted, timed out, errors wrapped. */
  call<T>(call: (origin: Origin) => Promise<T>, statements = 1): Promise<T> {
    const origin = this.#origin;
    if (origin === null) return Promise.reject(new IsOfflineError('the store has no origin'));
    return this.#limit(async () => {
      this.statements += statements;
      this.roundTrips++;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'ADBV_ORIGIN_TIMEOUT' }));
        }, this.#timeoutMs);
      });
      try {
        return await Promise.race([call(origin), timeout]);
      } catch (error) {
        // Caller SQL the origin refused before sending anything: the caller's fault, and no statement was sent.
        if (error instanceof RefusedSqlError) {
          this.statements -= statements;
          this.roundTrips--;
          throw error;
        }
        throw new OriginError(`${origin.description}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** A set-wise read, split into statements of at most the batch size (run concurrently under the bound). */
  async select(request: SelectRequest): Promise<Row[]> {
    const size = this.#batchSize;
    const run = (keys: SelectRequest['keys']) => this.call((o) => o.select(keys === request.keys ? request : { ...request, keys }));
    if (request.keys.length <= size) return run(request.keys);
    const chunks: Promise<Row[]>[] = [];
    for (let i = 0; i < request.keys.length; i += size) chunks.push(run(request.keys.slice(i, i + size)));
    return (await Promise.all(chunks)).flat();
  }
}
