import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, newToken, startEdgeClient, startExitServer, startSampleApp, stopAll, type ExitServerProc } from '@tunnel/testing';

/** Debian's Chromium, installed by scripts/ci/setup-docker.sh; never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';
/** The page's globals, typed here since this project compiles without the DOM library. */
interface PageGlobals {
  readonly document: {
    readonly cookie: string;
    getElementById(id: string): { readonly textContent: string | null } | null;
    querySelector(selector: string): { readonly textContent: string | null } | null;
  };
}
const REPORTS = fileURLToPath(new URL('../../reports/e2e/', import.meta.url));

describe('the live status page in headless Chromium', () => {
  const token = newToken();
  let server: ExitServerProc;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the status-page test needs Debian's chromium (sudo bash scripts/ci/setup-docker.sh installs it, or apt-get install chromium)`,
      );
    }
    const apps = [await startSampleApp('pi-1'), await startSampleApp('pi-2')];
    server = await startExitServer(token);
    for (const [i, app] of apps.entries()) await startEdgeClient(token, server.controlUrl, `pi-${i + 1}`, [app.url]);
    profile = mkdtempSync(join(tmpdir(), 'tunnel-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await stopAll();
  });

  it('logs in with the admin token, shows both clients, and the request rate moves after traffic', async () => {
    const page = await context.newPage();
    const ui = `http://127.0.0.1:${server.controlPort}/ui`;
    await page.goto(ui);
    // A wrong token is refused and sets no cookie.
    await page.fill('#token', 'not-the-admin-token');
    await page.click('#login');
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toContain('TUN_ERR_ADMIN_AUTH');
    expect(await context.cookies()).toEqual([]);

    await page.fill('#token', server.adminToken as string);
    await page.click('#login');
    await page.waitForSelector('#clients tbody tr[data-client="pi-1"]');
    await page.waitForSelector('#clients tbody tr[data-client="pi-2"]');
    expect(await page.textContent('#client-count')).toBe('2');
    // The token went in a POST body: never in the URL, and the session cookie is out of scripts' reach.
    expect(page.url()).toBe(ui);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'tunnel_ui', httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookies[0].value).not.toContain(server.adminToken as string);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).toBe('');
    expect(Number(await page.textContent('#rate'))).toBe(0);

    // Traffic: the rate (mean of the last 10 whole seconds) must rise above zero on the page.
    const traffic = (async () => {
      for (let i = 0; i < 60; i++) expect((await httpRequest(`${server.publicUrl}/`)).status).toBe(200);
    })();
    await traffic;
    await page.waitForFunction(
      () => Number((globalThis as unknown as PageGlobals).document.getElementById('rate')?.textContent) > 0,
      undefined,
      { timeout: 15_000 },
    );
    // The per-client request counts catch up with the 60 requests on a later update.
    await page.waitForFunction(
      () => {
        let sum = 0;
        for (const id of ['pi-1', 'pi-2'])
          sum += Number(
            (globalThis as unknown as PageGlobals).document.querySelector(`tr[data-client="${id}"] td:nth-child(6)`)?.textContent,
          );
        return sum >= 60;
      },
      undefined,
      { timeout: 15_000 },
    );
    mkdirSync(REPORTS, { recursive: true });
    await page.screenshot({ path: join(REPORTS, 'status-page.png'), fullPage: true });
    expect(existsSync(join(REPORTS, 'status-page.png'))).toBe(true);

    // Logging out ends the session: the event stream refuses the old cookie.
    const cookie = `tunnel_ui=${cookies[0].value}`;
    await page.click('text=Log out');
    await page.waitForSelector('#token');
    expect((await fetch(`${ui}/events`, { headers: { cookie } })).status).toBe(401);
    for (const line of server.proc.lines) expect(line).not.toContain(server.adminToken as string);
  });
});
