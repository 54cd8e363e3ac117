import { Stack, Validations } from 'aws-cdk-lib';
import type { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding on `scope` (and what it contains), with the reason it is right here. Every
 * finding the stack accepts goes through this one function, so they can all be read in one place:
 * `grep -rn "acknowledge(" packages/infra-cdk/src`.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Lambda's execution policies are AWS's managed ones, as CDK attaches them: writing the function's own logs,
 * and (in a VPC) managing its network interfaces.
 */
export function acknowledgeLambdaBasicRole(fn: LambdaFn): void {
  if (!fn.role) return;
  for (const policy of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
    acknowledge(
      fn.role,
      `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
      `${policy}: AWS's managed policy for a function's logs and VPC interfaces, as CDK attaches it.`,
    );
  }
}

/**
 * How cdk-nag writes a value in a finding's id: `<Logical.Attr>` for `Fn::GetAtt`, `<Logical>` for `Ref`
 * (pseudo parameters included), joins concatenated.
 */
export function nagText(scope: IConstruct, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o.Ref) return `<${String(o.Ref)}>`;
    if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    return JSON.stringify(v);
  };
  return render(Stack.of(scope).resolve(value));
}

/** Acknowledges each named finding of a rule (`AwsSolutions-IAM5[Resource::…]`) with one reason. */
export function acknowledgeFindings(scope: IConstruct, rule: string, findings: string[], reason: string): void {
  for (const finding of findings) acknowledge(scope, `${rule}[${finding}]`, reason);
}
