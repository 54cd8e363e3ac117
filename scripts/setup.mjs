#!/usr/bin/env node
// `npm run setup`: everything a fresh Debian machine with Node 20 and npm needs before `npm start` and
// `npm test`. Idempotent: each step is skipped when already done. No dependencies (it runs before `npm ci`).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ensureDynamoDbLocal } from './dynamodb-local.mjs';

const root = new URL('..', import.meta.url).pathname;
const step = (text) => console.log(`\n▸ ${text}`);
const fail = (text) => {
  console.error(`\n✗ ${text}`);
  process.exit(1);
};
const run = (command, args, options = {}) => {
  console.log(`  $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}).`);
};
const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));
let aptUpdated = false;
/** Installs Debian packages, as root or through sudo; `apt-get update` runs once, before the first install. */
const aptInstall = (packages) => {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !onPath('sudo'))
    fail(
      `Installing ${packages.join(', ')} needs root: run \`sudo apt-get install -y ${packages.join(' ')}\`, then \`npm run setup\` again.`,
    );
  const asRoot = (args) =>
    isRoot
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  if (!aptUpdated) asRoot(['update']);
  aptUpdated = true;
  asRoot(['install', '-y', ...packages]);
};

step('Node.js');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19))
  fail(`Node ${process.versions.node} is too old: Wallcrawler needs Node 20.19 or newer.`);
console.log(`  Node ${process.versions.node}`);

step('Chromium');
const explicit = process.env.WALLCRAWLER_CHROME_PATH;
const found = explicit
  ? executable(explicit) && explicit
  : ['/usr/lib/chromium/chromium', '/usr/lib/chromium-browser/chromium-browser'].find(executable) ||
    ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'].find(onPath);
if (explicit && !found) fail(`WALLCRAWLER_CHROME_PATH=${explicit} is not an executable file.`);
if (found) {
  console.log(`  found ${found}`);
} else if (onPath('apt-get')) {
  console.log("  not found: installing Debian's chromium package");
  aptInstall(['chromium']);
  if (!executable('/usr/lib/chromium/chromium')) fail('apt-get finished but /usr/lib/chromium/chromium is missing.');
} else {
  fail(
    'No Chromium found and this is not a Debian-like system. Install Chromium or Chrome, and set WALLCRAWLER_CHROME_PATH to its binary.',
  );
}
try {
  const version = execFileSync(found || '/usr/lib/chromium/chromium', ['--version'], { encoding: 'utf8' }).trim();
  console.log(`  ${version}`);
} catch {}

step('Java runtime (for DynamoDB Local, the emulator the DynamoDB adapter is tested against)');
if (onPath('java')) {
  console.log(`  found ${spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]}`);
} else if (onPath('apt-get')) {
  console.log("  not found: installing Debian's openjdk-17-jre-headless package");
  aptInstall(['openjdk-17-jre-headless']);
} else {
  console.log('  not found: only the DynamoDB adapter tests need it; install a Java 17 runtime to run them');
}

step('DynamoDB Local');
try {
  console.log(`  ${ensureDynamoDbLocal({ log: (line) => console.log(`  ${line}`) })}`);
} catch (error) {
  fail(error.message);
}

step('npm dependencies');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (process.env.CI || !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
} else {
  console.log('  up to date (node_modules matches package-lock.json)');
}

step('Build the packages');
run('npm', ['run', 'build']);

console.log('\n✓ Ready. Start a local Wallcrawler with `npm start`; run the tests with `npm test`.');
