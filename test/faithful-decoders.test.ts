// The origin-side decoders of dates and JSON numbers, value by value.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Root of the package (build/test/ → ../..). */
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Decoders {
  parseSqlDateStrict(text: string): Date | null | undefined;
  jsonDecoder(where: string, parsed: boolean): (v: unknown) => unknown;
  datetimeDecoder(where: string): (v: unknown) => unknown;
}

describe('faithful decoders', () => {
  let d: Decoders;
  before(async () => {
    d = (await import(pathToFileURL(join(root, 'dist', 'origin', 'faithful-decoders.js')).href)) as Decoders;
  });

  it('every day of the calendar from 0001 to 9999 (sampled every 7th day, all of Feb) reads as its UTC instant; days it lacks are null', () => {
    let days = 0;
    let lacking = 0;
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    for (let year = 1; year <= 9999; year += year < 2100 ? 1 : 37) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 0; day <= 31; day += month === 2 ? 1 : 7) {
          const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} 13:05:09.250`;
          const want = new Date(0);
          want.setUTCFullYear(year, month - 1, day);
          want.setUTCHours(13, 5, 9, 250);
          const exists = day >= 1 && want.getUTCDate() === day && want.getUTCMonth() === month - 1;
          const got = d.parseSqlDateStrict(text);
          if (exists) assert.equal(got?.getTime(), want.getTime(), text);
          else {
            assert.equal(got, null, text);
            lacking++;
          }
          days++;
        }
      }
    }
    assert.ok(days > 100_000 && lacking > 2_000, `${days} dates, ${lacking} the calendar lacks`);
  });

  it('zero dates, zero parts, out-of-range times are null; fractions keep their milliseconds; other shapes are not taken', () => {
    const cases: [string, string | null | undefined][] = [
      ['0000-00-00 00:00:00', null], ['0000-00-00', null], ['2024-00-15 10:00:00', null], ['2024-02-00', null], ['2024-02-30 00:00:00', null],
      ['2023-02-29', null], ['2100-02-29', null], ['2000-02-29', '2000-02-29T00:00:00.000Z'], ['2024-01-01 24:00:00', null],
      ['2024-01-01 23:60:00', null], ['2024-01-01 23:59:60', null], ['0000-01-01 00:00:00', '0000-01-01T00:00:00.000Z'],
      ['0099-12-31 23:59:59', '0099-12-31T23:59:59.000Z'], ['9999-12-31 23:59:59.999999', '9999-12-31T23:59:59.999Z'],
      ['2024-06-01 10:11:12.5', '2024-06-01T10:11:12.500Z'], ['2024-06-01 10:11:12.05', '2024-06-01T10:11:12.050Z'],
      ['2024-06-01 10:11:12.000999', '2024-06-01T10:11:12.000Z'], ['2024-06-01T10:11:12', '2024-06-01T10:11:12.000Z'],
      ['2024-06-01 10:11:12Z', undefined], ['2024-06-01 10:11:12.', undefined], ['2024-6-01', undefined], ['soon', undefined], ['', undefined],
    ];
    for (const [text, want] of cases) {
      const got = d.parseSqlDateStrict(text);
      assert.equal(got === null || got === undefined ? got : got.toISOString(), want, text);
    }
  });

  it('the datetime decoder: SQL text strictly, other date text and ms as before, a driver\'s invalid Date as null, anything else a TypeError', () => {
    const dt = d.datetimeDecoder('X.d');
    assert.equal(dt('0000-00-00 00:00:00'), null);
    assert.equal((dt('2024-06-01T12:00:00+05:00') as Date).toISOString(), '2024-06-01T07:00:00.000Z');
    assert.equal((dt(1717243200000) as Date).getTime(), 1717243200000);
    assert.equal(dt(new Date(Number.NaN)), null);
    assert.throws(() => dt('soon'), /X\.d: "soon" is not a date/);
  });

  it('JSON: -0 in every spelling is 0, numbers beyond the double range are refused, the rest parse as JSON.parse does', () => {
    for (const parsed of [false, true]) {
      const json = d.jsonDecoder('X.j', parsed);
      // The driver-parsed form is what mysql2 gives without jsonStrings: JSON.parse of the same text.
      const read = (text: string) => json(parsed ? JSON.parse(text) : text);
      for (const zero of ['-0', '-0.0', '-0e5', '-0.000E-2', '-1e-400', `-0.${'0'.repeat(400)}1`, '[-0]', '{"a": {"b": [-0.0]}}']) {
        const v = read(zero);
        const found: unknown[] = [];
        JSON.stringify(v, (_k, x) => (typeof x === 'number' && found.push(x), x));
        assert.ok(found.length === 1 && Object.is(found[0], 0), `${zero.slice(0, 20)} (parsed: ${parsed}) gives +0, got ${String(found[0])}`);
      }
      for (const over of ['1e400', '-1e400', '[1, {"x": -1e999}]', `1${'0'.repeat(309)}`, `${'9'.repeat(60)}.${'9'.repeat(60)}e250`, '1.8e308']) {
        assert.throws(() => read(over), /X\.j: a JSON number is beyond the range of a JavaScript number.*'text'/, `${over.slice(0, 20)} (parsed: ${parsed})`);
      }
      for (const same of ['-0.5', '"2024-05-01"', '"-0"', '"1e400"', '1e308', '5e-324', '12345678901234567890', '{"name": "e-0"}', '[1, "two", null, true]', 'null']) {
        assert.deepStrictEqual(read(same), JSON.parse(same), same);
      }
    }
    assert.throws(() => d.jsonDecoder('X.j', false)('{oops'), /X\.j: "\{oops" is not JSON/);
  });
});
