/**
 * The review console in a real browser: playwright-core drives Debian's Chromium (headless)
 * against the built console (assets/review-console/web/, `npx projen bundle`) served by the
 * local console server (examples/reference-app/console/local-console.ts), whose /reviews routes
 * run the REAL review API handler against moto. SendTaskSuccess goes to the recording fake of the
 * review API tests (moto accepts any token and does nothing).
 *
 * Sign-in is emulated by the server: it stands in for Cognito's hosted UI (authorization code
 * flow with PKCE; the test clicks a user on its sign-in page) and issues the tokens, which the
 * console keeps in sessionStorage; it stands in for API Gateway's Cognito authorizer too (the ID
 * token's claims go into requestContext.authorizer.claims; the review API handler itself refuses
 * a token without the reviewer group with a 403).
 *
 * Writes screenshots and the axe-core results under test-reports/review-console/.
 * Skipped (with a message) only when /usr/bin/chromium is absent and CI is not set; in CI,
 * .ci/setup-system.sh installs it and this test must run.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { buildViews } from '../../examples/reference-app/console/build-views';
import { LocalConsole, startLocalConsole } from '../../examples/reference-app/console/local-console';
import { ReviewExecutionInput } from '../../src/labeling-pipeline/runtime/contract';
import { createReviewApiHandler, ReviewApiDeps } from '../../src/labeling-pipeline/runtime/review-api';
import { createReviewRecordHandler } from '../../src/labeling-pipeline/runtime/review-record';
import { hearingRecord } from '../labeling-pipeline/hearing';
import { createLake, FakeTaskApi, hearingConfig, Lake, placeCleanRecord } from '../labeling-pipeline/label-handler-support';
import { useLocalAws } from '../support/local-aws';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ROOT = path.join(__dirname, '..', '..');
const WEB = path.join(ROOT, 'assets', 'review-console', 'web');
const REPORTS = path.join(ROOT, 'test-reports', 'review-console');
const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAS_CHROMIUM && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI must run the review console's browser test (.ci/setup-system.sh installs Debian's chromium)`);
}
if (!HAS_CHROMIUM) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: the review console browser test needs Chromium at ${CHROMIUM} (apt-get install chromium, or bash .ci/setup-system.sh); CI is not set, so it is skipped.`);
}
const describeWithBrowser = HAS_CHROMIUM ? describe : describe.skip;

const REVIEWER = { username: 'rita', sub: '3f1d6a0e-8d59-4c1e-9d1c-2a4b7c9e0f11', groups: ['reviewers'] };
const OTHER_REVIEWER = { username: 'ralf', sub: '9a7e2c41-5b3d-4f0a-8e6c-1d2f3a4b5c6d', groups: ['reviewers'] };
const NON_REVIEWER = { username: 'nora', sub: '5c0b9d8e-7f6a-4b3c-9d2e-1f0a8b7c6d5e', groups: ['uploaders'] };
const CLASSES = hearingConfig().task.classes;
const HOUR = 3_600_000;

const aws = useLocalAws();
let lake: Lake;
let tasks: FakeTaskApi;
let server: LocalConsole;
let browser: Browser;
let viewsDir: string;
const problems: string[] = [];

/** The four records in review, oldest first, with the task token each waits on. */
const queue: Array<{ recordId: string; token: string; reasons: string[] }> = [];

