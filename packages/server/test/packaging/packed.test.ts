import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expectNothingLeft, type PageServer, startPageServer, waitFor } from '@wallcrawler/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
const PACKAGES = ['contracts', 'sdk', 'server', 'controller', 'infra-cdk', 'stagehand-adapter'];
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
      ['@wallcrawler/contracts', 'TABLES'],
      ['@wallcrawler/sdk', 'Wallcrawler'],
      ['@wallcrawler/server', 'createApp'],
      ['@wallcrawler/server/node', 'startLocalServer'],
      ['@wallcrawler/server/aws', 'createLambdaHandlers'],
      ['@wallcrawler/controller', 'StagehandRunner'],
      ['@wallcrawler/controller/aws', 'SessionTable'],
      ['@wallcrawler/controller/task', 'startController'],
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

  it("keeps @wallcrawler/infra-cdk's production dependencies to the contracts and its CDK peers", async () => {
    // The installed tree as npm resolved it: every package's production dependencies, peers included.
    // npm exits 1 over problems elsewhere in the consumer's tree (peers it could not satisfy); its JSON is whole.
    const { stdout } = await run('npm', ['ls', '--all', '--omit=dev', '--json'], {
      cwd: consumer,
      maxBuffer: 64 << 20,
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    interface Node {
      dependencies?: Record<string, Node>;
    }
    const nodes = new Map<string, Node>();
    const index = (deps: Record<string, Node> = {}) => {
      for (const [name, node] of Object.entries(deps)) {
        // A deduped entry has no children of its own; the first full one stands for the package.
        if (node.dependencies && !nodes.get(name)?.dependencies) nodes.set(name, node);
        else if (!nodes.has(name)) nodes.set(name, node);
        index(node.dependencies);
      }
    };
    index((JSON.parse(stdout) as Node).dependencies);
    const reached = new Set<string>();
    const walk = (name: string) => {
      if (reached.has(name)) return;
      reached.add(name);
      for (const child of Object.keys(nodes.get(name)?.dependencies ?? {})) walk(child);
    };
    walk('@wallcrawler/infra-cdk');
    // The server is reached through everything else the consumer installed, so the tree is not empty of it by luck.
    expect(nodes.has('@wallcrawler/controller')).toBe(true);
    for (const heavy of [
      '@wallcrawler/server',
      '@wallcrawler/controller',
      '@browserbasehq/stagehand',
      '@rrweb/record',
      'ws',
    ]) {
      expect(reached.has(heavy), `${heavy} in infra-cdk's production tree`).toBe(false);
    }
    expect(reached).toContain('@wallcrawler/contracts');
  });

  it('synthesizes the stack from the installed @wallcrawler/infra-cdk, with the assets it carries', async () => {
    writeFileSync(
      join(consumer, 'synth.mjs'),
      [
        "import { WallcrawlerStack, wallcrawlerAssets } from '@wallcrawler/infra-cdk';",
        "import { App } from 'aws-cdk-lib';",
        "const app = new App({ outdir: 'cdk.out' });",
        "new WallcrawlerStack(app, 'Packed', { env: { account: '123456789012', region: 'us-east-1' } });",
        'app.synth();',
        'console.log(JSON.stringify(wallcrawlerAssets()));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['synth.mjs'], { cwd: consumer, maxBuffer: 16 << 20 });
    const assets = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, string>;
    const installed = join(consumer, 'node_modules', '@wallcrawler', 'infra-cdk', 'assets');
    for (const path of Object.values(assets)) expect(path.startsWith(installed), path).toBe(true);
    const manifest = JSON.parse(readFileSync(join(consumer, 'cdk.out', 'Packed.assets.json'), 'utf8')) as {
      dockerImages: Record<string, unknown>;
      files: Record<string, unknown>;
    };
    expect(Object.keys(manifest.dockerImages)).toHaveLength(1);
    expect(Object.keys(manifest.files).length).toBeGreaterThanOrEqual(3);
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
