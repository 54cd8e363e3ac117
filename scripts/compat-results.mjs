// What docs/compatibility-results.md says, rendered from test results: which test files are the compatibility
// suite, which client each exercises, and the file's text. Shared by the vitest reporter that records the results
// of every run (test-support/compat-results-reporter.ts) and by scripts/compat-report.mjs, which writes or checks
// the file. No date and no hand-kept number: the same tests with the same results render the same file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_FILE = join(root, 'docs/compatibility-results.md');
/** Where the reporter keeps each compat file's last results (one JSON file per test file). */
export const CACHE_DIR = join(root, 'node_modules/.cache/wallcrawler-compat-results');

/** The compatibility suite's test files, relative to the repository's root. */
export const SUITE = [
  /^packages\/server\/test\/compat\/[^/]+\.test\.ts$/,
  /^packages\/server\/test\/distributed\/aws-stagehand\.e2e\.test\.ts$/,
  /^examples\/stagehand\/test\/[^/]+\.test\.ts$/,
];
export const inSuite = (file) => SUITE.some((pattern) => pattern.test(file));

const version = (packageJson) => {
  try {
    return JSON.parse(readFileSync(join(root, packageJson), 'utf8')).version;
  } catch {
    return '(not installed)';
  }
};

/** Which client a test exercises, from its file and its describe blocks. */
function clientOf(file, ancestors, v) {
  const describe = ancestors.join(' ');
  if (/\/browserbase-sdk-[a-z-]+\.test\.ts$/.test(file)) {
    if (describe.includes('Playwright')) return `@browserbasehq/sdk ${v.sdk} + playwright-core ${v.playwright}`;
    if (/sessions|contexts|artifacts|env/.test(file))
      return `@browserbasehq/sdk ${v.sdk} + puppeteer-core ${v.puppeteer}`;
    return `@browserbasehq/sdk ${v.sdk}`;
  }
  if (file.endsWith('create-fields.test.ts') || file.endsWith('sdk-methods-table.test.ts'))
    return `@browserbasehq/sdk ${v.sdk}`;
  if (file.endsWith('stagehand-api.test.ts')) {
    if (describe.includes('disableAPI')) return `@browserbasehq/stagehand ${v.stagehand3} (disableAPI)`;
    if (describe.includes('bad input')) return 'Stagehand API over raw HTTP';
    return `@browserbasehq/stagehand ${v.stagehand3} (API mode)`;
  }
  if (file.endsWith('stagehand-v4.test.ts')) return `@browserbasehq/stagehand ${v.stagehand4} (Node 22)`;
  if (file.endsWith('agent-tools.test.ts')) return `agents' MCP servers: ${v.agentTools}`;
  if (file.endsWith('aws-stagehand.e2e.test.ts'))
    return `@browserbasehq/stagehand ${v.stagehand3} (API mode, AWS path)`;
  if (file.startsWith('examples/stagehand')) return `@wallcrawler/stagehand-adapter + Stagehand ${v.stagehand3}`;
  return file;
}

/** What the suite shows is not there; docs/compatibility.md has every SDK method's treatment. */
const notSupported = (v) => [
  [`@browserbasehq/sdk ${v.sdk}`, 'certificates, secrets, agents (and runs), functions (secrets)', '501 not_supported'],
  [`@browserbasehq/sdk ${v.sdk}`, 'webhooks on AWS', 'served, nothing delivered yet (issue 19)'],
  [`@browserbasehq/sdk ${v.sdk}`, 'fetchAPI.create with proxies: true', '400 proxies_not_configured'],
  [`@browserbasehq/sdk ${v.sdk}`, 'search.web without WALLCRAWLER_SEARCH_URL', '501 not_supported'],
  [
    `@browserbasehq/sdk ${v.sdk}`,
    'sessions.replays.retrievePage (HLS video)',
    '501: no video, rrweb replay pages instead',
  ],
  [
    `@browserbasehq/sdk ${v.sdk}`,
    'proxies (browserbase, external), allowedDomains, ignoreCertificateErrors',
    '400 unsupported_field (see compatibility.md)',
  ],
  [
    `@browserbasehq/stagehand ${v.stagehand3} (API mode)`,
    'agent().execute() with a computer-use (cua) agent',
    '501 not_supported',
  ],
  ['any client', 'Selenium at seleniumRemoteUrl', 'not served'],
];

/**
 * The file's text from the results: `[{ file, tests: [{ ancestors, title, state }] }]`, one entry per suite file,
 * `file` relative to the root. Rows are ordered by client, then file, then the tests' order in the file.
 */
export function render(results) {
  const v = {
    sdk: version('node_modules/@browserbasehq/sdk/package.json'),
    stagehand3: version('node_modules/@browserbasehq/stagehand/package.json'),
    stagehand4: version('compat/stagehand-v4/node_modules/@browserbasehq/stagehand/package.json'),
    playwright: version('node_modules/playwright-core/package.json'),
    puppeteer: version('node_modules/puppeteer-core/package.json'),
    agentTools: ['@playwright/mcp', 'chrome-devtools-mcp', '@browserbasehq/mcp-server-browserbase']
      .map((name) => `${name} ${version(`compat/agent-tools/node_modules/${name}/package.json`)}`)
      .join(', '),
  };
  const rows = [];
  for (const { file, tests } of [...results].sort((a, b) => a.file.localeCompare(b.file))) {
    for (const test of tests) {
      const result = test.state === 'passed' ? 'pass' : test.state === 'failed' ? '**fail**' : test.state;
      rows.push([clientOf(file, test.ancestors, v), test.title, result]);
    }
  }
  // Stable: within a client, the files' order and each file's own order stay.
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const passed = rows.filter((r) => r[2] === 'pass').length;
  const cell = (s) => String(s).replaceAll('|', '\\|');
  return [
    '# Compatibility results',
    '',
    'Generated from the compatibility suite (`packages/server/test/compat`, `examples/stagehand`, and the AWS',
    "path's Stagehand test): the official clients as published, unmodified, against a real Wallcrawler server and",
    'real Chromium. CI renders this file from its own run of those tests and fails when it differs from this one',
    '(`npm run check:compat-results`), so it is what the tests of this commit did. Edit the tests, not this file;',
    '`npm run compat:report` rewrites it (docs/testing.md).',
    '',
    `${passed} of ${rows.length} passed.`,
    '',
    '| client | what | result |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    ...notSupported(v).map(
      ([client, what, why]) => `| ${cell(client)} | ${cell(what)} | not supported: ${cell(why)} |`,
    ),
    '',
  ].join('\n');
}
