/// <reference lib="dom" />
/**
 * The review console: sign-in (Cognito hosted UI, code flow with PKCE, reviewers only), the
 * queue, one record at a time rendered by a view, the machine labels, and the reviewer's answer
 * (buttons or keys 1..9), skip, and the session's progress. Nothing is stored in the browser but
 * the session's tokens (sessionStorage); progress lives in memory.
 */
import { ApiError, ReviewApi } from './api';
import { completeSignIn, currentTokens, forgetTokens, signIn, signOut } from './auth';
import { append, clear, h } from './dom';
import {
  ageText, classForKey, ConsoleConfig, isReviewer, jwtClaims, parseConfig, percent, queueOrder, reasonText, ReviewItem,
} from './model';
import { LoadedView, loadViews, viewsFor } from './views';

interface Session {
  readonly config: ConsoleConfig;
  readonly api: ReviewApi;
  readonly views: LoadedView[];
  queue: ReviewItem[];
  more: boolean;
  /** Pending reviews of every reviewer, as the API counted them (undefined: not given). */
  total?: number;
  readonly answered: Map<string, string>;
  readonly skipped: Set<string>;
  gone: number;
  screen: 'queue' | 'record' | 'other';
  current?: ReviewItem;
  viewIndex: number;
  cleanup?: () => void;
  busy: boolean;
}

const $ = (id: string) => document.getElementById(id)!;
const main = () => $('main');

/** A polite status line (what just happened). */
function say(text: string): void {
  const el = $('status');
  el.textContent = '';
  // A fresh text node so that screen readers announce a repeated message too.
  window.setTimeout(() => { el.textContent = text; }, 30);
}

/** An alert (something the reviewer must notice); cleared by the next action. */
function alertUser(text: string): void {
  const el = $('alert');
  el.textContent = text;
  el.hidden = !text;
}

function focusHeading(): void {
  const heading = main().querySelector<HTMLElement>('h2');
  heading?.setAttribute('tabindex', '-1');
  heading?.focus();
}

function screen(title: string, ...content: Array<Node | string>): void {
  const m = main();
  clear(m);
  append(m, [h('h2', {}, title), ...content]);
  focusHeading();
}

function progress(s: Session): void {
  const waiting = s.queue.filter((i) => !s.answered.has(i.recordId)).length;
  $('progress').textContent = `Answered this session: ${s.answered.size} · Skipped: ${s.skipped.size} · Waiting: ${waiting}${s.more ? '+' : ''}`;
}

function pending(s: Session): ReviewItem[] {
  return s.queue.filter((i) => !s.answered.has(i.recordId));
}

function nextItem(s: Session): ReviewItem | undefined {
  return pending(s).find((i) => !s.skipped.has(i.recordId));
}

async function loadQueue(s: Session): Promise<boolean> {
  try {
    const { items, more, total } = await s.api.list();
    s.queue = queueOrder(items);
    s.more = more;
    s.total = total;
    progress(s);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signedOut(s.config);
    } else if (e instanceof ApiError && e.status === 403) {
      notReviewer(s.config, 'The review API refused this account.');
    } else {
      s.screen = 'other';
      screen('The queue could not be loaded',
        h('p', {}, e instanceof Error ? e.message : 'Unknown error.'),
        h('button', { type: 'button', class: 'primary', onclick: () => void showQueue(s, true) }, 'Try again'));
    }
    return false;
  }
}

function chips(reasons: readonly string[]): HTMLElement {
  return h('ul', { 'class': 'chips', 'aria-label': 'Why in review' }, ...reasons.map((r) => h('li', { class: `chip chip-${r.replace(/[^a-z-]/g, '')}` }, reasonText(r))));
}

