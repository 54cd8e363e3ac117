import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expectNothingLeft } from '@wallcrawler/test-support';
import { usePageServer, useTestServer } from '@wallcrawler/test-support/test-server';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = fileURLToPath(new URL('../index.ts', import.meta.url));
const server = useTestServer();
const pages = usePageServer();

it('runs the quickstart against a local server', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=@wallcrawler/source', example, `${pages.url}/title/Example%20Domain`],
    { cwd: root, env: { ...process.env, WALLCRAWLER_API_KEY: server.apiKey, WALLCRAWLER_BASE_URL: server.url } },
  );
  expect(stdout).toMatch(/^Session [0-9a-f-]{36} is RUNNING$/m);
  expect(stdout).toContain('Title: Example Domain');
  expect(stdout).toContain('Viewport: 1280x800');
  expect(stdout).toMatch(/^Session [0-9a-f-]{36} is COMPLETED$/m);
  await expectNothingLeft(server.dataDir);
});

it('is the code the README shows', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const block = /<!-- quickstart: examples\/quickstart\/index\.ts -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README.md has the quickstart block').toBeDefined();
  expect(block).toBe(readFileSync(example, 'utf8'));
});
