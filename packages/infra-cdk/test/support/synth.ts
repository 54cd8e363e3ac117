import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@wallcrawler/test-support';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll } from 'vitest';
import { WallcrawlerStack, type WallcrawlerStackProps } from '../../src/index.js';

export interface Synthesized {
  stack: WallcrawlerStack;
  template: Template;
  /** The validation report CDK wrote (cdk-nag's AwsSolutions pack among its plugins). */
  report: ValidationReport;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; severity?: string; violatingConstructs?: { constructPath: string }[] }[];
    suppressedViolations?: { ruleName: string; acknowledgedId?: string; acknowledgedReason?: string }[];
  }[];
}

export const ENV = { account: '111122223333', region: 'us-east-1' };

/**
 * Synthesizes the stack, with cdk-nag's AwsSolutions checks as a CDK validation plugin, into a temporary
 * directory it then removes. Synthesis throws when any unacknowledged error remains.
 */
export function synth(props: WallcrawlerStackProps = {}): Synthesized {
  const out = tempDir('wallcrawler-cdk-');
  try {
    const app = new App({ outdir: out.path });
    const stack = new WallcrawlerStack(app, 'Wallcrawler', { env: ENV, ...props });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const report = JSON.parse(readFileSync(join(out.path, 'validation-report.json'), 'utf8')) as ValidationReport;
    if (failure) {
      const violations = report.pluginReports.flatMap((p) =>
        p.violations.map(
          (v) => `${v.ruleName} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`,
        ),
      );
      throw new Error(`Synthesis failed validation:\n${violations.join('\n')}`);
    }
    return { stack, template: Template.fromStack(stack), report };
  } finally {
    out.remove();
  }
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The template's resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/**
 * Replaces every CloudFormation intrinsic in `value` with a plausible value of what it resolves to (a `Ref` to
 * a secret is its ARN, to a table its name), so a synthesized environment can be fed to the runtime's own
 * configuration loader.
 */
export function resolveForRuntime(value: unknown, template: Template): string {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o.Ref) {
      const id = String(o.Ref);
      const type = resources[id]?.Type;
      if (type === 'AWS::SecretsManager::Secret') return `arn:aws:secretsmanager:us-east-1:111122223333:secret:${id}`;
      if (type === 'AWS::ECS::TaskDefinition') return `arn:aws:ecs:us-east-1:111122223333:task-definition/${id}:1`;
      return `${id.toLowerCase()}-name`;
    }
    if (o['Fn::GetAtt']) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      return attr === 'Arn' ? `arn:aws:service:us-east-1:111122223333:${id.toLowerCase()}` : `${id}-${attr}`;
    }
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    return JSON.stringify(v);
  };
  return render(value);
}

/**
 * The stack synthesized in dev mode and in prod mode, once for the enclosing file in `beforeAll`. Read the fields
 * in hooks and tests, not at the top level.
 */
export function useModes(): { readonly dev: Synthesized; readonly prod: Synthesized } {
  let modes: { dev: Synthesized; prod: Synthesized } | undefined;
  // Two syntheses are a lot of CPU: beside another stack file on two cores they can outlast the default 60 s.
  beforeAll(() => {
    modes = { dev: synth({ mode: 'dev' }), prod: synth({ mode: 'prod' }) };
  }, 240_000);
  const synthesized = () => {
    if (!modes) throw new Error('The stack is synthesized in beforeAll: use it in a hook or a test.');
    return modes;
  };
  return {
    get dev() {
      return synthesized().dev;
    },
    get prod() {
      return synthesized().prod;
    },
  };
}

export type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOf(s: Synthesized, rolePrefix: string): Statement[] {
  const policies = resourcesOf(s.template, 'AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => ((p.Properties?.Roles as { Ref: string }[]) ?? []).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? []);
}

export const actions = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
export const refs = (value: unknown) => JSON.stringify(value);
