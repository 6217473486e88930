// GET /docs in a real browser: headless Debian Chromium driven by playwright-core renders the API page
// from /openapi.json, shows the infer operation, and fetches nothing from anywhere but the gateway.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFakeTritonGateway } from '../support/fake-triton-gateway.ts';

const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Without the background-networking flags Chromium phones home at start, which a closed network refuses. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const RENDER_TIMEOUT_MS = 15_000;

const fixture = useFakeTritonGateway();
let browser: BrowserContext | undefined;
let workDir = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  workDir = await mkdtemp(join(tmpdir(), 'docs-page-'));
  // A fresh, empty profile (playwright-core passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(workDir, 'profile'), {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 1600 },
  });
});

afterAll(async () => {
  await browser?.close();
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

describe('GET /docs in headless Chromium', () => {
  it('renders the infer operation from /openapi.json, using only the gateway', async () => {
    if (browser === undefined) throw new Error('browser not started');
    const origin = new URL(fixture.gateway.url).origin;
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const response = await page.goto(`${fixture.gateway.url}/docs`);
    expect(response?.status()).toBe(200);

    // Swagger UI gives each operation the id operations-<tag>-<operationId>; untagged ones go to "default".
    const infer = page.locator('#operations-default-infer');
    await infer.waitFor({ state: 'visible', timeout: RENDER_TIMEOUT_MS });
    await expect(infer.locator('.opblock-summary-method').innerText()).resolves.toBe('POST');
    await expect(infer.locator('.opblock-summary-path').innerText()).resolves.toContain('/v2/models/{model}/infer');
    await expect(infer.locator('.opblock-summary-description').innerText()).resolves.toBe('Run inference');
    expect(await page.locator('.info .title').innerText()).toContain('triton-gateway');

    await infer.scrollIntoViewIfNeeded();
    const screenshot = join(workDir, 'docs.png');
    await page.screenshot({ path: screenshot, fullPage: false });
    expect((await stat(screenshot)).size).toBeGreaterThan(10_000);
    if (process.env['DOCS_SCREENSHOT'] !== undefined) await page.screenshot({ path: process.env['DOCS_SCREENSHOT'], fullPage: false });

    expect(requested).toContain(`${origin}/openapi.json`);
    const foreign = requested.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return protocol !== 'data:' && protocol !== 'blob:' && hostname !== '127.0.0.1';
    });
    expect(foreign, 'the page must load nothing from outside 127.0.0.1').toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('serves only the assets the page needs', async () => {
    const base = fixture.gateway.url;
    const css = await fetch(`${base}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${base}/docs/assets/index.html`)).status).toBe(404);
    expect((await fetch(`${base}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
    const redirect = await fetch(`${base}/docs/`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(new URL(redirect.headers.get('location') ?? '', `${base}/docs/`).pathname).toBe('/docs');
    const post = await fetch(`${base}/docs`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});
