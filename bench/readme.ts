/**
 * The README's benchmark figures, written from a results file so they cannot drift from it: each figure
 * stands between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in README.md and is rewritten from
 * bench/results/latest.json. `npm run bench` does it at the end of a full run; `npm run bench:readme` does
 * it alone (after committing new results, or to check: it prints whether anything changed).
 * test/bench-readme.test.ts fails when the README and the committed results disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImplName, ScenarioName } from './common.js';
import { fmtMs, markdownTable, methodText, runLine, type BenchResults, type CellResult } from './report.js';

/** Sources live in bench/, the compiled script in build/bench/: the README is two levels up. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const README_PATH = join(ROOT, 'README.md');
export const LATEST_PATH = join(ROOT, 'bench', 'results', 'latest.json');

/** The regions of the README this script writes, by name. */
export type Regions = Readonly<Record<'run' | 'table' | 'targets' | 'tree' | 'drivers', string>>;

const ratio = (n: number): string => `${n.toFixed(2)}×`;

/** The README's benchmark figures from `results`, region by region. */
export function readmeRegions(results: BenchResults): Regions {
  const { meta, cells, targets } = results;
  const top = Math.max(...meta.delays);
  const cell = (scenario: ScenarioName, impl: ImplName, delayMs = top): CellResult | undefined =>
    cells.find((c) => c.scenario === scenario && c.impl === impl && c.delayMs === delayMs);
  const ms = (c: CellResult | undefined): string => (c === undefined ? '(not measured)' : `${fmtMs(c.wallMs.median)} ms`);

  const held = targets.filter((t) => t.held === true);
  const missed = targets.filter((t) => t.held === false);
  const floorRatios = cells
    .filter((c) => c.impl === 'floor-resolvers' && (c.scenario === 'tree' || c.scenario === 'batch'))
    .flatMap((c) => {
      const floor = cell(c.scenario, 'floor', c.delayMs);
      return floor === undefined ? [] : [c.wallMs.median / floor.wallMs.median];
    });
  const targetLines = [
    'What the targets of the benchmark say (`bench/results/latest.md` has each with all its figures):',
    '',
    ...held.map((t) => `- **Held** (${t.id}): ${t.title}.`),
    ...missed.flatMap((t) => [`- **Missed** (${t.id}): ${t.title}.`, ...t.details.filter((d) => d.includes('MISSED')).map((d) => `  - ${d}`)]),
    ...targets.filter((t) => t.held === null).map((t) => `- **Not measured** (${t.id}): ${t.title}.`),
  ];
  if (floorRatios.length > 0) {
    targetLines.push(
      '',
      'For reference, the resolver-shaped code with no library at all (“floor + resolver calls”) takes ' +
        `${ratio(Math.min(...floorRatios))}–${ratio(Math.max(...floorRatios))} the time of the raw-SQLite floor (tree and batch job, every delay).`,
    );
  }

  const trip = cell('tree', 'adbv-tree');
  const treeRows = trip?.rows ?? cell('tree', 'adbv-cold')?.rows;
  const rows = treeRows === undefined ? '(not measured)' : treeRows.toLocaleString('en-US');
  const tree =
    `- **Measured** (\`npm run bench\`, the tree of ${rows} rows, cold, cache written): at +${top} ms per round trip one trip ` +
    `takes ${ms(trip)} against ${ms(cell('tree', 'adbv-levels'))} level by level and ${ms(cell('tree', 'adbv-cold'))} resolved field by ` +
    `field; at 0 ms, ${ms(cell('tree', 'adbv-tree', 0))} against ${ms(cell('tree', 'adbv-levels', 0))}. A hand-written JOIN that writes no ` +
    `cache takes ${ms(cell('tree', 'join'))} and a hand-written DataLoader ${ms(cell('tree', 'dataloader'))}: the load also writes the ` +
    `${rows} rows and their marks to the cache in one transaction, committed right after it answers (\`cacheWrites: 'after-answer'\`).`;

  const pair = (scenario: ScenarioName, a: ImplName, b: ImplName): string => {
    const [x, y] = [cell(scenario, a), cell(scenario, b)];
    return x === undefined || y === undefined ? '(not measured)' : `${fmtMs(x.wallMs.median)} → ${fmtMs(y.wallMs.median)} ms`;
  };
  const drivers =
    `From the same benchmark run (wall time, median, at +${top} ms; sqlite3 → better-sqlite3): point lookups warm ` +
    `${pair('point', 'adbv-warm', 'adbv-warm-bsq')}; the batch job warm ${pair('batch', 'adbv-warm', 'adbv-warm-bsq')}, cold ` +
    `${pair('batch', 'adbv-cold', 'adbv-cold-bsq')}; the tree OFFLINE ${pair('tree', 'adbv-offline', 'adbv-offline-bsq')}, cold ` +
    `${pair('tree', 'adbv-cold', 'adbv-cold-bsq')}.`;

  return {
    run: `The latest run: ${runLine(meta)} ${methodText(meta, cells)}`,
    table: [`At +${top} ms per round trip:`, '', markdownTable(cells.filter((c) => c.delayMs === top || c.impl === 'plain'))].join('\n'),
    targets: targetLines.join('\n'),
    tree,
    drivers,
  };
}

/**
 * `readme` with each region's text replaced by `regions`' (the markers kept). A region whose markers are
 * missing is an error naming it: the README must show every figure.
 */
export function fillRegions(readme: string, regions: Regions): string {
  let out = readme;
  for (const [name, text] of Object.entries(regions)) {
    const start = `<!-- bench:${name} -->\n`;
    const end = `<!-- /bench:${name} -->`;
    const a = out.indexOf(start);
    const b = out.indexOf(end, a + start.length);
    if (a < 0 || b < 0) throw new Error(`README.md has no region ${JSON.stringify(name)}: expected lines ${start.trim()} … ${end}`);
    out = `${out.slice(0, a + start.length)}${text}\n${out.slice(b)}`;
  }
  return out;
}

/** Rewrites the README's figures from `results` (default: the committed latest.json); true when it changed. */
export function writeReadmeFigures(results: BenchResults = JSON.parse(readFileSync(LATEST_PATH, 'utf8')) as BenchResults): boolean {
  const readme = readFileSync(README_PATH, 'utf8');
  const filled = fillRegions(readme, readmeRegions(results));
  if (filled === readme) return false;
  writeFileSync(README_PATH, filled);
  return true;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  console.log(writeReadmeFigures() ? 'README.md: rewrote the benchmark figures from bench/results/latest.json' : 'README.md already shows bench/results/latest.json');
}
