/// <reference lib="dom" />
/**
 * Views: the generic table view (always there) and the views listed in config.json, loaded with
 * a dynamic import from the console's own origin (CSP `script-src 'self'`).
 */
import { h } from './dom';
import { flatten, ViewEntry } from './model';
import type { ReviewView, ViewContext } from './view-contract';

export interface LoadedView {
  readonly name: string;
  readonly view: ReviewView;
}

/** The record as a table of paths and values. */
export const GENERIC_VIEW: ReviewView = {
  matches: () => true,
  render(container: HTMLElement, record: unknown, context: ViewContext) {
    const rows = flatten(record);
    container.appendChild(h('table', { class: 'view-table' },
      h('caption', {}, `Record ${context.recordId}: ${rows.length} value(s)`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.path), h('td', {}, r.value)))),
    ));
  },
};

function asView(mod: unknown): ReviewView | undefined {
  const m = mod as { default?: unknown; matches?: unknown; render?: unknown };
  const candidate = (m && typeof m.default === 'object' && m.default !== null ? m.default : m) as Partial<ReviewView>;
  return candidate && typeof candidate.matches === 'function' && typeof candidate.render === 'function' ? candidate as ReviewView : undefined;
}

/**
 * Loads the configured views. A view that fails to load, or is not on the console's origin, is
 * left out and reported (the generic view still shows the record).
 */
export async function loadViews(entries: readonly ViewEntry[]): Promise<{ views: LoadedView[]; problems: string[] }> {
  const views: LoadedView[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const url = new URL(entry.module, document.baseURI);
    if (url.origin !== location.origin) {
      problems.push(`View "${entry.name}" is not on this origin and was not loaded.`);
      continue;
    }
    try {
      const view = asView(await import(/* @vite-ignore */ url.href));
      if (view) views.push({ name: entry.name, view });
      else problems.push(`View "${entry.name}" does not export matches() and render().`);
    } catch {
      problems.push(`View "${entry.name}" could not be loaded.`);
    }
  }
  return { views, problems };
}

/** The views that can show a record, the registered ones first, the table last. */
export function viewsFor(record: unknown, views: readonly LoadedView[]): LoadedView[] {
  const fitting = views.filter((v) => {
    try {
      return v.view.matches(record);
    } catch {
      return false;
    }
  });
  return [...fitting, { name: 'Table', view: GENERIC_VIEW }];
}
