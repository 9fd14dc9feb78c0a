/**
 * `npm run bench [-- --quick] [-- --name=X] [-- --delays=0,5,20] [-- --runs=9] [-- --scenarios=tree,batch]
 * [-- --impls=adbv-cold,mikro] [-- --no-warmup] [-- --budget-ms=20000] [-- --seed=42] [-- --cpu-prof=DIR] [-- --keep]`
 *
 * Runs the matrix of trials (scenarios × added round-trip times) × implementations against a real MariaDB
 * (BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306; the bench creates and drops its own database
 * `adbv_bench`), every cell in a fresh child process, behind a loopback proxy that delays each round trip.
 * Prints the table and the targets; writes bench/results/<name>.json and <name>.md and the chart
 * wall-vs-rtt[-<name>].svg (name: `latest`, or `quick` with --quick).
 *
 * Each cell (but cold start) makes one warm-up run that is never counted, then up to --runs timed runs: at
 * least one, and no more once the cell has taken --budget-ms. Cold start runs a fresh process each time,
 * with no warm-up (the cold process is what it measures). A `latest` run also rewrites the README's
 * benchmark figures from the results it wrote (bench/readme.ts; `npm run bench:readme` does that alone).
 *
 * --quick is a smoke run: one delay (5 ms), one run a cell with no warm-up, no N+1 baseline or resolver floor.
 * --keep leaves the database `adbv_bench` in place afterwards (for scripts that probe one cell).
 * --cpu-prof=DIR writes a V8 CPU profile of each cell's process to DIR (combine with --scenarios/--impls).
 */
import { execFileSync, fork } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { Mode, mysqlOrigin, openStore, sqliteCache } from 'asyncdbview';
import {
  AUTHORS, COMMENTS, DB_NAME, IMPLS, POSTS, SCENARIOS, commentLikes, commentPost, lockstepIdeal, makePlans, postAuthor,
  type CellSpec, type FromCell, type ImplName, type ScenarioName, type ToCell,
} from './common.js';
import { answerFirstTargets } from './answer-first-targets.js';
import { implementations } from './implementations.js';
import { ViewReq } from './impl/adbv.js';
import { DelayProxy } from './proxy.js';
import { writeReadmeFigures } from './readme.js';
import {
  chartSvg, consoleTable, evaluateTargets, range, resultsMarkdown, targetsText, SCENARIO_LABELS, type BenchMeta, type CellResult, type Sample,
} from './report.js';
import { tree } from './scenarios.js';
import { benchSchema, ORIGIN_DDL } from './schema.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Sources live in bench/, the compiled runner in build/bench/: results go next to the sources. */
const RESULTS_DIR = join(here, '..', '..', 'bench', 'results');
const CELL_JS = join(here, 'cell.js');

