/**
 * The controller's image, as close as this machine allows without a container engine: its Dockerfile read for
 * the command, working directory and environment, and its `/app` laid out in a temporary directory (the
 * package's `package.json`, `dist/` freshly built from the sources, its dependencies). The local AWS topology
 * (`aws-topology.ts`) runs that command there, with the environment the stack's task definition gives the
 * container; and its functions get the environment the stack gives them (`synthesizedStack`).
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AWS_API_ENV } from '@wallcrawler/contracts';
import { packageDirectory } from '@wallcrawler/controller';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'tsup';
// @ts-expect-error: a plain script without types, shared with `npm run setup`.
import { buildIsCurrent, workspacePackages } from '../scripts/steps.mjs';
import { tempDir } from './index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const controllerDir = join(root, 'packages', 'controller');

export interface Dockerfile {
  workdir: string;
  cmd: string[];
  env: Record<string, string>;
}

/** The final WORKDIR, CMD (exec form) and ENV of a Dockerfile. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const result: Dockerfile = { workdir: '/', cmd: [], env: {} };
  for (const line of lines) {
    const [, instruction, rest] = /^\s*([A-Z]+)\s+(.*)$/.exec(line) ?? [];
    if (instruction === 'WORKDIR') result.workdir = (rest ?? '').trim();
    if (instruction === 'CMD') result.cmd = JSON.parse(rest ?? '[]') as string[];
    if (instruction === 'ENV') {
      for (const [, key, value] of (rest ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) {
        result.env[key as string] = value as string;
      }
    }
  }
  return result;
}

export interface ControllerImage extends Dockerfile {
  /** Where the image's WORKDIR (`/app`) is laid out on this machine. */
  appDir: string;
}

let image: Promise<ControllerImage> | undefined;

