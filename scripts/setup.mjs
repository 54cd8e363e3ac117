#!/usr/bin/env node
// `npm run setup`: what a fresh Debian machine with Node 20 and npm needs before `npm start`, and nothing more:
// Chromium, the npm dependencies, and the JavaScript of the packages the server runs. The tools only the tests
// need (a Java runtime, DynamoDB Local, the Stagehand 4 client) and the full build with type declarations come
// with `npm test`'s pretest (scripts/prepare-tests.mjs). Idempotent: each step is skipped when already done.
// No dependencies (it runs before `npm ci`).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, buildIsCurrent, executable, fail, onPath, root, run, step, workspacePackages } from './steps.mjs';

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
  aptInstall(['chromium'], 'npm run setup');
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

step('npm dependencies');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (process.env.CI || !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
} else {
  console.log('  up to date (node_modules matches package-lock.json)');
}

// The server and the workspace packages it imports at run time, each before the packages that import it (the
// server's bundles include the controller's build). JavaScript only: the type declarations, which take most of a
// full build's time, are for the packages' users and the packaging test, and `npm test` builds them.
const packages = workspacePackages();
const order = [];
const visit = (name) => {
  const dependencies = Object.keys(packages.get(name).manifest.dependencies ?? {});
  for (const dependency of dependencies) if (packages.has(dependency) && !order.includes(dependency)) visit(dependency);
  order.push(name);
};
visit('@wallcrawler/server');
step(`Build what \`npm start\` runs (${order.join(', ')}; JavaScript only)`);
const startPackages = order.map((name) => packages.get(name));
if (buildIsCurrent(startPackages, (manifest) => manifest.module)) {
  console.log('  up to date (each build is newer than the sources)');
} else {
  for (const name of order) run('npm', ['run', 'build', `--workspace=${name}`, '--silent', '--', '--no-dts']);
}

console.log(
  '\n✓ Ready. Start a local Wallcrawler with `npm start`. `npm test` installs what only the tests need on its first run, then runs them.',
);