interface Options {
  quick: boolean;
  name: string;
  delays: number[];
  runs: number;
  warmup: boolean;
  budgetMs: number;
  scenarios: ScenarioName[];
  impls: ImplName[];
  implsGiven: boolean;
  seed: number;
  /** Writes a V8 CPU profile of every cell process to this directory (node --cpu-prof). */
  cpuProfDir: string | undefined;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new Error(`unknown argument ${JSON.stringify(arg)}; see the header of bench/run.ts`);
    flags.set(m[1] as string, m[2] ?? 'true');
  }
  const quick = flags.get('quick') === 'true';
  const list = (name: string, fallback: readonly string[]) => (flags.get(name)?.split(',').filter(Boolean) ?? [...fallback]);
  const scenarios = list('scenarios', SCENARIOS) as ScenarioName[];
  const impls = list('impls', IMPLS) as ImplName[];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  for (const i of impls) if (!IMPLS.includes(i as (typeof IMPLS)[number])) throw new Error(`unknown implementation ${i}; one of ${IMPLS.join(', ')}`);
  return {
    quick,
    name: flags.get('name') ?? (quick ? 'quick' : 'latest'),
    delays: list('delays', quick ? ['5'] : ['0', '5', '20']).map(Number),
    runs: Number(flags.get('runs') ?? (quick ? 1 : 9)),
    warmup: flags.has('no-warmup') ? false : !quick,
    budgetMs: Number(flags.get('budget-ms') ?? (quick ? 3000 : 20000)),
    scenarios,
    impls,
    implsGiven: flags.has('impls'),
    cpuProfDir: flags.get('cpu-prof'),
    keep: flags.has('keep'),
    seed: Number(flags.get('seed') ?? 42),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The origin

interface Status {
  comSelect: number;
  rowsSent: number | null;
}

class Origin {
  readonly admin: mysql.Connection;
  /** Rows_sent that one status read itself adds (its own result rows), measured at start. */
  #rowsOverhead = 0;

  private constructor(admin: mysql.Connection) {
    this.admin = admin;
  }

  static async connect(url: string): Promise<Origin> {
    return new Origin(await mysql.createConnection({ uri: url, multipleStatements: true }));
  }

  async status(): Promise<Status> {
    const [rows] = await this.admin.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_select', 'Rows_sent')");
    const get = (name: string) => (rows as { Variable_name: string; Value: string }[]).find((r) => r.Variable_name === name)?.Value;
    const rowsSent = get('Rows_sent');
    return { comSelect: Number(get('Com_select')), rowsSent: rowsSent === undefined ? null : Number(rowsSent) };
  }

  /** Checks that reading the counters costs no Com_select, and learns what it adds to Rows_sent. */
  async calibrate(): Promise<void> {
    const a = await this.status();
    const b = await this.status();
    const c = await this.status();
    if (b.comSelect !== a.comSelect || c.comSelect !== b.comSelect) {
      throw new Error('Com_select moves while nothing runs: is something else using this server? The statement counts would be wrong.');
    }
    this.#rowsOverhead = b.rowsSent === null || a.rowsSent === null ? 0 : b.rowsSent - a.rowsSent;
  }

  delta(before: Status, after: Status): { statements: number; rows: number | null } {
    return {
      statements: after.comSelect - before.comSelect,
      rows: after.rowsSent === null || before.rowsSent === null ? null : after.rowsSent - before.rowsSent - this.#rowsOverhead,
    };
  }

  async version(): Promise<string> {
    const [rows] = await this.admin.query('SHOW VARIABLES LIKE "version"');
    return (rows as { Value: string }[])[0]?.Value ?? 'unknown';
  }

  /** Drops and recreates the bench database with 100 authors, 2,000 posts and 10,000 comments. */
  async seed(): Promise<void> {
    const q = (sql: string, values?: unknown[]) => this.admin.query(sql, values);
    await q(`DROP DATABASE IF EXISTS \`${DB_NAME}\``);
    await q(`CREATE DATABASE \`${DB_NAME}\` CHARACTER SET utf8mb4`);
    await q(`USE \`${DB_NAME}\``);
    for (const ddl of ORIGIN_DDL) await q(ddl);
    const insert = async (table: string, rows: unknown[][]) => {
      for (let i = 0; i < rows.length; i += 2000) await q(`INSERT INTO ${table} VALUES ?`, [rows.slice(i, i + 2000)]);
    };
    await insert('authors', Array.from({ length: AUTHORS }, (_, i) => [i + 1, `Author ${i + 1}`]));
    await insert('posts', Array.from({ length: POSTS }, (_, i) => [i + 1, `Post ${i + 1}`, postAuthor(i + 1), new Date(Date.UTC(2024, 0, 1) + i * 3_600_000)]));
    await insert('comments', Array.from({ length: COMMENTS }, (_, i) => [i + 1, `Comment ${i + 1}: ${'lorem ipsum '.repeat(4).trim()}`, commentPost(i + 1), commentLikes(i + 1)]));
    await q('ANALYZE TABLE authors, posts, comments');
  }

  async drop(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS \`${DB_NAME}\``);
  }

  close(): Promise<void> {
    return this.admin.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cells

/** A child process running bench/cell.js, with its messages as a queue. */
class Child {
  readonly #queue: FromCell[] = [];
  readonly #waiting: ((m: FromCell | Error) => void)[] = [];
  readonly exited: Promise<number | null>;
  readonly #child;

  constructor(spec: CellSpec, cpuProfDir?: string) {
    const execArgv = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${spec.scenario}-${spec.impl}-${spec.delayMs}ms-${process.hrtime.bigint()}.cpuprofile`];
    this.#child = fork(CELL_JS, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    this.#child.on('message', (m: FromCell) => this.#deliver(m));
    this.exited = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#deliver(new Error(`cell ${spec.scenario}/${spec.impl}/${spec.delayMs} ms exited (code ${code}) before answering`));
        resolve(code);
      });
    });
  }

  #deliver(m: FromCell | Error): void {
    const w = this.#waiting.shift();
    if (w !== undefined) w(m);
    else if (!(m instanceof Error)) this.#queue.push(m);
    else this.#queue.push({ type: 'failed', error: m.message });
  }

  async next<T extends FromCell['type']>(type: T): Promise<Extract<FromCell, { type: T }>> {
    const m = this.#queue.shift() ?? (await new Promise<FromCell | Error>((resolve) => this.#waiting.push(resolve)));
    if (m instanceof Error) throw m;
    if (m.type === 'failed') throw new Error(`cell failed:\n${m.error}`);
    if (m.type !== type) throw new Error(`cell sent ${m.type}, expected ${type}`);
    return m as Extract<FromCell, { type: T }>;
  }

  send(message: ToCell): void {
    this.#child.send(message);
  }

  /** Waits for the child to leave; kills it if it lingers (an open handle) after saying it was done. */
  async end(): Promise<void> {
    const timer = setTimeout(() => this.#child.kill(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Bench {
  readonly options: Options;
  readonly origin: Origin;
  readonly proxy: DelayProxy;
  readonly originUrl: string;
  readonly directUrl: string;
  readonly warmCache: string;
  readonly tmp: string;
}

function sampleOf(ran: Extract<FromCell, { type: 'ran' }>, delta: { statements: number; rows: number | null }, extra: Partial<Sample>): Sample {
  const { type: _type, ...report } = ran;
  return { ...report, originStatements: delta.statements, originRows: delta.rows, ...extra };
}

async function measureCell(bench: Bench, scenario: ScenarioName, impl: ImplName, delayMs: number): Promise<CellResult> {
  const { options, origin, proxy } = bench;
  const dir = mkdtempSync(join(bench.tmp, `${scenario}-${impl}-${delayMs}-`));
  const cacheFile = join(dir, 'warm.db');
  if (implementations[impl].needsWarmCache) copyFileSync(bench.warmCache, cacheFile);
  const spec: CellSpec = {
    scenario, impl, delayMs, originUrl: bench.originUrl, directUrl: bench.directUrl, tmpDir: dir, seed: options.seed,
    ...(implementations[impl].needsWarmCache ? { cacheFile } : {}),
  };
  proxy.delayMs = delayMs;
  const samples: Sample[] = [];
  let maxRssKiB: number;
  let readyRssKiB: number | null = null;
  const started = performance.now();
  const more = () => samples.length < options.runs && (samples.length === 0 || performance.now() - started < options.budgetMs);
  try {
    if (scenario === 'coldstart') {
      // One fresh process per run: the runner reads the counters around the whole process.
      const rss: number[] = [];
      while (more()) {
        if (implementations[impl].needsWarmCache) copyFileSync(bench.warmCache, cacheFile);
        rmSync(join(dir, 'coldstart-cold.db'), { force: true });
        const before = await origin.status();
        const child = new Child(spec, options.cpuProfDir);
        const ran = await child.next('ran');
        const done = await child.next('done');
        await child.end();
        const after = await origin.status();
        rss.push(done.maxRssKiB);
        samples.push(sampleOf(ran, origin.delta(before, after), { maxRssKiB: done.maxRssKiB }));
      }
      maxRssKiB = range(rss).median;
    } else {
      const child = new Child(spec, options.cpuProfDir);
      try {
        readyRssKiB = (await child.next('ready')).rssKiB;
        let first = true;
        while (more()) {
          child.send({ type: 'prepare' });
          await child.next('prepared');
          const before = await origin.status();
          child.send({ type: 'run' });
          const ran = await child.next('ran');
          const after = await origin.status();
          const warmup = first && options.warmup;
          first = false;
          // The warm-up run is never counted, in every cell alike, however long it took.
          if (!warmup) samples.push(sampleOf(ran, origin.delta(before, after), {}));
        }
        child.send({ type: 'finish' });
        maxRssKiB = (await child.next('done')).maxRssKiB;
      } finally {
        await child.end();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pick = (f: (s: Sample) => number | null | undefined): { median: number; min: number; max: number } | null => {
    const values = samples.map(f);
    return values.some((v) => v === null || v === undefined) ? null : range(values as number[]);
  };
  return {
    scenario, impl, delayMs, samples, maxRssKiB, readyRssKiB,
    wallMs: range(samples.map((s) => s.wallMs)),
    cpuMs: range(samples.map((s) => s.cpuMs)),
    originStatements: range(samples.map((s) => s.originStatements)),
    originRows: pick((s) => s.originRows),
    cacheStatements: pick((s) => s.cacheStatements),
    ideal: pick((s) => s.ideal),
    rows: samples[0]?.rows ?? 0,
    checksumOk: true,
  };
}

/** Fills the warm cache file: one cold tree run over the whole blog (every row, every relation mark). */
async function fillWarmCache(directUrl: string, file: string): Promise<void> {
  const store = await openStore(benchSchema, { origin: mysqlOrigin(directUrl), cache: sqliteCache(file), mode: Mode.FRESHEN });
  try {
    await tree(new ViewReq(store.view()));
  } finally {
    await store.close();
  }
}

function urlWithDb(base: string, host: string, port: number): string {
  const url = new URL(base);
  url.hostname = host;
  url.port = String(port);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const baseUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  const target = new URL(baseUrl);
  const host = target.hostname;
  const port = Number(target.port || 3306);
  console.log(`asyncdbview bench${options.quick ? ' (quick)' : ''}: MariaDB at ${host}:${port} (BENCH_MYSQL_URL), database ${DB_NAME}`);
  const origin = await Origin.connect(urlWithDb(baseUrl, host, port).replace(`/${DB_NAME}`, ''));
  const proxy = new DelayProxy({ host, port });
  const tmp = mkdtempSync(join(tmpdir(), 'adbv-bench-'));
  try {
    const version = await origin.version();
    await origin.seed();
    await origin.calibrate();
    const proxyPort = await proxy.listen();
    const directUrl = urlWithDb(baseUrl, host, port);
    const bench: Bench = {
      options, origin, proxy, tmp, directUrl,
      originUrl: urlWithDb(baseUrl, '127.0.0.1', proxyPort),
      warmCache: join(tmp, 'warm.db'),
    };
    await fillWarmCache(directUrl, bench.warmCache);
    console.log(`server ${version}; delay proxy on 127.0.0.1:${proxyPort}; delays ${options.delays.join(', ')} ms; up to ${options.runs} run(s) a cell\n`);

    const cells: CellResult[] = [];
    const checksums = new Map<ScenarioName, number>();
    const add = (cell: CellResult): void => {
      const expected = checksums.get(cell.scenario === 'coldstart' ? 'tree' : cell.scenario);
      const ok = cell.samples.every((s) => expected === undefined || s.checksum === expected);
      if (expected === undefined && cell.samples[0] !== undefined) checksums.set(cell.scenario === 'coldstart' ? 'tree' : cell.scenario, cell.samples[0].checksum);
      const final = ok ? cell : { ...cell, checksumOk: false };
      if (!ok) console.error(`!! ${cell.scenario}/${cell.impl}: checksum differs from the other implementations`);
      cells.push(final);
      console.log(
        `${SCENARIO_LABELS[cell.scenario].padEnd(20)} ${implementations[cell.impl].label.padEnd(26)} +${String(cell.delayMs).padStart(2)} ms` +
          `  ${cell.wallMs.median.toFixed(1).padStart(9)} ms  origin ${String(cell.originStatements.median).padStart(6)}  n=${cell.samples.length}`,
      );
    };
    for (const scenario of options.scenarios) {
      for (const delayMs of options.delays) {
        for (const impl of options.impls) {
          // Quick mode leaves out the N+1 baseline (12,000 delayed round trips take half a minute) and the
          // resolver-floor reference, unless --impls asks for them.
          if (options.quick && !options.implsGiven && (impl === 'naive' || impl === 'floor-resolvers')) continue;
          if (implementations[impl].scenarios?.includes(scenario) === false) continue;
          add(await measureCell(bench, scenario, impl, delayMs));
        }
      }
      if (scenario === 'batch') add(await measureCell(bench, 'batch', 'plain', 0));
    }

    const delays = options.delays;
    const batchLockstep = lockstepIdeal(makePlans(options.seed).batch);
    const targets = [...evaluateTargets(cells, delays, { batchLockstep }), ...answerFirstTargets(cells, delays, batchLockstep)];
    console.log(`\n${consoleTable(cells)}\n`);
    console.log(`Targets\n${targetsText(targets)}\n`);

    const meta: BenchMeta & Record<string, unknown> = {
      name: options.name,
      library: libraryVersion(),
      date: new Date().toISOString(),
      quick: options.quick,
      node: process.version,
      cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
      server: version,
      serverAddress: `${host}:${port}`,
      delays,
      runs: options.runs,
      warmup: options.warmup,
      budgetMs: options.budgetMs,
      seed: options.seed,
      rss: 'peak RSS = process.resourceUsage().maxRSS of the fresh child process that ran the cell (all its runs); cold start: median over its processes',
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const chartName = options.name === 'latest' ? 'wall-vs-rtt.svg' : `wall-vs-rtt-${options.name}.svg`;
    writeFileSync(join(RESULTS_DIR, `${options.name}.json`), JSON.stringify({ meta, implementations: describeImpls(), cells, targets }, null, 2) + '\n');
    writeFileSync(join(RESULTS_DIR, chartName), chartSvg(cells, `asyncdbview bench: wall time vs added round-trip time (${meta.server}, node ${meta.node})`));
    writeFileSync(join(RESULTS_DIR, `${options.name}.md`), resultsMarkdown(meta, cells, targets, chartName));
    console.log(`wrote bench/results/${options.name}.json, bench/results/${options.name}.md, bench/results/${chartName}`);
    if (options.name === 'latest') {
      const changed = writeReadmeFigures({ meta, cells, targets });
      console.log(changed ? 'rewrote the benchmark figures of README.md from these results' : 'README.md already shows these results');
    }
    if (!options.keep) await origin.drop();
  } finally {
    await proxy.close();
    await origin.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The commit the library was built from, and whether src/ had uncommitted changes. */
function libraryVersion(): string {
  const root = join(here, '..', '..');
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') === '' ? '' : ' + uncommitted src/ changes'}`;
  } catch {
    return 'unknown (no git)';
  }
}

function describeImpls(): Record<string, { label: string; description: string }> {
  return Object.fromEntries(Object.entries(implementations).map(([k, v]) => [k, { label: v.label, description: v.description }]));
}

await main();
