import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Root of the package (build/test/helpers/ → ../../..), where `asyncdbview` resolves to dist/ by self-reference. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Type-checks `source` as if it were the file `test/<name>.ts`, with the test tsconfig, and returns the
 * error messages: for type checks that must not break the build of the whole suite when they fail.
 * `overrides` replace compiler options of the test tsconfig.
 */
export function typeErrors(source: string, name = '__probe__', overrides: ts.CompilerOptions = {}): string[] {
  const configPath = join(ROOT, 'tsconfig.test.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, { ...overrides, noEmit: true }, configPath);
  const file = join(ROOT, 'test', `${name}.ts`);
  const host = ts.createCompilerHost(parsed.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, lang, ...rest) =>
    fileName === file ? ts.createSourceFile(fileName, source, lang) : getSourceFile.call(host, fileName, lang, ...rest);
  host.fileExists = (fileName) => fileName === file || fileExists.call(host, fileName);
  host.readFile = (fileName) => (fileName === file ? source : readFile.call(host, fileName));
  const program = ts.createProgram({ rootNames: [file], options: parsed.options, host });
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => {
      const pos = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${pos === undefined ? '' : `${pos.line + 1}:${pos.character + 1} `}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}
