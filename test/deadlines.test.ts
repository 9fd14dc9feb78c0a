// The origin gate's timeouts under one timer: every unsettled call fails, no settled one does, none early, and nothing holds the process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

interface DeadlinesLike {
  set(fail: () => void): () => void;
  clear(): void;
}
/** The internal class, from the built package (it is not exported). */
const DIST = new URL('../../dist/core/deadlines.js', import.meta.url);
const { Deadlines } = (await import(DIST.href)) as { Deadlines: new (ms: number, options?: { holdsProcess?: boolean }) => DeadlinesLike };

describe('Deadlines (the origin gate timeout)', () => {
  it('fails exactly the calls not settled in time, each no sooner than its timeout, in the order they were set', async () => {
    const ms = 40;
    const d = new Deadlines(ms);
    const failed: number[] = [];
    const late: number[] = [];
    const unsettled: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      let fire!: () => void;
      const begun = performance.now();
      const settle = d.set(() => {
        failed.push(i);
        if (performance.now() - begun < ms - 1) late.push(i);
        fire();
      });
      // Every third call never settles; the others settle at once, or a moment later, out of order.
      if (i % 3 === 0) {
        unsettled.push(i);
        waits.push(new Promise((resolve) => (fire = resolve)));
      } else if (i % 3 === 1) settle();
      else {
        fire = () => undefined;
        setTimeout(settle, (300 - i) % 7);
      }
      // Settling twice is harmless.
      if (i % 3 === 1) settle();
    }
    await Promise.all(waits);
    // One more full timeout: a settled call whose deadline has passed must still not fail.
    await new Promise((resolve) => setTimeout(resolve, ms * 2));
    assert.deepEqual(failed, unsettled);
    assert.deepEqual(late, [], 'no call failed before its timeout');
  });

  it('a pending deadline holds the process until it fails; once every call has settled, none does', () => {
    const script = (settle: boolean) =>
      `const { Deadlines } = await import(${JSON.stringify(DIST.href)});` +
      `const d = new Deadlines(${settle ? 60000 : 300}); const done = d.set(() => { console.log('failed'); });` +
      (settle ? 'done();' : '');
    // Settled: nothing is left to wait for, so the process ends at once (not after 60 s), and nothing failed.
    const settled = spawnSync(process.execPath, ['--input-type=module', '-e', script(true)], { encoding: 'utf8', timeout: 30000 });
    assert.equal(settled.status, 0, settled.stderr);
    assert.equal(settled.stdout, '');
    // Unsettled: the deadline alone keeps the process up until the call fails.
    const pending = spawnSync(process.execPath, ['--input-type=module', '-e', script(false)], { encoding: 'utf8', timeout: 30000 });
    assert.equal(pending.status, 0, pending.stderr);
    assert.equal(pending.stdout.trim(), 'failed');
    // holdsProcess: false (in-flight's grace period): an unsettled deadline does not keep the process up.
    const loose = spawnSync(process.execPath, ['--input-type=module', '-e', script(false).replace('new Deadlines(300)', 'new Deadlines(60000, { holdsProcess: false })')], { encoding: 'utf8', timeout: 30000 });
    assert.equal(loose.status, 0, loose.stderr);
    assert.equal(loose.stdout, '');
  });

  it('clear() drops every deadline: nothing fails afterwards', async () => {
    const d = new Deadlines(20);
    let failures = 0;
    for (let i = 0; i < 10; i++) d.set(() => failures++);
    d.clear();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(failures, 0);
  });
});
