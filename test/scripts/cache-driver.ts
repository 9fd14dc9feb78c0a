/**
 * `npm run test:better-sqlite3`: runs every test file whose caches come from the test helper `testCache`
 * (test/helpers/cache-driver.ts) with ADBV_TEST_CACHE_DRIVER=better-sqlite3, so the same behaviours are
 * checked on the optional driver. `npm test` runs them on the default driver, and test/cache-driver.test.ts
 * runs the essentials on both.
 *
 *   npm run test:better-sqlite3              # all those files
 *   npm run test:better-sqlite3 -- fidelity  # files whose name contains "fidelity"
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const driver = process.env.ADBV_TEST_CACHE_DRIVER || 'better-sqlite3';
const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.js') && (filters.length === 0 || filters.some((x) => f.includes(x))))
  .sort()
  .map((f) => join(testDir, f))
  .filter((f) => readFileSync(f, 'utf8').includes('/helpers/cache-driver.js'));
if (files.length === 0) throw new Error(`no test file in ${testDir} that uses testCache matches ${filters.join(', ')}`);

console.log(`# cache driver ${driver}: running ${files.length} test files`);
process.exitCode = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    stdio: 'inherit',
    env: { ...process.env, ADBV_TEST_CACHE_DRIVER: driver },
  });
  child.on('exit', (status, signal) => resolve(status ?? (signal === null ? 1 : 128)));
});
