// Vitest global setup for the integration tests: src/ and the CLI test entry transpiled to plain
// JavaScript, so the tests that run the CLI as a real process (test/helpers/cli-run.ts) start it with
// plain node instead of through tsx's loader, which costs about 0.35 s per process on the 2-core
// machine; the suite starts the CLI a few hundred times. Transpiling only (TypeScript's
// transpileModule): type checking is `npm run check`'s. The output goes to
// .test-build/<hash of the sources>/, so runs at the same time share it and a changed source gets a
// directory of its own; directories unused for an hour are removed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the transpiled sources are (empty when none were made). */
    transpiledRoot: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUILD_ROOT = path.join(ROOT, '.test-build');
const ENTRIES = ['test/helpers/cli-entry.ts'];
const STALE_AFTER_MS = 3_600_000;
const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  verbatimModuleSyntax: true,
};

function sourceFiles(): string[] {
  const sources = fs
    .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join('src', file));
  return [...sources, ...ENTRIES].sort();
}

function transpile(files: string[], contents: string[], target: string): void {
  files.forEach((file, i) => {
    const output = ts.transpileModule(contents[i]!, { compilerOptions: COMPILER_OPTIONS, fileName: file });
    const destination = path.join(target, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.writeFileSync(destination, output.outputText);
  });
  // `"type": "module"` for the .js files, and src/cli/version.ts reads the version from it.
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(target, 'package.json'));
}

function removeStale(keep: string): void {
  for (const name of fs.readdirSync(BUILD_ROOT)) {
    const dir = path.join(BUILD_ROOT, name);
    if (dir === keep) continue;
    const age = Date.now() - fs.statSync(dir).mtimeMs;
    if (age > STALE_AFTER_MS) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default function setup(project: TestProject): void {
  const files = sourceFiles();
  const hash = crypto.createHash('sha256');
  const contents = files.map((file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    hash.update(file).update('\0').update(text).update('\0');
    return text;
  });
  const dir = path.join(BUILD_ROOT, hash.digest('hex').slice(0, 16));
  if (fs.existsSync(dir)) {
    // In use again: not stale for another run's clean-up.
    const now = new Date();
    fs.utimesSync(dir, now, now);
  } else {
    const temporary = `${dir}.${process.pid}.tmp`;
    transpile(files, contents, temporary);
    try {
      fs.renameSync(temporary, dir);
    } catch {
      // A run at the same time made the same directory first.
      fs.rmSync(temporary, { recursive: true, force: true });
    }
  }
  removeStale(dir);
  project.provide('transpiledRoot', dir);
}
