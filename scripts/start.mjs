#!/usr/bin/env node
// `npm start`: the built `wallcrawler start`. Says what to do when the build is missing instead of a stack trace.
// package.json runs it with `exec`, so that npm's child is this process and not a `sh -c` around it: npm forwards
// SIGINT and SIGTERM to its child only, and the shell would die of a SIGTERM without passing it on, leaving the
// server running (the CLI stops on either, through the server's close path).
import { existsSync } from 'node:fs';

const cli = new URL('../packages/server/dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(
    'Wallcrawler is not built yet: run `npm run setup` first (it installs Chromium and dependencies, then builds).',
  );
  process.exit(1);
}
process.argv.splice(2, process.argv.length - 2, 'start', ...process.argv.slice(2));
await import(cli.href);
