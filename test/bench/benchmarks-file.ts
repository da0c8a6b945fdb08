import * as fs from 'node:fs';
import * as path from 'node:path';

const FILE = path.resolve(__dirname, '..', '..', 'BENCHMARKS.md');

/**
 * Replace the `## <heading>` section of BENCHMARKS.md with `section` (which starts with that
 * heading), or append it; every other `##` section stays as it is. Returns the file's path.
 */
export function writeBenchmarkSection(heading: string, section: string): string {
  const existing = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const body = section.replace(/\n*$/, '\n');
  const start = existing.search(new RegExp(`^## ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'));
  let updated: string;
  if (start < 0) {
    updated = existing.replace(/\n*$/, '\n\n') + body;
  } else {
    const next = existing.slice(start + 1).search(/^## /m);
    updated = existing.slice(0, start) + body + (next < 0 ? '' : '\n' + existing.slice(start + 1 + next));
  }
  fs.writeFileSync(FILE, updated);
  return FILE;
}

/** The command-line arguments of a benchmark: `--name <number>` values and `--flag` switches. */
export interface BenchArgs {
  /** The number after `name`, or `fallback` when `name` is not given. */
  value(name: string, fallback: number): number;
  /** Whether `name` is given. */
  has(name: string): boolean;
}

/** Reads a benchmark's arguments (default: this process's). */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  return {
    value: (name, fallback) => {
      const i = argv.indexOf(name);
      return i >= 0 ? Number(argv[i + 1]) : fallback;
    },
    has: (name) => argv.includes(name),
  };
}
