/**
 * The answer-first targets (issue 16), judged from measured cells: each a ratio of two cells of the same
 * run, wall time (median) with user+system CPU beside it.
 *
 *   node build/bench/answer-first-targets.js [bench/results/latest.json]   # prints them for a results file
 */
import { readFileSync } from 'node:fs';
import { lockstepIdeal, makePlans, type ImplName, type ScenarioName } from './common.js';
import { implementations } from './implementations.js';
import { fmtMs, SCENARIO_LABELS, type BenchResults, type CellResult, type Target } from './report.js';

/** The first id of these targets, after the older ones of `evaluateTargets`. */
const FIRST_ID = 6;

type Find = (scenario: ScenarioName, impl: ImplName, delayMs: number) => CellResult | undefined;

const mark = (ok: boolean): string => (ok ? 'held' : 'MISSED');

/** `a` against `b`: wall ratio, and the CPU ratio beside it where both have CPU. */
function ratioText(a: CellResult, b: CellResult): { wall: number; text: string } {
  const wall = a.wallMs.median / b.wallMs.median;
  const cpu = a.cpuMs !== undefined && b.cpuMs !== undefined ? ` (CPU ${fmtMs(a.cpuMs.median)} vs ${fmtMs(b.cpuMs.median)} ms = ${(a.cpuMs.median / b.cpuMs.median).toFixed(2)}×)` : '';
  return { wall, text: `${fmtMs(a.wallMs.median)} vs ${fmtMs(b.wallMs.median)} ms = ${wall.toFixed(2)}×${cpu}` };
}

/**
 * `impl` against `other` in `scenario` at each delay with a limit: held where the wall ratio is at most
 * the limit (`strict`: below it). Delays without a limit are shown for information.
 */
function compare(find: Find, delays: readonly number[], scenario: ScenarioName, impl: ImplName, other: ImplName, limits: Readonly<Record<number, number>>, strict = false): { checks: boolean[]; details: string[] } {
  const checks: boolean[] = [];
  const details: string[] = [];
  for (const d of delays) {
    const a = find(scenario, impl, d);
    const b = find(scenario, other, d);
    if (a === undefined || b === undefined) continue;
    const { wall, text } = ratioText(a, b);
    const limit = limits[d];
    const label = `${SCENARIO_LABELS[scenario]}, ${implementations[impl].label} vs ${implementations[other].label}, +${d} ms: ${text}`;
    if (limit === undefined) details.push(`(info) ${label}`);
    else {
      const ok = strict ? wall < limit : wall <= limit;
      checks.push(ok);
      details.push(`${label} (limit ${strict ? '<' : '≤'} ${limit}×): ${mark(ok)}`);
    }
  }
  return { checks, details };
}

function target(id: number, title: string, parts: readonly { checks: boolean[]; details: string[] }[]): Target {
  const checks = parts.flatMap((p) => p.checks);
  const details = parts.flatMap((p) => p.details);
  if (checks.length === 0) details.push('not measured in this run');
  return { id, title, held: checks.length === 0 ? null : checks.every(Boolean), details };
}

