// The Swagger UI at /docs in a real browser (Debian's chromium driven by playwright-core): it
// loads without console errors, lists every operation of openapi.yaml with its summary and every
// schema, and "Try it out" on GET /representations really calls this server and shows the
// microservices. A full-page screenshot is written to test-artifacts/swagger-ui.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../support/cluster.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 15_000;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Operation {
  method: string;
  path: string;
  operationId: string;
  summary: string;
  tag: string;
}

interface Spec {
  paths: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[] }>>;
  components: { schemas: Record<string, unknown> };
}

const spec = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as Spec;
const operations: Operation[] = Object.entries(spec.paths).flatMap(([path, item]) =>
  HTTP_METHODS.flatMap((method) => {
    const op = item[method];
    if (!op) return [];
    return [{ method, path, operationId: op.operationId ?? '', summary: op.summary ?? '', tag: op.tags?.[0] ?? 'default' }];
  }),
);
const schemaNames = Object.keys(spec.components.schemas);

describe('Swagger UI at /docs in chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    server = await startTestServer({ logLevel: 'warn' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: WAIT_MS,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    await page.goto(`${server.url}/docs`, { waitUntil: 'load', timeout: WAIT_MS });
    // The UI renders the operations once it has fetched and parsed the spec.
    await page.locator('.opblock').first().waitFor({ timeout: WAIT_MS });
  });

  after(async () => {
    // The screenshot shows the page as the tests left it (with the live response), for people.
    if (page) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui.png'), fullPage: true, timeout: WAIT_MS }).catch(() => undefined);
    }
    await browser?.close();
    await server?.close();
  });

  test('shows the API title from the spec', async () => {
    const title = await page.locator('.info .title').textContent();
    assert.match(title ?? '', /Tessera/);
  });

  test('lists every operation of openapi.yaml with its method, path and summary', async () => {
    assert.ok(operations.length >= 10, `the spec should have the client, peer and operations APIs (${operations.length})`);
    const shown = await page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map((block) => ({
        id: block.id,
        method: block.querySelector('.opblock-summary-method')?.textContent?.trim().toLowerCase() ?? '',
        path: block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '',
        summary: block.querySelector('.opblock-summary-description')?.textContent?.trim() ?? '',
      })),
    );
    for (const op of operations) {
      assert.ok(op.summary, `${op.method.toUpperCase()} ${op.path} has no summary in the spec`);
      const block = shown.find((s) => s.id === `operations-${op.tag}-${op.operationId}`);
      assert.ok(block, `${op.method.toUpperCase()} ${op.path} (${op.operationId}) is not listed`);
      assert.deepEqual(
        { method: block.method, path: block.path, summary: block.summary },
        { method: op.method, path: op.path, summary: op.summary },
        op.operationId,
      );
    }
  });

  test('has the Schemas section with every schema of the spec', async () => {
    const section = page.locator('section.models');
    assert.match((await section.locator('h4').textContent()) ?? '', /Schemas/);
    const shown = await section.locator('.model-container').evaluateAll((containers) =>
      containers.map((c) => c.getAttribute('data-name')),
    );
    assert.deepEqual(shown.sort(), [...schemaNames].sort());
  });

  test('"Try it out" on GET /representations calls this server and shows the microservices', async () => {
    const list = operations.find((op) => op.method === 'get' && op.path === '/representations');
    assert.ok(list, 'GET /representations is in the spec');
    const block = page.locator(`#operations-${list.tag}-${list.operationId}`);
    await block.locator('.opblock-summary-control').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('button.execute').click();
    const live = block.locator('.live-responses-table');
    const response = live.locator('tr.response').first();
    await response.waitFor();
    // The request must go to the server that served the page, whatever its port, not to the
    // example server of the spec's `servers` list.
    const requestUrl = (await block.locator('.request-url pre').textContent())?.trim() ?? '';
    assert.ok(
      requestUrl.startsWith(`${server.url}/`),
      `Try it out called ${requestUrl}, not this server (${server.url}): the document the UI loads must list this server first`,
    );
    assert.equal((await response.locator('.response-col_status').textContent())?.trim(), '200');
    const body = JSON.parse((await response.locator('.highlight-code pre').first().textContent()) ?? '') as {
      type: string;
      list: Array<Record<string, string>>;
    };
    assert.equal(body.type, 'list');
    assert.ok(
      body.list.some((d) => d.protocol === 'Simon' && d.namespace === 'federatedsecure'),
      `the Simon microservice is listed: ${JSON.stringify(body.list)}`,
    );
  });

  test('no console errors, page errors or failed requests', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
