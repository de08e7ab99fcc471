import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Debian's Chromium (the e2e global setup installs it when missing), headless, with nothing phoning home. */
export const CHROMIUM_PATH = process.env.TM_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

declare module 'vitest' {
  export interface ProvidedContext {
    browserWsEndpoint: string;
  }
}

/** One Chromium for the whole suite: the global setup starts it, every test file connects to it. */
export async function launchBrowserServer(): Promise<BrowserServer> {
  return chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Connects to the suite's Chromium; close the returned browser (a connection) when the file is done. */
export async function connectBrowser(): Promise<Browser> {
  return chromium.connect(inject('browserWsEndpoint'));
}

/**
 * A fresh page in its own context, in a time zone other than UTC (pages must not depend on the
 * browser's zone), that records every request leaving the machine (anything but file:, data:,
 * blob:, about: and loopback).
 */
export async function openPage(browser: Browser, options: { timezoneId?: string } = {}): Promise<{ page: Page; outside: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ timezoneId: options.timezoneId ?? 'America/Los_Angeles', viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const outside: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    const local = ['file:', 'data:', 'blob:', 'about:'].includes(url.protocol) || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (!local) outside.push(req.url());
  });
  return { page, outside, close: () => context.close() };
}
