import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The Dockerfile checked for what the original's lacked, without a container engine (the image itself is built
 * and run by `npm run test:image`: test/image).
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

  it('installs no npm and runs no npm install: its /app is the bundled dist/app, and only that goes in', () => {
    expect(instructions.join('\n')).not.toMatch(/\bnpm\b\s+(install|ci)|\snpm\s/);
    expect(all('COPY')).toEqual(['COPY dist/app/ ./']);
    const ignore = readFileSync(new URL('../.dockerignore', import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(['*', '!dist/app/**', 'dist/**/*.map']);
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