async function showQueue(s: Session, reload: boolean): Promise<void> {
  s.cleanup?.();
  s.cleanup = undefined;
  s.current = undefined;
  s.screen = 'queue';
  if (reload && !(await loadQueue(s))) return;
  const items = pending(s);
  const now = Date.now();
  if (items.length === 0) {
    screen('Queue',
      h('p', { class: 'empty' }, 'The queue is empty: no record is waiting for review.'),
      ...(s.total ? [h('p', { id: 'others-waiting' }, `${s.total} record(s) in the queue wait for other reviewers (you answered them already).`)] : []),
      h('button', { type: 'button', class: 'primary', onclick: () => void showQueue(s, true) }, 'Refresh'));
    return;
  }
  const count = `${items.length}${s.more ? '+' : ''}`;
  const next = nextItem(s);
  const table = h('table', { class: 'queue' },
    h('caption', {}, `${count} record(s) waiting, oldest first${othersText(s, items.length)}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Record'), h('th', { scope: 'col' }, 'Waiting'), h('th', { scope: 'col' }, 'Why'),
      h('th', { scope: 'col' }, 'Machine label'), h('th', { scope: 'col' }, 'Attempt'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Action')))),
    h('tbody', {}, ...items.map((item) => h('tr', { class: s.skipped.has(item.recordId) ? 'skipped' : undefined },
      h('th', { 'scope': 'row', 'data-label': 'Record' }, h('code', {}, item.recordId)),
      h('td', { 'data-label': 'Waiting' }, h('time', { datetime: item.requestedAt }, ageText(item.requestedAt, now))),
      h('td', { 'data-label': 'Why' }, chips(item.reasons)),
      h('td', { 'data-label': 'Machine label' }, item.proposal ? `${item.proposal.className} (${percent(item.proposal.confidence)})` : 'none'),
      h('td', { 'data-label': 'Attempt' }, String(item.attempt)),
      h('td', { 'data-label': 'Action' }, h('button', {
        'type': 'button', 'aria-label': `Open record ${item.recordId}`, 'onclick': () => openRecord(s, item),
      }, s.skipped.has(item.recordId) ? 'Open (skipped)' : 'Open')),
    ))));
  screen('Queue',
    h('div', { class: 'queue-actions' },
      h('button', { type: 'button', class: 'primary', id: 'open-next', onclick: () => (next ? openRecord(s, next) : undefined), disabled: !next },
        next ? 'Open next record' : 'All remaining records were skipped'),
      h('button', { type: 'button', onclick: () => void showQueue(s, true) }, 'Refresh')),
    h('div', { class: 'table-wrap' }, table));
}

function openRecord(s: Session, item: ReviewItem, viewIndex = 0): void {
  s.cleanup?.();
  s.cleanup = undefined;
  s.screen = 'record';
  s.current = item;
  const fitting = viewsFor(item.record, s.views);
  s.viewIndex = Math.min(viewIndex, fitting.length - 1);
  const { classes } = s.config;
  const position = pending(s).findIndex((i) => i.recordId === item.recordId) + 1;

  const container = h('div', { class: 'view', id: 'view' });
  const switcher = fitting.length > 1
    ? h('div', { 'class': 'view-switch', 'role': 'group', 'aria-label': 'Show the record as' },
      ...fitting.map((v, i) => h('button', {
        'type': 'button', 'aria-pressed': String(i === s.viewIndex), 'onclick': () => openRecord(s, item, i),
      }, v.name)))
    : null;
  const votes = h('ul', { class: 'votes' }, ...item.votes.map((v) => h('li', {},
    h('span', { class: 'labeler' }, v.labeler),
    v.className !== undefined
      ? h('span', { class: 'vote' }, h('strong', {}, v.className), ' ',
        h('meter', { 'min': 0, 'max': 1, 'value': v.confidence ?? 0, 'aria-label': `confidence of ${v.labeler}` }), ' ', percent(v.confidence))
      : h('span', { class: 'vote abstained' }, `abstained${v.abstainReason ? `: ${v.abstainReason}` : ''}`))));

  const buttons = classes.map((c, i) => h('button', {
    'type': 'button',
    'class': `class-button${item.proposal?.className === c ? ' proposed' : ''}`,
    'data-class': c,
    'aria-keyshortcuts': i < 9 ? String(i + 1) : undefined,
    'onclick': () => void answer(s, c),
  }, i < 9 ? h('kbd', { 'aria-hidden': 'true' }, String(i + 1)) : null, ' ', c,
  item.proposal?.className === c ? h('span', { class: 'proposed-tag' }, ' (machine)') : null));

  const m = main();
  clear(m);
  append(m, [h('div', { class: 'record-layout' },
    h('section', { 'class': 'record-main', 'aria-labelledby': 'record-heading' },
      h('h2', { id: 'record-heading' }, 'Record ', h('code', {}, item.recordId)),
      h('p', { class: 'record-meta' }, `${position > 0 ? `${position} of ${pending(s).length}` : ''} · waiting ${ageText(item.requestedAt, Date.now())} · attempt ${item.attempt}`),
      chips(item.reasons),
      switcher,
      container),
    h('section', { 'class': 'record-side', 'aria-labelledby': 'labels-heading' },
      h('h3', { id: 'labels-heading' }, 'Machine labels'),
      h('p', { class: 'proposal' }, ...(item.proposal
        ? ['Proposal: ', h('strong', {}, item.proposal.className), ` (${percent(item.proposal.confidence)})`]
        : ['No proposal: every labeler abstained.'])),
      votes,
      h('h3', { id: 'choose-heading' }, 'Your label'),
      h('p', { class: 'hint', id: 'choose-hint' }, classes.length > 1 ? `Keys 1–${Math.min(9, classes.length)} choose a class; S skips; Esc goes back to the queue.` : 'S skips; Esc goes back to the queue.'),
      h('div', { 'class': 'classes', 'role': 'group', 'aria-labelledby': 'choose-heading', 'aria-describedby': 'choose-hint' }, ...buttons),
      h('div', { class: 'record-actions' },
        h('button', { 'type': 'button', 'id': 'skip', 'aria-keyshortcuts': 'S', 'onclick': () => skip(s) }, h('kbd', { 'aria-hidden': 'true' }, 'S'), ' Skip'),
        h('button', { 'type': 'button', 'id': 'back', 'aria-keyshortcuts': 'Escape', 'onclick': () => void showQueue(s, false) }, 'Back to queue'))))]);
  // The view renders into a container that is in the document (it may measure its width).
  try {
    const cleanup = fitting[s.viewIndex].view.render(container, item.record, {
      recordId: item.recordId, reasons: item.reasons, proposal: item.proposal, classes,
    });
    if (typeof cleanup === 'function') s.cleanup = cleanup;
  } catch {
    clear(container);
    append(container, [h('p', { class: 'problem' }, `The ${fitting[s.viewIndex].name} view could not show this record; use the Table view.`)]);
  }

  focusHeading();
}

function moveOn(s: Session): void {
  progress(s);
  const next = nextItem(s);
  if (next) openRecord(s, next);
  else void showQueue(s, true);
}

function skip(s: Session): void {
  if (!s.current || s.busy) return;
  alertUser('');
  s.skipped.add(s.current.recordId);
  say(`Skipped record ${s.current.recordId}.`);
  moveOn(s);
}

async function answer(s: Session, className: string): Promise<void> {
  const item = s.current;
  if (!item || s.busy) return;
  s.busy = true;
  alertUser('');
  main().setAttribute('aria-busy', 'true');
  for (const b of main().querySelectorAll<HTMLButtonElement>('.class-button')) b.disabled = true;
  const outcome = await s.api.answer(item.recordId, className);
  s.busy = false;
  main().removeAttribute('aria-busy');
  switch (outcome.kind) {
    case 'accepted':
      if (s.total !== undefined && outcome.code === undefined) s.total = Math.max(0, s.total - 1);
      s.answered.set(item.recordId, className);
      s.skipped.delete(item.recordId);
      say(`Saved: ${className} for record ${item.recordId}.${savedNote(outcome.code)}`);
      moveOn(s);
      return;
    case 'gone':
      if (s.total !== undefined && outcome.code !== 'review-closed') s.total = Math.max(0, s.total - 1);
      s.gone++;
      s.queue = s.queue.filter((i) => i.recordId !== item.recordId);
      s.skipped.delete(item.recordId);
      alertUser(`Record ${item.recordId} ${goneReason(outcome.code)}, so your answer (${className}) was not saved. Moved on to the next record.`);
      moveOn(s);
      return;
    case 'signed-out':
      signedOut(s.config, `Your answer (${className}) for record ${item.recordId} was not saved.`);
      return;
    case 'forbidden':
      notReviewer(s.config, 'The review API refused this account.');
      return;
    default:
      for (const b of main().querySelectorAll<HTMLButtonElement>('.class-button')) b.disabled = false;
      alertUser(`Your answer (${className}) for record ${item.recordId} was not saved: ${outcome.message}. Try again.`);
  }
}

/**
 * The queue's total when it holds more than the reviewer's own list (records the reviewer
 * answered, waiting for a second reviewer), as the API last counted it.
 */
function othersText(s: Session, mine: number): string {
  return s.total !== undefined && s.total > mine ? ` (${s.total} in the whole queue, with those waiting for other reviewers)` : '';
}

/** Why an answer was not saved, from the review API's code (409/404). */
function goneReason(code: string | undefined): string {
  switch (code) {
    case 'already-answered': return 'was answered by another reviewer meanwhile';
    case 'answered-by-you': return 'was answered by you already';
    case 'review-closed': return 'is no longer open (its review expired and was queued again)';
    case 'not-found': return 'is no longer in review';
    default: return 'was answered elsewhere or is no longer open';
  }
}

/** What a saved answer still waits for (four-eyes: the API's 202 codes). */
function savedNote(code: string | undefined): string {
  if (code === 'awaiting-second-reviewer') return ' A second reviewer must give the same class.';
  if (code === 'four-eyes-disagreement') return ' Another reviewer chose a different class, so a further reviewer decides.';
  return '';
}

function onKey(s: Session, e: KeyboardEvent): void {
  if (e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
  const target = e.target as HTMLElement | null;
  if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
  if (s.screen === 'record') {
    const c = classForKey(e.key, s.config.classes);
    if (c) {
      e.preventDefault();
      void answer(s, c);
    } else if (e.key === 's' || e.key === 'S') {
      e.preventDefault();
      skip(s);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      void showQueue(s, false);
    }
  } else if (s.screen === 'queue' && (e.key === 'n' || e.key === 'N')) {
    const next = nextItem(s);
    if (next) {
      e.preventDefault();
      openRecord(s, next);
    }
  }
}

function signInScreen(config: ConsoleConfig, why?: string): void {
  screen('Sign in',
    ...(why ? [h('p', {}, why)] : []),
    h('p', {}, 'Reviewers sign in with their organisation account.'),
    h('button', { type: 'button', class: 'primary', id: 'sign-in', onclick: () => void signIn(config) }, 'Sign in'));
}

function signedOut(config: ConsoleConfig, detail = ''): void {
  forgetTokens();
  $('sign-out').hidden = true;
  signInScreen(config, `Your session has ended. ${detail} Sign in again to go on.`.replace(/\s+/g, ' '));
}

function notReviewer(config: ConsoleConfig, detail = ''): void {
  screen('Not a reviewer',
    h('p', { id: 'not-reviewer' }, `You are signed in, but your account is not in the "${config.auth.reviewerGroup}" group, so it may not review records. ${detail} Ask an administrator to add you to the group, then sign in again.`),
    h('button', { type: 'button', class: 'primary', onclick: () => signOut(config) }, 'Sign out'));
}

async function boot(): Promise<void> {
  let config: ConsoleConfig;
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
    config = parseConfig(await res.json());
  } catch (e) {
    screen('The console is not configured', h('p', {}, e instanceof Error ? e.message : 'config.json could not be read.'));
    return;
  }
  $('title').textContent = config.title ?? 'Review console';
  document.title = config.title ?? 'Review console';
  try {
    await completeSignIn(config);
  } catch (e) {
    signInScreen(config, e instanceof Error ? e.message : undefined);
    return;
  }
  const tokens = currentTokens();
  if (!tokens) {
    signInScreen(config);
    return;
  }
  const signOutButton = $('sign-out') as HTMLButtonElement;
  signOutButton.hidden = false;
  signOutButton.addEventListener('click', () => signOut(config));
  if (!isReviewer(jwtClaims(tokens.idToken), config.auth.reviewerGroup ?? 'reviewers')) {
    notReviewer(config);
    return;
  }
  const { views, problems } = await loadViews(config.views ?? []);
  if (problems.length) alertUser(problems.join(' '));
  const s: Session = {
    config,
    api: new ReviewApi(config.apiUrl, () => currentTokens()?.idToken),
    views,
    queue: [],
    more: false,
    answered: new Map(),
    skipped: new Set(),
    gone: 0,
    screen: 'queue',
    viewIndex: 0,
    busy: false,
  };
  document.addEventListener('keydown', (e) => onKey(s, e));
  await showQueue(s, true);
}

void boot();