async function seed(): Promise<void> {
  const now = Date.now();
  const full = (left: number[], right: number[]) => {
    const ear = (t: number[]) => Object.fromEntries([250, 500, 1000, 2000, 4000, 8000].map((f, i) => [String(f), t[i]]));
    return { left: ear(left), right: ear(right) };
  };
  const cases: Array<{ ageMs: number; thresholds: object; input: Omit<ReviewExecutionInput, 'recordId' | 'record'> }> = [
    {
      ageMs: 50 * HOUR,
      thresholds: full([10, 15, 20, 20, 25, 35], [15, 20, 20, 25, 30, 40]),
      input: { reasons: ['all-abstained'], votes: [{ labeler: 'rules:who-grade@1', abstainReason: 'unreliable-responses' }] },
    },
    {
      ageMs: 26 * HOUR,
      thresholds: full([15, 20, 25, 35, 50, 60], [10, 15, 20, 30, 45, 55]),
      input: {
        reasons: ['low-confidence', 'disagreement'],
        proposal: { className: 'mild', confidence: 0.55 },
        votes: [{ labeler: 'rules:who-grade@1', className: 'mild', confidence: 0.5 }, { labeler: 'model:who-grade@3', className: 'moderate', confidence: 0.62 }],
      },
    },
    {
      ageMs: 3 * HOUR,
      thresholds: full([30, 35, 40, 45, 55, 70], [25, 30, 35, 40, 50, 65]),
      input: { reasons: ['low-confidence'], proposal: { className: 'moderate', confidence: 0.5 }, votes: [{ labeler: 'rules:who-grade@1', className: 'moderate', confidence: 0.5 }] },
    },
    {
      ageMs: 0.3 * HOUR,
      thresholds: full([0, 5, 5, 10, 10, 15], [5, 5, 10, 10, 15, 20]),
      input: { reasons: ['quality-sample'], proposal: { className: 'normal', confidence: 0.97 }, votes: [{ labeler: 'rules:who-grade@1', className: 'normal', confidence: 0.97 }] },
    },
  ];
  for (const c of cases) {
    const raw = hearingRecord([0, 0, 0, 0], [0, 0, 0, 0], { sessionId: randomUUID(), thresholds: c.thresholds as never });
    const placed = await placeCleanRecord(lake, raw);
    const recorder = createReviewRecordHandler({
      s3: lake.s3, ddb: lake.ddb, events: lake.events, env: lake.env, config: hearingConfig(), now: () => now - c.ageMs,
    });
    const token = `AAAAKgAAAAIAAAAAAAAAA-task-${randomUUID()}`;
    await recorder({ action: 'request', taskToken: token, attempt: 1, input: { ...c.input, recordId: placed.recordId, record: placed.record } });
    queue.push({ recordId: placed.recordId, token, reasons: [...c.input.reasons] });
  }
}

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  if (!fs.existsSync(path.join(WEB, 'console.js'))) throw new Error(`${WEB} has no console.js: run npx projen bundle first`);
  fs.mkdirSync(REPORTS, { recursive: true });
  lake = await createLake(aws());
  tasks = new FakeTaskApi();
  await seed();
  // The handler's reviewer check and pseudonyms (settings, KMS GenerateMac with an HMAC key).
  const kms = aws().kms();
  const hmacKeyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
  const deps: ReviewApiDeps = {
    ddb: lake.ddb,
    sfn: tasks.asClient(),
    kms,
    env: { ...lake.env, HMAC_KEY_ID: hmacKeyId },
    // Four eyes on the quality sample: its first answer is a 202 the console must explain.
    settings: { access: { kind: 'cognito-group', group: 'reviewers' }, maxRequestsPerWindow: 100_000, windowSeconds: 3600, fourEyesQualitySample: true },
    config: hearingConfig(),
    writeMetrics: () => undefined,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  const handler = createReviewApiHandler(deps);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-console-views-'));
  const views = buildViews(outDir);
  viewsDir = path.join(outDir, 'views');
  server = await startLocalConsole({
    webDir: WEB,
    viewsDir,
    views,
    classes: CLASSES,
    handler: (e: APIGatewayProxyEvent) => handler(e),
    users: [REVIEWER, OTHER_REVIEWER, NON_REVIEWER],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (viewsDir) fs.rmSync(path.dirname(viewsDir), { recursive: true, force: true });
});

/** A new tab with the given viewport; CSP violations and page errors are collected. */
async function newPage(width: number, height: number): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page };
}

/** Signs in through the (emulated) hosted UI as a user: the full code + PKCE round trip. */
async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/oauth2\/authorize\?/);
  const url = new URL(page.url());
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await page.getByRole('button', { name: new RegExp(`^${username} `) }).click();
  await page.waitForURL((u) => u.pathname === '/' && !u.search);
}

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page (through the DevTools protocol, which the page's CSP does not govern). */
async function accessibility(page: Page, name: string): Promise<Array<{ id: string; impact: string; nodes: number }>> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<any> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return {
      violations: r.violations.map((v: any) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map((n: any) => n.target),
      })),
      passes: r.passes.length,
    };
  });
  fs.writeFileSync(path.join(REPORTS, `axe-${name}.json`), JSON.stringify(result, null, 2));
  return result.violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical');
}

