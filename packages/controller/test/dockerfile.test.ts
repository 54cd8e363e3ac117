import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The image cannot be built here (no container engine), so its Dockerfile is checked for what the original's
 * lacked, and the distributed tests run its CMD with the stack's environment.
 */
const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\r?\n/g, ' ')
  .split('\n')
  .filter((l) => /^[A-Z]+\s/.test(l));
const all = (name: string) => instructions.filter((l) => l.startsWith(`${name} `));

describe('the controller Dockerfile', () => {
  it('takes its base image as a build argument', () => {
    expect(instructions[0]).toMatch(/^ARG BASE_IMAGE=debian:/);
    expect(all('FROM')).toEqual([`FROM \${BASE_IMAGE}`]);
  });

  it("installs Debian's Chromium and Node, and an init", () => {
    const install = all('RUN').find((r) => r.includes('apt-get install')) ?? '';
    for (const pkg of ['chromium', 'nodejs', 'tini']) expect(install).toMatch(new RegExp(`\\s${pkg}\\s`));
  });

  it('runs as a non-root user whose home exists and is writable, and keeps its data there', () => {
    const useradd = all('RUN').find((r) => r.includes('useradd')) ?? '';
    expect(useradd).toMatch(/--create-home/);
    const home = /--home-dir (\S+)/.exec(useradd)?.[1];
    expect(home).toBeTruthy();
    expect(all('USER')).toEqual(['USER wallcrawler']);
    expect(dockerfile).toMatch(new RegExp(`WALLCRAWLER_DATA_DIR=${home}/`));
  });

  it('forwards SIGTERM through tini to the controller, checks its health, and exposes 9223', () => {
    expect(all('ENTRYPOINT')).toEqual(['ENTRYPOINT ["/usr/bin/tini", "--"]']);
    expect(all('CMD')).toEqual(['CMD ["node", "dist/task/main.js"]']);
    expect(all('HEALTHCHECK')[0]).toMatch(/CMD \["node", "dist\/task\/health.js"\]/);
    expect(all('EXPOSE')).toEqual(['EXPOSE 9223']);
  });
});
