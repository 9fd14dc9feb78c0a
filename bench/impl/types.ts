import type { CellSpec, Outcome, Plans, ScenarioName } from '../common.js';

/** One implementation, opened once in a cell's child process and run several times. */
export interface Impl {
  /**
   * Untimed and outside the origin counters' window, before each run (asyncdbview cold: a new store on a
   * fresh, empty cache file, its pool connected).
   */
  beforeRun?(): Promise<void>;
  /** One unit of work of the scenario, on a fresh request/view/EntityManager fork: the timed part. */
  run(scenario: ScenarioName, plans: Plans): Promise<Outcome>;
  /** Untimed, after each run. */
  afterRun?(): Promise<void>;
  /** Statements sent to the cache so far (asyncdbview: store.stats.cacheQueries). */
  cacheStatements?(): number;
  /** Origin statements as the implementation counts them (asyncdbview: store.stats.originQueries). */
  selfOriginStatements?(): number;
  close(): Promise<void>;
}

export type ImplFactory = (spec: CellSpec) => Promise<Impl>;
