// The README's benchmark figures are the committed results' (bench/results/latest.json), as bench/readme.ts
// writes them: none can drift from the results.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fillRegions, LATEST_PATH, README_PATH, readmeRegions } from '../bench/readme.js';
import type { BenchResults } from '../bench/report.js';

const results = JSON.parse(readFileSync(LATEST_PATH, 'utf8')) as BenchResults;
const readme = readFileSync(README_PATH, 'utf8');

describe('README benchmark figures', () => {
  it('are those bench/readme.ts writes from the committed bench/results/latest.json (refresh: npm run bench:readme)', () => {
    assert.equal(fillRegions(readme, readmeRegions(results)), readme);
  });

  it('quote the run the results record, and its table at the largest delay', () => {
    const regions = readmeRegions(results);
    assert.ok(regions.run.includes(`asyncdbview ${results.meta.library}`) && regions.run.includes(results.meta.date.slice(0, 10)), regions.run);
    const top = Math.max(...results.meta.delays);
    const rows = regions.table.split('\n').filter((l) => l.startsWith('| ('));
    assert.equal(rows.length, results.cells.filter((c) => c.delayMs === top || c.impl === 'plain').length);
    for (const t of results.targets.filter((x) => x.held === false)) assert.ok(regions.targets.includes(`**Missed** (${t.id})`), `target ${t.id}`);
  });

  it('stand between markers, and the Benchmarks prose outside them quotes no measurement', () => {
    const start = readme.indexOf('\n## Benchmarks\n');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const prose = section.replace(/<!-- bench:(\w+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g, '');
    // What remains may name the delays and run counts the bench is configured with, but no timing or ratio.
    assert.doesNotMatch(prose, /\d+(\.\d+)?\s*×|\d+(\.\d+)?\s*(ms|MiB)\b(?! to each round trip)/);
  });
});
