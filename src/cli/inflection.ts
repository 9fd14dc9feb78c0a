/** English singular and plural of one word, for the names `introspect` generates (`album` ↔ `albums`). */

/** Irregular singular → plural, lower case. */
const IRREGULAR: Readonly<Record<string, string>> = {
  person: 'people', man: 'men', woman: 'women', child: 'children', mouse: 'mice', goose: 'geese',
  foot: 'feet', tooth: 'teeth', ox: 'oxen', criterion: 'criteria', phenomenon: 'phenomena',
  leaf: 'leaves', half: 'halves', wolf: 'wolves', shelf: 'shelves', calf: 'calves', thief: 'thieves',
  loaf: 'loaves', self: 'selves', elf: 'elves', knife: 'knives', life: 'lives', wife: 'wives',
  hero: 'heroes', potato: 'potatoes', tomato: 'tomatoes', echo: 'echoes', veto: 'vetoes', quiz: 'quizzes',
};
const IRREGULAR_PLURAL: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(IRREGULAR).map(([s, p]) => [p, s]));

/** Words whose plural is the word itself. */
const UNCOUNTABLE: ReadonlySet<string> = new Set([
  'data', 'metadata', 'media', 'news', 'series', 'species', 'information', 'equipment', 'software', 'hardware',
  'feedback', 'sheep', 'fish', 'deer', 'staff', 'music', 'money', 'rice', 'furniture', 'luggage', 'aircraft',
]);

/** `result` with the first letter of `word` kept upper case when it was. */
function withCaseOf(word: string, result: string): string {
  return word.charAt(0) === word.charAt(0).toUpperCase() ? result.charAt(0).toUpperCase() + result.slice(1) : result;
}

/** The plural of one word: `album` → `albums`, `category` → `categories`, `box` → `boxes`, `person` → `people`. */
export function pluralWord(word: string): string {
  const w = word.toLowerCase();
  if (w === '' || UNCOUNTABLE.has(w) || IRREGULAR_PLURAL[w] !== undefined) return word;
  const irregular = IRREGULAR[w];
  if (irregular !== undefined) return withCaseOf(word, irregular);
  const add = (suffix: string, cut = 0) => `${word.slice(0, word.length - cut)}${suffix}`;
  if (/[^aeiou]y$/.test(w)) return add('ies', 1);
  if (/[^aeiou]is$/.test(w)) return add('es', 2); // analysis → analyses
  if (/(s|x|z|ch|sh)$/.test(w)) return add('es');
  return add('s');
}

/** The singular of one word, by the common rules: `categories` → `category`, `boxes` → `box`, `posts` → `post`. */
export function singularWord(word: string): string {
  const w = word.toLowerCase();
  if (UNCOUNTABLE.has(w)) return word;
  const irregular = IRREGULAR_PLURAL[w];
  if (irregular !== undefined) return withCaseOf(word, irregular);
  if (w.length <= 2 || IRREGULAR[w] !== undefined || /(ss|us|is)$/.test(w)) return word;
  if (w.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (w.endsWith('yses')) return `${word.slice(0, -2)}is`; // analyses → analysis
  if (/(ss|x|ch|sh|z|[^aeiou]us)es$/.test(w)) return word.slice(0, -2); // boxes → box, statuses → status
  if (w.endsWith('s')) return word.slice(0, -1);
  return word;
}

/** Where the last word of a camelCase, PascalCase or snake_case name starts. */
function lastWordStart(name: string): number {
  for (let i = name.length - 1; i > 0; i--) {
    const ch = name.charAt(i);
    if (ch === '_') return i + 1;
    if (ch >= 'A' && ch <= 'Z' && name.charAt(i - 1) !== '_' && !(name.charAt(i - 1) >= 'A' && name.charAt(i - 1) <= 'Z')) return i;
  }
  return 0;
}

/** The plural of a name, by its last word: `invoiceLine` → `invoiceLines`, `mediaType` → `mediaTypes`. */
export function plural(name: string): string {
  const at = lastWordStart(name);
  return name.slice(0, at) + pluralWord(name.slice(at));
}

/** The singular of a name, by its last word: `invoice_lines` → `invoice_line`. */
export function singular(name: string): string {
  const at = lastWordStart(name);
  return name.slice(0, at) + singularWord(name.slice(at));
}