/** Issue 16's six targets over the cells of one run (`batchLockstep`: the batch job's lock-step statement count). */
export function answerFirstTargets(cells: readonly CellResult[], delays: readonly number[], batchLockstep: number): Target[] {
  const find: Find = (scenario, impl, delayMs) => cells.find((c) => c.scenario === scenario && c.impl === impl && c.delayMs === delayMs);
  const all = (limit: number): Record<number, number> => Object.fromEntries(delays.map((d) => [d, limit]));
  const out: Target[] = [];
  let id = FIRST_ID;

  out.push(target(id++, 'answer first: tree, cold, FRESHEN, field by field: ≤1.25× the hand-written DataLoader at +0 ms, ≤1.1× at +5 and +20 ms', [
    compare(find, delays, 'tree', 'adbv-cold', 'dataloader', { 0: 1.25, 5: 1.1, 20: 1.1 }),
  ]));

  out.push(target(id++, 'answer first: tree, cold, one trip: ≤1.3× the hand-written JOIN at +20 ms, and faster than the hand-written DataLoader at +5 and +20 ms', [
    compare(find, delays, 'tree', 'adbv-tree', 'join', { 20: 1.3 }),
    compare(find, delays, 'tree', 'adbv-tree', 'dataloader', { 5: 1, 20: 1 }, true),
  ]));

  out.push(target(id++, 'answer first: point lookups, cold: ≤1.2× the hand-written DataLoader at +0 ms', [
    compare(find, delays, 'point', 'adbv-cold', 'dataloader', { 0: 1.2 }),
  ]));

  out.push(target(id++, 'answer first: warm and OFFLINE (default driver), tree and batch job: faster than the hand-written DataLoader at +0 ms, and ≤1.5× "floor + resolver calls"', (['tree', 'batch'] as const).flatMap((s) =>
    (['adbv-warm', 'adbv-offline'] as const).flatMap((impl) => [
      compare(find, delays, s, impl, 'dataloader', { 0: 1 }, true),
      compare(find, delays, s, impl, 'floor-resolvers', { 0: 1.5 }),
    ]),
  )));

  {
    const checks: boolean[] = [];
    const details: string[] = [];
    for (const d of delays) {
      const c = find('batch', 'adbv-cold', d);
      if (c === undefined) continue;
      const exact = c.samples.every((s) => s.originStatements === batchLockstep);
      checks.push(exact);
      details.push(`+${d} ms: origin statements ${c.samples.map((s) => s.originStatements).join(', ')} per run vs the lock-step ${batchLockstep}: ${mark(exact)}`);
    }
    const mikro = compare(find, delays, 'batch', 'adbv-cold', 'mikro', all(1), true);
    const plain = cells.find((c) => c.impl === 'plain');
    for (const d of delays) {
      const c = find('batch', 'adbv-cold', d);
      if (c === undefined || plain === undefined) continue;
      const r = c.maxRssKiB / plain.maxRssKiB;
      checks.push(r <= 2);
      details.push(`+${d} ms: peak RSS ${(c.maxRssKiB / 1024).toFixed(1)} vs plain objects ${(plain.maxRssKiB / 1024).toFixed(1)} MiB = ${r.toFixed(2)}× (limit ≤ 2×): ${mark(r <= 2)}`);
    }
    out.push(target(id++, 'answer first: batch job, cold: origin statements at the lock-step count, ahead of MikroORM at every delay, peak RSS ≤2× plain objects', [{ checks, details }, mikro]));
  }

  {
    const checks: boolean[] = [];
    const details: string[] = [];
    for (const d of delays) {
      const a = find('tree', 'adbv-cold', d);
      const b = find('tree', 'dataloader', d);
      if (a?.cpuMs === undefined || b?.cpuMs === undefined) continue;
      const r = a.cpuMs.median / b.cpuMs.median;
      checks.push(r <= 1.5);
      details.push(`+${d} ms: tree cold CPU ${fmtMs(a.cpuMs.median)} vs DataLoader ${fmtMs(b.cpuMs.median)} ms = ${r.toFixed(2)}× (limit ≤ 1.5×): ${mark(r <= 1.5)}`);
    }
    out.push(target(id++, "answer first: CPU (user+system, all threads) of the cold tree, field by field, ≤1.5× the hand-written DataLoader's", [{ checks, details }]));
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const file = process.argv[2] ?? new URL('../../bench/results/latest.json', import.meta.url).pathname;
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults & { meta: { seed?: number } };
  const lockstep = lockstepIdeal(makePlans(results.meta.seed ?? 42).batch);
  console.log(`${file} (asyncdbview ${results.meta.library}, ${results.meta.date}):`);
  for (const t of answerFirstTargets(results.cells, results.meta.delays, lockstep)) {
    console.log([`(${t.id}) ${t.held === null ? 'NOT MEASURED' : t.held ? 'HELD' : 'MISSED'} — ${t.title}`, ...t.details.map((d) => `      ${d}`)].join('\n'));
  }
}
