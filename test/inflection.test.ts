// The small English pluralizer `introspect` names hasMany and manyToMany relations with.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/cli.js';

type Inflection = {
  plural(name: string): string;
  singular(name: string): string;
  pluralWord(word: string): string;
  singularWord(word: string): string;
};
const { plural, singular, pluralWord, singularWord } = (await import(pathToFileURL(join(ROOT, 'dist', 'cli', 'inflection.js')).href)) as Inflection;

/** Singular → plural pairs, each checked both ways. */
const PAIRS: readonly (readonly [string, string])[] = [
  ['album', 'albums'], ['track', 'tracks'], ['invoice', 'invoices'], ['employee', 'employees'],
  ['category', 'categories'], ['company', 'companies'], ['day', 'days'], ['key', 'keys'], ['boy', 'boys'],
  ['box', 'boxes'], ['tax', 'taxes'], ['match', 'matches'], ['dish', 'dishes'], ['address', 'addresses'], ['class', 'classes'],
  ['status', 'statuses'], ['bus', 'buses'], ['analysis', 'analyses'], ['quiz', 'quizzes'],
  ['person', 'people'], ['child', 'children'], ['man', 'men'], ['woman', 'women'], ['mouse', 'mice'],
  ['leaf', 'leaves'], ['knife', 'knives'], ['life', 'lives'], ['hero', 'heroes'], ['potato', 'potatoes'],
  ['photo', 'photos'], ['video', 'videos'], ['radio', 'radios'], ['roof', 'roofs'], ['chief', 'chiefs'],
  ['news', 'news'], ['series', 'series'], ['data', 'data'], ['media', 'media'], ['sheep', 'sheep'], ['staff', 'staff'],
];

describe('pluralizer', () => {
  it('gives the plural of a word and back its singular', () => {
    for (const [one, many] of PAIRS) {
      assert.equal(pluralWord(one), many, `plural of ${one}`);
      assert.equal(singularWord(many), one, `singular of ${many}`);
    }
  });

  it('keeps a leading capital and inflects the last word of a camelCase, PascalCase or snake_case name', () => {
    assert.equal(pluralWord('Person'), 'People');
    assert.equal(plural('invoiceLine'), 'invoiceLines');
    assert.equal(plural('mediaType'), 'mediaTypes');
    assert.equal(plural('PlaylistCategory'), 'PlaylistCategories');
    assert.equal(plural('blog_entry'), 'blog_entries');
    assert.equal(plural('salesPerson'), 'salesPeople');
    assert.equal(singular('invoice_lines'), 'invoice_line');
    assert.equal(singular('BlogEntries'), 'BlogEntry');
  });

  it('leaves a plural or uncountable word as it is, and does not crash on odd input', () => {
    assert.equal(pluralWord('people'), 'people');
    assert.equal(pluralWord('children'), 'children');
    assert.equal(pluralWord(''), '');
    assert.equal(plural('x'), 'xes');
    assert.equal(singularWord('as'), 'as');
  });
});
