// docs/compatibility-results.md, from the compatibility suite's results (scripts/compat-results.mjs renders it).
// Every vitest run records the results of the suite's files it ran (test-support/compat-results-reporter.ts).
//
//   node scripts/compat-report.mjs          runs the suite, then writes the file      (`npm run compat:report`)
//   node scripts/compat-report.mjs --check  renders the file from the results the last runs recorded (CI: `npm
//                                           test`, then `npm run test:distributed`), prints it, and fails when a
//                                           suite file has no results or the committed file differs
//                                           (`npm run check:compat-results`)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, inSuite, RESULTS_FILE, render, root } from './compat-results.mjs';

/** The suite's test files in the tree, relative to the root. */
function suiteFiles() {
  const found = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return found.stdout.split('\n').filter((f) => f.endsWith('.test.ts') && inSuite(f));
}

function recorded() {
  const results = existsSync(CACHE_DIR)
    ? readdirSync(CACHE_DIR).map((name) => JSON.parse(readFileSync(join(CACHE_DIR, name), 'utf8')))
    : [];
  const files = suiteFiles();
  // Results of a file that no longer exists are not shown.
  return {
    results: results.filter((r) => files.includes(r.file)),
    missing: files.filter((f) => !results.some((r) => r.file === f)),
  };
}

if (process.argv.includes('--check')) {
  const { results, missing } = recorded();
  const text = render(results);
  console.log(text);
  if (missing.length > 0) {
    console.error(`✗ No results recorded for ${missing.join(', ')}: run them (npm test; npm run test:distributed).`);
    process.exit(1);
  }
  if (!existsSync(RESULTS_FILE) || readFileSync(RESULTS_FILE, 'utf8') !== text) {
    console.error(
      '✗ docs/compatibility-results.md differs from what these test results render (above). Run `npm run compat:report` and commit it.',
    );
    process.exit(1);
  }
  console.log('✔ docs/compatibility-results.md matches the compatibility suite’s results');
} else {
  // Only this run's results count.
  rmSync(CACHE_DIR, { recursive: true, force: true });
  const run = spawnSync(
    'npx',
    [
      'vitest',
      'run',
      'packages/server/test/compat',
      'packages/server/test/distributed/aws-stagehand.e2e.test.ts',
      'examples/stagehand',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const { results, missing } = recorded();
  writeFileSync(RESULTS_FILE, render(results));
  const tests = results.flatMap((r) => r.tests);
  console.log(
    `docs/compatibility-results.md: ${tests.filter((t) => t.state === 'passed').length}/${tests.length} passed`,
  );
  if (missing.length > 0) console.error(`✗ no results for ${missing.join(', ')}`);
  process.exit(run.status === 0 && missing.length === 0 ? 0 : 1);
}
