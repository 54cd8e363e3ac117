import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** The real CDK CLI, as a user runs it: `cdk synth` needs no Docker and no AWS account. */
function cdkSynth(args: string[]) {
  const out = join(dir, 'cdk.out');
  rmSync(out, { recursive: true, force: true });
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' },
    timeout: 120_000,
  });
  return { ...result, out };
}

it.each([
  ['dev', 'WallcrawlerDev', []],
  ['prod', 'Wallcrawler', ['-c', 'mode=prod']],
])('`cdk synth` of the example app (%s) writes the stack and its assets', (_, stackName, args) => {
  const result = cdkSynth(args as string[]);
  try {
    expect(result.status, result.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(result.out, `${stackName}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = new Set(Object.values(template.Resources).map((r) => r.Type));
    for (const type of ['AWS::ECS::TaskDefinition', 'AWS::Lambda::Function', 'AWS::CloudFront::Distribution']) {
      expect(types.has(type), type).toBe(true);
    }
    const assets = JSON.parse(readFileSync(join(result.out, `${stackName}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, unknown>;
      files: Record<string, unknown>;
    };
    // The controller image is an asset to build at deploy time; synth needed no Docker.
    expect(Object.keys(assets.dockerImages)).toHaveLength(1);
  } finally {
    rmSync(result.out, { recursive: true, force: true });
  }
});
