// Installs the client packages the compatibility suite runs outside the workspace: Stagehand 4 with the Node 22 it
// needs (compat/stagehand-v4). It is not a workspace because its `node` binary would shadow Node 20 for every npm
// script. Runs before `npm test`; it does nothing when the install matches the lockfile.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['compat/stagehand-v4']) {
  const path = join(root, dir);
  const lock = join(path, 'package-lock.json');
  const installed = join(path, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) continue;
  console.log(`Installing ${dir} (npm ci) for the compatibility suite...`);
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: path, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`npm ci in ${dir} failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}
