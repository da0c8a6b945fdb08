/**
 * Bundles the reference app's review console views (TypeScript) into ES modules with esbuild:
 * `<outDir>/views/audiogram.js`. The app's stack and the local console run call it at synth / start;
 * config.json lists the result as `{ "name": "Audiogram", "module": "views/audiogram.js" }`.
 */
import * as path from 'node:path';
import { buildSync } from 'esbuild';

/** The reference app's views: name shown in the console, source, module path beside the console. */
export const REFERENCE_VIEWS = [
  { name: 'Audiogram', source: path.join(__dirname, 'audiogram-view.ts'), module: 'views/audiogram.js' },
] as const;

/** Writes every view under `outDir`; returns the config.json `views` entries. */
export function buildViews(outDir: string): Array<{ name: string; module: string }> {
  for (const v of REFERENCE_VIEWS) {
    buildSync({
      entryPoints: [v.source],
      outfile: path.join(outDir, v.module),
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
  return REFERENCE_VIEWS.map((v) => ({ name: v.name, module: v.module }));
}
