import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Where to look for a Chromium binary, in order. The Debian package's real binary comes before its
 * `/usr/bin/chromium` shell wrapper: the wrapper costs ~25 ms per launch and adds flags of its own.
 */
const CANDIDATES = [
  '/usr/lib/chromium/chromium',
  '/usr/lib/chromium-browser/chromium-browser',
  'chromium',
  'chromium-browser',
  'google-chrome-stable',
  'google-chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Finds the Chromium binary: `explicitPath` if given (it must exist), else the first candidate that does.
 * @throws Error naming what was tried and how to fix it.
 */
export function findChromium(explicitPath?: string, pathEnv = process.env.PATH ?? ''): string {
  if (explicitPath) {
    if (isExecutable(explicitPath)) return explicitPath;
    throw new Error(
      `Chromium was not found at ${explicitPath} (WALLCRAWLER_CHROME_PATH). Point it at a Chromium or Chrome binary.`,
    );
  }
  for (const candidate of CANDIDATES) {
    const found = candidate.includes('/')
      ? isExecutable(candidate)
        ? candidate
        : undefined
      : onPath(candidate, pathEnv);
    if (found) return found;
  }
  throw new Error(
    "No Chromium found. Run `npm run setup` (installs Debian's chromium package), or set WALLCRAWLER_CHROME_PATH to a Chromium or Chrome binary.",
  );
}