async function screenshot(page: Page, name: string): Promise<number> {
  const file = path.join(REPORTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return fs.statSync(file).size;
}

const heading = (page: Page) => page.locator('main h2').first();
const status = (page: Page) => page.locator('#status');
const alertBox = (page: Page) => page.locator('#alert');

describeWithBrowser('review console in Chromium', () => {
  let desk: Page;

  afterAll(() => {
    expect(problems).toEqual([]);
  });

  test('a non-reviewer is refused by the console, and the API answers 403', async () => {
    const { context, page } = await newPage(1280, 800);
    await signIn(page, NON_REVIEWER.username);
    await expect(heading(page).textContent()).resolves.toBe('Not a reviewer');
    expect(await page.locator('#not-reviewer').textContent()).toContain('not in the "reviewers" group');
    // The console never called the API for her; the API refuses her token.
    expect(server.apiCalls.filter((c) => c.username === NON_REVIEWER.username)).toEqual([]);
    const res = await fetch(`${server.origin}/reviews`, { headers: { Authorization: server.idToken(NON_REVIEWER.username) } });
    expect(res.status).toBe(403);
    // The review API handler's own refusal (not the stand-in authorizer's).
    expect(await res.json()).toEqual({ code: 'forbidden', message: 'only reviewers may use the review API' });
    const anonymous = await fetch(`${server.origin}/reviews`);
    expect(anonymous.status).toBe(401);
    await context.close();
  });

  test('a reviewer signs in (code flow with PKCE) and sees the queue: count, age, reasons, machine label', async () => {
    ({ page: desk } = await newPage(1280, 800));
    await signIn(desk, REVIEWER.username);
    await desk.locator('table.queue').waitFor();
    expect(await desk.locator('table.queue caption').textContent()).toBe('4 record(s) waiting, oldest first');
    const rows = desk.locator('table.queue tbody tr');
    expect(await rows.count()).toBe(4);
    // Oldest first, with why each record is there.
    for (const [i, q] of queue.entries()) expect(await rows.nth(i).locator('th code').textContent()).toBe(q.recordId);
    expect(await rows.nth(0).textContent()).toContain('All labelers abstained');
    expect(await rows.nth(0).locator('time').textContent()).toBe('2 d');
    expect(await rows.nth(1).textContent()).toMatch(/Low confidence.*Labelers disagree.*mild \(55 %\)/);
    expect(await rows.nth(3).textContent()).toMatch(/Quality sample.*normal \(97 %\)/);
    expect(await rows.nth(3).locator('time').textContent()).toMatch(/^1[89] min$/);
    expect(await desk.locator('#progress').textContent()).toBe('Answered this session: 0 · Skipped: 0 · Waiting: 4');
    // Browser storage: the session's tokens only.
    const storage = await desk.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length, cookies: document.cookie }));
    expect(storage).toEqual({ session: ['review-console.tokens'], local: 0, cookies: '' });
    expect(await screenshot(desk, 'queue-1280x800')).toBeGreaterThan(20_000);
    expect(await accessibility(desk, 'queue-1280x800')).toEqual([]);
  });

  test('opens the next record in the audiogram view and answers with the keyboard', async () => {
    await desk.keyboard.press('n');
    const first = queue[0];
    expect(await desk.locator('#record-heading').textContent()).toBe(`Record ${first.recordId}`);
    await expect(desk.evaluate(() => document.activeElement?.id)).resolves.toBe('record-heading');
    const chart = desk.locator('svg[data-view="audiogram"]');
    await chart.waitFor();
    expect(await chart.locator('circle[data-point^="right:"]').count()).toBe(6);
    expect(await chart.locator('path[data-point^="left:"]').count()).toBe(6);
    expect(await chart.locator('rect[data-band]').count()).toBe(7);
    expect(await chart.locator('polyline[data-ear]').count()).toBe(2);
    expect(await chart.getAttribute('data-layout')).toBe('wide');
    // Left 15/20/20/25 → 20; right 20/20/25/30 → 23.75: the better ear is the left, grade mild.
    expect(await desk.locator('.audiogram-summary').getAttribute('data-better-ear')).toBe('left:20');
    expect(await desk.locator('.audiogram-summary').textContent()).toContain('Better ear (left): four-frequency average 20 dB HL, WHO grade mild.');
    expect(await desk.locator('.votes').textContent()).toContain('abstained: unreliable-responses');
    // Class buttons show their keys.
    expect(await desk.locator('.class-button').allTextContents()).toEqual(CLASSES.map((c, i) => `${i + 1} ${c}`));
    expect(await screenshot(desk, 'audiogram-1280x800')).toBeGreaterThan(40_000);
    expect(await accessibility(desk, 'audiogram-1280x800')).toEqual([]);

    await desk.keyboard.press('2');
    await desk.locator('#record-heading', { hasText: queue[1].recordId }).waitFor();
    // The status line is announced a moment later (a fresh text node for screen readers).
    await status(desk).filter({ hasText: `Saved: mild for record ${first.recordId}.` }).waitFor();
    const sent = JSON.parse(tasks.successes[tasks.successes.length - 1].output);
    expect(sent).toMatchObject({ recordId: first.recordId, className: 'mild', reviewer: expect.any(String) });
    expect(tasks.successes[tasks.successes.length - 1].taskToken).toBe(first.token);
    expect(await desk.locator('#progress').textContent()).toBe('Answered this session: 1 · Skipped: 0 · Waiting: 3');
  });

  test('a record answered elsewhere meanwhile (409 already-answered, 409 review-closed) shows a clear message and moves on', async () => {
    // Another reviewer answers the open record through the API first.
    const open = queue[1];
    const other = await fetch(`${server.origin}/reviews/${open.recordId}`, {
      method: 'POST', headers: { 'Authorization': server.idToken(OTHER_REVIEWER.username), 'Content-Type': 'application/json' }, body: JSON.stringify({ className: 'moderate' }),
    });
    expect(other.status).toBe(200);
    await desk.keyboard.press('2');
    await desk.locator('#record-heading', { hasText: queue[2].recordId }).waitFor();
    expect(await alertBox(desk).textContent()).toBe(`Record ${open.recordId} was answered by another reviewer meanwhile, so your answer (mild) was not saved. Moved on to the next record.`);
    expect(server.apiCalls.filter((c) => c.path === `/reviews/${open.recordId}`).map((c) => [c.username, c.status])).toEqual([['ralf', 200], ['rita', 409]]);

    // The review's task timed out meanwhile (re-queued): the API's 409.
    tasks.timedOut.add(queue[2].token);
    await desk.keyboard.press('3');
    await desk.locator('#record-heading', { hasText: queue[3].recordId }).waitFor();
    expect(await alertBox(desk).textContent()).toContain(`Record ${queue[2].recordId} is no longer open (its review expired and was queued again), so your answer (moderate) was not saved.`);
    expect(server.apiCalls.filter((c) => c.path === `/reviews/${queue[2].recordId}`).map((c) => c.status)).toEqual([409]);
    expect(await desk.locator('#progress').textContent()).toBe('Answered this session: 1 · Skipped: 0 · Waiting: 1');
  });

  test('skip, the table view, and no pseudonym on screen', async () => {
    await desk.getByRole('button', { name: 'Table' }).click();
    const table = desk.locator('table.view-table');
    await table.waitFor();
    expect(await table.textContent()).toContain('thresholds.left.500');
    expect(await table.textContent()).toContain('(pseudonym, hidden)');
    expect(await desk.locator('body').textContent()).not.toMatch(/hmac:/);
    await desk.keyboard.press('s');
    await desk.locator('table.queue').waitFor();
    expect(await desk.locator('#progress').textContent()).toBe('Answered this session: 1 · Skipped: 1 · Waiting: 1');
    expect(await desk.locator('#open-next').textContent()).toBe('All remaining records were skipped');
    expect(await desk.locator('#open-next').isDisabled()).toBe(true);
  });

  test('works on a 390-pixel-wide phone: queue and audiogram, no sideways scrolling', async () => {
    const { context, page } = await newPage(390, 844);
    await signIn(page, OTHER_REVIEWER.username);
    await page.locator('table.queue').waitFor();
    expect(await page.locator('table.queue tbody tr').count()).toBe(1);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await screenshot(page, 'queue-390')).toBeGreaterThan(10_000);
    expect(await accessibility(page, 'queue-390')).toEqual([]);
    await page.getByRole('button', { name: 'Open next record' }).click();
    await page.locator('svg[data-view="audiogram"]').waitFor();
    expect(await page.locator('svg[data-view="audiogram"]').getAttribute('data-layout')).toBe('compact');
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await screenshot(page, 'audiogram-390')).toBeGreaterThan(30_000);
    expect(await accessibility(page, 'audiogram-390')).toEqual([]);
    await context.close();
  });

  test('a quality-sample answer waits for a second reviewer (202), and then an empty queue says so', async () => {
    await desk.locator('table.queue tbody tr').first().getByRole('button').click();
    expect(await desk.locator('#record-heading').textContent()).toBe(`Record ${queue[3].recordId}`);
    await desk.keyboard.press('1');
    await desk.locator('.empty').waitFor();
    await status(desk).filter({ hasText: `Saved: normal for record ${queue[3].recordId}. A second reviewer must give the same class.` }).waitFor();
    expect(server.apiCalls.filter((c) => c.path === `/reviews/${queue[3].recordId}`).map((c) => [c.username, c.status])).toEqual([['rita', 202]]);
    // Still pending for someone else: the API's total says so.
    expect(await desk.locator('#others-waiting').textContent()).toBe('1 record(s) in the queue wait for other reviewers (you answered them already).');
    expect(await desk.locator('.empty').textContent()).toBe('The queue is empty: no record is waiting for review.');
    expect(await desk.locator('#progress').textContent()).toBe('Answered this session: 2 · Skipped: 0 · Waiting: 0');
    expect(await accessibility(desk, 'empty-1280x800')).toEqual([]);
  });
});
