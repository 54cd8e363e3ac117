#!/usr/bin/env node
// Fails when src/generated/openapi.d.ts no longer matches what `npm run generate` would write from openapi.yaml.
// It regenerates in memory instead of running the CLI so the check never touches the working tree.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const packageDir = new URL('../', import.meta.url);
const specURL = new URL('../../openapi.yaml', packageDir);
const generatedURL = new URL('src/generated/openapi.d.ts', packageDir);

// @redocly/openapi-core is openapi-typescript's own dependency; resolve it from there rather than relying on hoisting.
const requireFromGenerator = createRequire(createRequire(import.meta.url).resolve('openapi-typescript'));
const { createConfig, findConfig, loadConfig } = await import(
  pathToFileURL(requireFromGenerator.resolve('@redocly/openapi-core')).href
);

/**
 * The Redocly config the CLI would use: a redocly.yaml next to where `npm run generate` runs (this package),
 * else the "minimal" ruleset. The programmatic default differs (it adds an operationId rule), so spell it out.
 */
async function cliRedoclyConfig() {
  const configPath = findConfig(fileURLToPath(packageDir));
  return configPath ? loadConfig({ configPath }) : createConfig({}, { extends: ['minimal'] });
}

async function main() {
  // Same header and options as `openapi-typescript <input> -o <file>` without flags: every flag is left undefined
  // and, as when the CLI writes a file, lint warnings are printed.
  let expected;
  try {
    const ast = await openapiTS(specURL, { redocly: await cliRedoclyConfig(), silent: false });
    expected = `${COMMENT_HEADER}${astToString(ast)}`;
  } catch (error) {
    fail(`Could not generate types from openapi.yaml: ${error instanceof Error ? error.message : error}`);
  }

  const relativeGenerated = 'packages/sdk/src/generated/openapi.d.ts';
  let committed;
  try {
    committed = await readFile(generatedURL, 'utf8');
  } catch (error) {
    if (error?.code !== 'ENOENT') throw error;
    fail(`${relativeGenerated} is missing. Run \`npm run generate\` and commit the result.`);
  }
  if (committed !== expected) {
    const firstDiff = firstDifferingLine(committed, expected);
    fail(
      `${relativeGenerated} is stale: it does not match openapi.yaml (first difference at line ${firstDiff}).\n` +
        '  Run `npm run generate` and commit the result.',
    );
  }
  process.stdout.write(`✔ ${relativeGenerated} matches openapi.yaml\n`);
}

/** Prints `message` to stderr and exits 1. */
function fail(message) {
  process.stderr.write(`✖ ${message}\n`);
  process.exit(1);
}

/** 1-based number of the first line where the two texts differ. */
function firstDifferingLine(a, b) {
  const linesA = a.split('\n');
  const linesB = b.split('\n');
  const length = Math.max(linesA.length, linesB.length);
  for (let i = 0; i < length; i++) {
    if (linesA[i] !== linesB[i]) return i + 1;
  }
  return length;
}

await main();
