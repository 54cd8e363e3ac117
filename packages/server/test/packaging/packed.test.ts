import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNothingLeft, type PageServer, startPageServer, waitFor } from '../../../../test-support/index.js';

/**
 * What users install is what is tested: every published package is packed (`npm pack`, from its build), the
 * tarballs are installed into a clean directory outside the monorepo, and there the quickstart runs against
 * `npx wallcrawler start` from the installed server, each package is imported as ESM and as CommonJS, and a
 * consumer file type-checks. A missing `files` entry, a dependency only the workspace provides, or a broken
 * `exports` map fails here. Needs the full build, with type declarations, first: `npm run build`, which
 * `npm test`'s pretest runs (`npm run setup` builds only the JavaScript the server runs).
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const PACKAGES = ['sdk', 'server', 'controller', 'infra-cdk', 'stagehand-adapter'];
const consumer = mkdtempSync(join(tmpdir(), 'packed-consumer-'));
let pages: PageServer;

beforeAll(async () => {
  const unbuilt = PACKAGES.filter((p) => !existsSync(join(root, 'packages', p, 'dist', 'index.d.ts')));
  if (unbuilt.length > 0) {
    throw new Error(
      `The packaging test packs the full build, with type declarations, which ${unbuilt.join(', ')} lack: run \`npm run build\` (npm test's pretest does).`,
    );
  }
  pages = await startPageServer();
  const tarballs = join(consumer, 'tarballs');
  mkdirSync(tarballs);
  await run(
    'npm',
    ['pack', ...PACKAGES.map((p) => `--workspace=@wallcrawler/${p}`), '--pack-destination', tarballs, '--silent'],
    { cwd: root },
  );
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((f) => `./tarballs/${f}`);
  expect(files).toHaveLength(PACKAGES.length);
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...files,
      'puppeteer-core@~24.43.1',
      'typescript@~5.9.3',
      '@types/node@^20.19.43',
    ],
    { cwd: consumer },
  );
}, 300_000);

afterAll(async () => {
  await pages?.close();
  rmSync(consumer, { recursive: true, force: true });
});

describe('the packed packages, installed outside the monorepo', () => {
  it('import as ESM and as CommonJS, every entry point of every package', async () => {
    const entries = [
      ['@wallcrawler/sdk', 'Wallcrawler'],
      ['@wallcrawler/server', 'createApp'],
      ['@wallcrawler/server/node', 'startLocalServer'],
      ['@wallcrawler/server/aws', 'createLambdaHandlers'],
      ['@wallcrawler/controller', 'StagehandRunner'],
      ['@wallcrawler/infra-cdk', 'WallcrawlerStack'],
      ['@wallcrawler/stagehand-adapter', 'wallcrawlerV3'],
    ];
    const esm = entries.map(
      ([name, symbol]) => `import { ${symbol} } from '${name}'; if (!${symbol}) throw new Error('${name}');`,
    );
    writeFileSync(join(consumer, 'esm.mjs'), `${esm.join('\n')}\nconsole.log('esm ok');\n`);
    const cjs = entries.map(([name, symbol]) => `if (!require('${name}').${symbol}) throw new Error('${name}');`);
    writeFileSync(join(consumer, 'cjs.cjs'), `${cjs.join('\n')}\nconsole.log('cjs ok');\n`);
    expect((await run(process.execPath, ['esm.mjs'], { cwd: consumer })).stdout).toContain('esm ok');
    expect((await run(process.execPath, ['cjs.cjs'], { cwd: consumer })).stdout).toContain('cjs ok');
  });

  it('type-checks a consumer: the quickstart, and the adapter with the SDK types', async () => {
    mkdirSync(join(consumer, 'src'), { recursive: true });
    copyFileSync(join(root, 'examples/quickstart/index.ts'), join(consumer, 'src/quickstart.ts'));
    writeFileSync(
      join(consumer, 'src/consumer.ts'),
      [
        "import { Wallcrawler, type paths } from '@wallcrawler/sdk';",
        "import { resolveConnection, stagehandV3Env } from '@wallcrawler/stagehand-adapter';",
        "type Create = paths['/v1/sessions']['post']['requestBody'];",
        "const body: NonNullable<Create>['content']['application/json'] = { keepAlive: true, browserSettings: { viewport: { width: 800 } } };",
        "const client = new Wallcrawler({ apiKey: 'k', baseURL: resolveConnection({ apiKey: 'k', baseUrl: 'http://h' }).baseUrl });",
        'export const values = [client, body, stagehandV3Env];',
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          lib: ['ES2023', 'DOM'],
          types: ['node'],
          outDir: 'out',
          skipLibCheck: false,
        },
        include: ['src'],
      }),
    );
    const result = await run(join(consumer, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: consumer }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout, failed: true }),
    );
    expect(result.stdout).toBe('');
  });

  it('runs the quickstart against `npx wallcrawler start` from the installed server', async () => {
    const apiKey = `wc_packed_${randomBytes(16).toString('hex')}`;
    const dataDir = join(consumer, 'data');
    const server = spawn('npx', ['--no-install', 'wallcrawler', 'start'], {
      cwd: consumer,
      env: {
        ...process.env,
        WALLCRAWLER_API_KEY: apiKey,
        WALLCRAWLER_PORT: '0',
        WALLCRAWLER_DATA_DIR: dataDir,
        WALLCRAWLER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const url = await waitFor(() => /is listening on (http:\/\/\S+)/.exec(output)?.[1], {
        timeout: 30_000,
        message: `the installed server to listen:\n${output}`,
      });
      const { stdout } = await run(process.execPath, ['out/quickstart.js', `${pages.url}/title/Packed`], {
        cwd: consumer,
        env: { ...process.env, WALLCRAWLER_API_KEY: apiKey, WALLCRAWLER_BASE_URL: url },
      });
      expect(stdout).toMatch(/^Session [0-9a-f-]{36} is RUNNING$/m);
      expect(stdout).toContain('Title: Packed');
      expect(stdout).toMatch(/^Session [0-9a-f-]{36} is COMPLETED$/m);
    } finally {
      // As a supervisor stops it: SIGTERM to npx's pid alone. npx hands it to its `sh -c`, which dies of it
      // without passing it on; the server sees the npm that started it gone and stops through its close path.
      const exited = new Promise((resolve) => server.once('exit', resolve));
      if (server.pid) process.kill(server.pid, 'SIGTERM');
      await exited;
      const groupGone = () => {
        try {
          process.kill(-(server.pid as number), 0);
          return false;
        } catch {
          return true;
        }
      };
      await waitFor(groupGone, { timeout: 30_000, message: `the installed server to stop:\n${output}` });
    }
    expect(output).toContain('Stopping (the npm that started it went away)');
    await expectNothingLeft(dataDir);
  });
});
