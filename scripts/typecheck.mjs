#!/usr/bin/env node
// `npm run typecheck`: tsc over the monorepo and over each example, which has a tsconfig of its own. The
// monorepo's program takes most of the time; the examples check one after another beside it, on the second core,
// instead of after it. Each program's output is printed whole when it ends, so two never interleave.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const root = new URL('..', import.meta.url).pathname;

/** Runs tsc on `project`; resolves with whether it passed, having printed what it said. */
const check = (project) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', project], { cwd: root });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => {
      if (output) process.stdout.write(output);
      if (code !== 0) console.error(`✗ tsc -p ${project} failed (exit ${code})`);
      resolve(code === 0);
    });
  });

const examples = async () => {
  let passed = true;
  for (const project of ['examples/quickstart', 'examples/cdk-app', 'examples/stagehand'])
    passed = (await check(project)) && passed;
  return passed;
};

const results = await Promise.all([check('tsconfig.json'), examples()]);
process.exit(results.every(Boolean) ? 0 : 1);
