import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { connectBrowser, openPage } from '../test-support/browser.js';
import { tempDir } from '../test-support/harness.js';

describe('the suite browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await connectBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opens a local page in a non-UTC zone and sees a request that leaves the machine', async () => {
    const dir = await tempDir();
    try {
      const file = path.join(dir.dir, 'p.html');
      await writeFile(file, `<html><body><div id="tz"></div><img src="http://192.0.2.1/x.png"><script>document.getElementById('tz').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone</script></body></html>`);
      const { page, outside, close } = await openPage(browser, { timezoneId: 'Asia/Tokyo' });
      await page.route('http://192.0.2.1/**', (route) => route.abort());
      await page.goto(`file://${file}`);
      expect(await page.textContent('#tz')).toBe('Asia/Tokyo');
      expect(outside).toEqual(['http://192.0.2.1/x.png']);
      await close();
    } finally {
      await dir.remove();
    }
  });
});