/** Lays out the image's `/app` once per test process (a build of the controller's entries, about a second). */
export function controllerImage(): Promise<ControllerImage> {
  image ??= (async () => {
    const manifest = JSON.parse(readFileSync(join(controllerDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    // The image's workspace dependencies come from their build, as in the image; a build older than its sources
    // would make every task fail at its first import, so say so here instead.
    const packages = workspacePackages() as Map<string, { dir: string; manifest: { module: string } }>;
    const stale = Object.keys(manifest.dependencies).filter(
      (name) => packages.has(name) && !buildIsCurrent([packages.get(name)], (m: { module: string }) => m.module),
    );
    if (stale.length > 0)
      throw new Error(
        `The controller image takes ${stale.join(', ')} from the build, which is older than the sources: run \`npm run build\` first.`,
      );
    const dockerfile = parseDockerfile(readFileSync(join(controllerDir, 'Dockerfile'), 'utf8'));
    const dir = tempDir('wc-image-');
    process.once('exit', () => dir.remove());
    const appDir = join(dir.path, 'app');
    mkdirSync(appDir, { recursive: true });
    writeFileSync(join(appDir, 'package.json'), readFileSync(join(controllerDir, 'package.json')));
    // `npm install --omit=dev` in the image: each of the package's dependencies, the version the workspace
    // resolved for this package (which may differ from the one hoisted to the root).
    for (const dependency of Object.keys(manifest.dependencies)) {
      const target = packageDirectory(pathToFileURL(join(controllerDir, 'package.json')).href, dependency);
      const link = join(appDir, 'node_modules', dependency);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(target, link);
    }
    const configs = (await import('../packages/controller/tsup.config.js')).default as unknown as {
      entry: Record<string, string>;
    }[];
    const binaries = configs.find((c) => Object.values(c.entry).some((e) => e.endsWith('task/main.ts')));
    await build({
      ...binaries,
      entry: Object.fromEntries(
        Object.entries(binaries?.entry ?? {}).map(([name, e]) => [name, join(controllerDir, e)]),
      ),
      outDir: join(appDir, 'dist'),
      // As `npm run build` in the package does: dependencies stay imports, resolved from node_modules.
      skipNodeModulesBundle: true,
      silent: true,
      config: false,
      sourcemap: false,
    } as never);
    return { ...dockerfile, appDir };
  })();
  return image;
}

/** A value in a synthesized template: a literal, or a CloudFormation reference (`Ref`, `Fn::GetAtt`, `Fn::Join`). */
export type TemplateValue = string | Record<string, unknown>;

export interface SynthesizedStack {
  controller: {
    /** The container's environment, CloudFormation references left as they are. */
    environment: Record<string, TemplateValue>;
    /** The names of the variables ECS fills from secrets. */
    secrets: string[];
    /** The container's `stopTimeout`, in seconds. */
    stopTimeoutSeconds: number | undefined;
  };
  /** The connect edge's container (with `connect: 'edge'`): its environment and the names ECS fills from secrets. */
  edge?: { environment: Record<string, TemplateValue>; secrets: string[] };
  /** The environment of the API function and of the warm pool's scaler function. */
  api: Record<string, TemplateValue>;
  warmPool: Record<string, TemplateValue>;
  /** The CORS rules of the blob bucket (the one bucket that has any). */
  bucketCors: BucketCorsRule[];
}

/** A bucket's CORS rule, as CloudFormation writes it. */
export interface BucketCorsRule {
  AllowedMethods: string[];
  AllowedOrigins: string[];
  MaxAge?: number;
}

/**
 * The stack's environment for one of its parts, each reference replaced by what `local` gives for its variable
 * (one or more variables: a secret's ARN becomes the secret's value).
 * @throws Error naming a reference this topology cannot resolve
 */
export function resolveStackEnv(
  part: string,
  env: Record<string, TemplateValue>,
  local: Record<string, Record<string, string>>,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') resolved[name] = value;
    else if (local[name]) Object.assign(resolved, local[name]);
    else
      throw new Error(
        `The stack gives the ${part} ${name} from ${JSON.stringify(value)}, which the local topology cannot resolve`,
      );
  }
  return resolved;
}

const synthesized = new Map<'edge' | 'direct', Promise<SynthesizedStack>>();

interface FunctionResource {
  Properties: { Description?: string; Environment?: { Variables?: Record<string, TemplateValue> } };
}

/**
 * What the synthesized stack (dev mode, with its `connect` mode: private tasks behind the edge, or public ones)
 * gives the controller container, the connect edge's container and the functions.
 */
export function synthesizedStack(connect: 'edge' | 'direct' = 'edge'): Promise<SynthesizedStack> {
  const known = synthesized.get(connect);
  if (known) return known;
  const made = (async () => {
    const { WallcrawlerStack } = await import('@wallcrawler/infra-cdk');
    const out = join(tmpdir(), `wc-stack-${process.pid}-${connect}`);
    try {
      const app = new App({ outdir: out });
      const stack = new WallcrawlerStack(app, 'Wallcrawler', {
        env: { account: '111122223333', region: 'us-east-1' },
        connect,
      });
      const template = Template.fromStack(stack);
      const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).flatMap(
        (d) =>
          (
            d as {
              Properties: {
                ContainerDefinitions: {
                  Name: string;
                  Environment: { Name: string; Value: TemplateValue }[];
                  Secrets?: { Name: string }[];
                  StopTimeout?: number;
                }[];
              };
            }
          ).Properties.ContainerDefinitions,
      );
      const container = containers.find((c) => c.Name === 'controller');
      if (!container) throw new Error('the stack has no controller container');
      const edge = containers.find((c) => c.Name === 'edge');
      if (connect === 'edge' && !edge) throw new Error('the stack has no connect edge container');
      const functions = template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>;
      const environmentOf = (name: string, has: string) => {
        // The functions are told apart by what only each one is given.
        const found = Object.values(functions).find((f) => f.Properties.Environment?.Variables?.[has] !== undefined);
        if (!found) throw new Error(`the stack has no ${name} function (none is given ${has})`);
        return found.Properties.Environment?.Variables ?? {};
      };
      return {
        controller: {
          environment: Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value])),
          secrets: (container.Secrets ?? []).map((s) => s.Name),
          stopTimeoutSeconds: container.StopTimeout,
        },
        ...(edge
          ? {
              edge: {
                environment: Object.fromEntries(edge.Environment.map((e) => [e.Name, e.Value])),
                secrets: (edge.Secrets ?? []).map((s) => s.Name),
              },
            }
          : {}),
        api: environmentOf('API', AWS_API_ENV.apiKeysTable),
        warmPool: environmentOf('warm-pool scaler', AWS_API_ENV.poolService),
        bucketCors: Object.values(
          template.findResources('AWS::S3::Bucket') as Record<
            string,
            { Properties: { CorsConfiguration?: { CorsRules: BucketCorsRule[] } } }
          >,
        ).flatMap((b) => b.Properties.CorsConfiguration?.CorsRules ?? []),
      };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  })();
  synthesized.set(connect, made);
  return made;
}
