/**
 * The contract of a review console view: an ES module served beside the console (same origin,
 * listed in config.json's `views`) whose default export — or the module itself — has:
 *
 *   export function matches(record: unknown): boolean;      // can this view show the record?
 *   export function render(container: HTMLElement, record: unknown, context: ViewContext): void;
 *
 * `render` builds DOM nodes inside `container` (already in the document, so it may measure its width) (never innerHTML with record values: the record
 * is data, not markup) and may return a function that cleans up when the view is closed. The
 * console's Content-Security-Policy allows no inline scripts or styles: set SVG presentation
 * attributes or classes, not `style` attributes. The console is served with the view, so a view
 * may use the console's CSS classes (see console.css: `.view-table`, `.visually-hidden`).
 */
export interface ViewContext {
  /** The record's id (content-derived, not a person's identifier). */
  readonly recordId: string;
  /** Why the record is in review (`low-confidence`, `disagreement`, `tie`, `all-abstained`, `quality-sample`). */
  readonly reasons: readonly string[];
  /** The machine's proposal, if any labeler voted. */
  readonly proposal?: { readonly className: string; readonly confidence: number };
  /** The label task's classes. */
  readonly classes: readonly string[];
}

/** What a view module exports. */
export interface ReviewView {
  matches(record: unknown): boolean;
  render(container: HTMLElement, record: unknown, context: ViewContext): void | (() => void);
}
