import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@wallcrawler/test-support';
import * as tar from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { packProfile, unpackProfile } from '../../src/context/profile-archive.js';

const key = randomBytes(32);
const dirs: { remove(): void }[] = [];
function scratch() {
  const dir = tempDir('wallcrawler-archive-');
  dirs.push(dir);
  return dir.path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** Seals an arbitrary tar.gz the way packProfile does, to hand unpackProfile archives it would never make. */
async function seal(tgz: string, out: string, contextId: string) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`wallcrawler-context:${contextId}`));
  const body = Buffer.concat([cipher.update(await readFile(tgz)), cipher.final()]);
  await writeFile(out, Buffer.concat([Buffer.from('WCX1'), iv, body, cipher.getAuthTag()]));
}

function profileWithFiles(root: string) {
  const profile = join(root, 'profile');
  mkdirSync(join(profile, 'Default', 'Local Storage', 'leveldb'), { recursive: true });
  mkdirSync(join(profile, 'Default', 'Cache'), { recursive: true });
  writeFileSync(join(profile, 'Default', 'Cookies'), 'cookie-db');
  writeFileSync(join(profile, 'Default', 'Local Storage', 'leveldb', '000003.log'), 'storage');
  writeFileSync(join(profile, 'Default', 'Cache', 'data_0'), 'x'.repeat(1000));
  symlinkSync('host-12345', join(profile, 'SingletonLock'));
  return profile;
}

describe('context archives', () => {
  it('round-trips a profile, leaving out caches and the singleton links', async () => {
    const root = scratch();
    const profile = profileWithFiles(root);
    const archive = join(root, 'ctx.enc');
    const packed = await packProfile({ profileDir: profile, outFile: archive, contextId: 'c1', key, maxBytes: 1e6 });
    expect(packed.contentBytes).toBe('cookie-db'.length + 'storage'.length);
    // Encrypted: the plaintext is nowhere in the blob.
    expect(readFileSync(archive).includes(Buffer.from('cookie-db'))).toBe(false);

    const target = join(root, 'restored');
    await unpackProfile({ inFile: archive, profileDir: target, contextId: 'c1', key, maxBytes: 1e6, workDir: root });
    expect(readFileSync(join(target, 'Default', 'Cookies'), 'utf8')).toBe('cookie-db');
    expect(readFileSync(join(target, 'Default', 'Local Storage', 'leveldb', '000003.log'), 'utf8')).toBe('storage');
    expect(existsSync(join(target, 'Default', 'Cache'))).toBe(false);
    expect(existsSync(join(target, 'SingletonLock'))).toBe(false);
  });

  it('refuses to pack a profile over the size cap, and writes nothing', async () => {
    const root = scratch();
    const profile = profileWithFiles(root);
    const archive = join(root, 'ctx.enc');
    await expect(
      packProfile({ profileDir: profile, outFile: archive, contextId: 'c1', key, maxBytes: 10 }),
    ).rejects.toMatchObject({ code: 'too_large', message: expect.stringMatching(/over the context size limit/) });
    expect(existsSync(archive)).toBe(false);
  });

  it('refuses a tampered archive, another key, and another context id, extracting nothing', async () => {
    const root = scratch();
    const archive = join(root, 'ctx.enc');
    await packProfile({ profileDir: profileWithFiles(root), outFile: archive, contextId: 'c1', key, maxBytes: 1e6 });
    const target = join(root, 'restored');
    const unpack = (over: Partial<Parameters<typeof unpackProfile>[0]>) =>
      unpackProfile({
        inFile: archive,
        profileDir: target,
        contextId: 'c1',
        key,
        maxBytes: 1e6,
        workDir: root,
        ...over,
      });

    await expect(unpack({ contextId: 'c2' })).rejects.toMatchObject({ code: 'not_authentic' });
    await expect(unpack({ key: randomBytes(32) })).rejects.toMatchObject({ code: 'not_authentic' });
    const bytes = readFileSync(archive);
    bytes[40] = (bytes[40] ?? 0) ^ 1;
    const tampered = join(root, 'tampered.enc');
    writeFileSync(tampered, bytes);
    await expect(unpack({ inFile: tampered })).rejects.toMatchObject({ code: 'not_authentic' });
    writeFileSync(tampered, 'not an archive at all');
    await expect(unpack({ inFile: tampered })).rejects.toMatchObject({ code: 'malformed' });
    expect(existsSync(target)).toBe(false);
  });

  it('refuses archives with symlinks or paths that leave the profile', async () => {
    const root = scratch();
    const src = join(root, 'src');
    mkdirSync(join(src, 'inner'), { recursive: true });
    writeFileSync(join(src, 'inner', 'file'), 'x');
    symlinkSync('/etc/passwd', join(src, 'inner', 'link'));
    const withLink = join(root, 'link.tgz');
    await tar.create({ cwd: src, gzip: true, file: withLink }, ['inner']);
    const withDotDot = join(root, 'dotdot.tgz');
    await tar.create({ cwd: join(src, 'inner'), gzip: true, file: withDotDot, preservePaths: true }, ['../inner/file']);

    for (const [tgz, why] of [
      [withLink, /SymbolicLink/],
      [withDotDot, /'\.\.'|outside/],
    ] as const) {
      const sealed = `${tgz}.enc`;
      await seal(tgz, sealed, 'c1');
      const target = join(root, 'restored');
      await expect(
        unpackProfile({ inFile: sealed, profileDir: target, contextId: 'c1', key, maxBytes: 1e6, workDir: root }),
      ).rejects.toMatchObject({ code: 'unsafe_entry', message: expect.stringMatching(why) });
      expect(existsSync(target)).toBe(false);
    }
  });

  it('stops at the size cap when an archive expands too far (a tar bomb)', async () => {
    const root = scratch();
    const src = join(root, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'zeros'), Buffer.alloc(8 * 1024 * 1024));
    const bomb = join(root, 'bomb.tgz');
    await tar.create({ cwd: src, gzip: true, file: bomb }, ['zeros']);
    const sealed = `${bomb}.enc`;
    await seal(bomb, sealed, 'c1');
    const target = join(root, 'restored');
    await expect(
      unpackProfile({ inFile: sealed, profileDir: target, contextId: 'c1', key, maxBytes: 1024 * 1024, workDir: root }),
    ).rejects.toMatchObject({ code: 'too_large' });
    expect(existsSync(target)).toBe(false);
  });
});
