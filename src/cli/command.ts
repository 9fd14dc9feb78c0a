import { parseArgs } from 'node:util';
import { EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { UsageError } from './usage-error.js';

/** An option of a command, as `node:util` parseArgs takes it, with the line `--help` prints for it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Shown after the option name in `--help`, e.g. `URL`. */
  readonly value?: string;
  readonly description: string;
  readonly required?: boolean;
}

/** The option values a command receives. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** One subcommand of `asyncdbview`. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage line after `asyncdbview NAME`, e.g. `--origin URL`. */
  readonly usage: string;
  /** What it does, a paragraph or more. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /**
   * A positional argument the command takes in place of one of its string options (`asyncdbview changes
   * CACHE_FILE` for `--cache CACHE_FILE`): one of the two is required, not both.
   */
  readonly positional?: { readonly name: string; readonly option: string };
  run(values: OptionValues): Promise<ExitCode>;
}

/** The `--help` text of a command: usage, description, options and the exit codes. */
export function commandHelp(command: Command): string {
  const rows = Object.entries({ ...command.options, help: { type: 'boolean', short: 'h', description: 'show this help' } as OptionSpec }).map(([name, o]) => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.value === undefined ? '' : ` ${o.value}`}`;
    return [flag, `${o.description}${o.required === true ? ' (required)' : ''}`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `Usage: asyncdbview ${command.name} ${command.usage}`,
    '',
    command.description,
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    '',
    EXIT_CODES_HELP,
    '',
  ].join('\n');
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing value or a stray argument is a
 * `UsageError`, and so is a missing required option. Returns undefined when `--help` was asked.
 */
export function parseCommandArgs(command: Command, args: readonly string[]): OptionValues | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(command.options)) options[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  let values: OptionValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: command.positional !== undefined }) as {
      values: OptionValues;
      positionals: string[];
    });
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message.split('\n')[0] as string);
    throw error;
  }
  if (values.help === true) return undefined;
  const positional = command.positional;
  if (positional !== undefined) {
    if (positionals.length > 1) throw new UsageError(`one ${positional.name} expected, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`);
    const given = positionals[0];
    if (given !== undefined && values[positional.option] !== undefined) throw new UsageError(`give ${positional.name} or --${positional.option}, not both`);
    if (given !== undefined) values[positional.option] = given;
    if (values[positional.option] === undefined || values[positional.option] === '') {
      throw new UsageError(`${positional.name} is required: asyncdbview ${command.name} ${positional.name} (or --${positional.option} ${positional.name})`);
    }
  }
  for (const [name, o] of Object.entries(command.options)) {
    if (o.required === true && (values[name] === undefined || values[name] === '')) throw new UsageError(`--${name} is required`);
  }
  return values;
}

/** A string option's value (required options are checked by `parseCommandArgs`). */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A positive integer option, or `fallback` when absent. */
export function positiveIntOption(values: OptionValues, name: string, fallback: number): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}
