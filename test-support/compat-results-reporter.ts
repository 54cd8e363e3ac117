/**
 * A vitest reporter beside the default one (vitest.config.ts): at the end of every run it keeps the results of
 * the compatibility suite's files that ran (scripts/compat-results.mjs says which) in
 * `node_modules/.cache/wallcrawler-compat-results/`, one JSON file per test file. `npm run check:compat-results`
 * renders docs/compatibility-results.md from them and compares; `npm run compat:report` writes it. It costs the
 * run a few file writes: the suite is not run again for the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { CACHE_DIR, inSuite, root, type SuiteFileResults } from '../scripts/compat-results.mjs';

type Node = { type: string; name?: string; parent?: Node };

export default class CompatResultsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    for (const module of testModules) {
      const file = relative(root, module.moduleId).replaceAll('\\', '/');
      if (!inSuite(file) || module.state() === 'queued') continue;
      const tests = [...module.children.allTests()].map((test) => {
        const ancestors: string[] = [];
        for (let node = test.parent as Node | undefined; node && node.type === 'suite'; node = node.parent) {
          ancestors.unshift(node.name ?? '');
        }
        return { ancestors, title: test.name, state: test.result().state };
      });
      mkdirSync(CACHE_DIR, { recursive: true });
      writeFileSync(
        join(CACHE_DIR, `${file.replaceAll('/', '__')}.json`),
        JSON.stringify({ file, tests } satisfies SuiteFileResults),
      );
    }
  }
}
