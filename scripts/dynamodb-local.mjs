#!/usr/bin/env node
// DynamoDB Local, AWS's own emulator, for the DynamoDB adapter's tests. Its jar ships inside the npm package
// `amplify-dynamodb-simulator`; that package's own dependencies (the Amplify CLI core, about 450 packages) are
// not needed, so instead of installing it we fetch its tarball from the npm registry with `npm pack`, check it
// against the pinned integrity, and keep only `emulator/` under `.cache/`. It runs on a Java 17 runtime
// (Debian's `openjdk-17-jre-headless`). `npm test`'s pretest (scripts/prepare-tests.mjs) installs both.
//
// `node scripts/dynamodb-local.mjs` prints the emulator's directory, fetching it first when missing; with
// `--java`, it first installs the Java runtime when there is none (what `npm run aws:local` runs, its output
// sent to stderr).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, onPath } from './steps.mjs';

export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const INTEGRITY = 'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';
const root = new URL('..', import.meta.url).pathname;

/** The directory holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib/`. */
export const dynamoDbLocalDir = join(root, '.cache', 'dynamodb-local', DYNAMODB_LOCAL_PACKAGE.split('@')[1]);

/**
 * Makes sure the emulator is unpacked in `dynamoDbLocalDir`, fetching it once.
 * @returns that directory.
 * @throws Error saying which step failed.
 */
export function ensureDynamoDbLocal({ log = () => {} } = {}) {
  if (existsSync(join(dynamoDbLocalDir, 'DynamoDBLocal.jar'))) return dynamoDbLocalDir;
  const work = `${dynamoDbLocalDir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    log(`fetching ${DYNAMODB_LOCAL_PACKAGE} (about 56 MB) from the npm registry`);
    const pack = spawnSync('npm', ['pack', DYNAMODB_LOCAL_PACKAGE, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
    });
    if (pack.status !== 0) throw new Error(`npm pack ${DYNAMODB_LOCAL_PACKAGE} failed: ${pack.stderr.trim()}`);
    const [{ filename }] = JSON.parse(pack.stdout);
    const tarball = join(work, filename);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== INTEGRITY) throw new Error(`${filename} does not match its pinned integrity (got ${digest})`);
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', work, 'package/emulator'], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`tar could not unpack ${filename}: ${untar.stderr.trim()}`);
    mkdirSync(join(dynamoDbLocalDir, '..'), { recursive: true });
    renameSync(join(work, 'package', 'emulator'), dynamoDbLocalDir);
    return dynamoDbLocalDir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes sure a Java runtime is on the PATH: Debian's `openjdk-17-jre-headless` through apt-get when there is
 * none (as root or through sudo; `rerun` is the command to run again once the user installed it by hand).
 * @throws Error when there is no Java and no apt-get to install it with
 */
export function ensureJava({ log = () => {}, rerun }) {
  if (onPath('java')) {
    log(`found ${spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]}`);
    return;
  }
  if (!onPath('apt-get'))
    throw new Error(
      `No Java runtime found: install a Java 17 runtime (DynamoDB Local runs on it), then run \`${rerun}\` again.`,
    );
  log("not found: installing Debian's openjdk-17-jre-headless package");
  aptInstall(['openjdk-17-jre-headless'], rerun);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line) => console.error(line);
  try {
    if (process.argv.includes('--java')) ensureJava({ log, rerun: 'npm run aws:local' });
    console.log(ensureDynamoDbLocal({ log }));
  } catch (error) {
    console.error(`✗ ${error.message}`);
    process.exit(1);
  }
}
