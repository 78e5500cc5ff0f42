/** cdk-nag (v3) acknowledgements: one finding, one reason, on the construct that causes it. */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledge one AwsSolutions finding, e.g. `IAM5[Resource::*]` or `SQS3`. */
export function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}

/** A value as cdk-nag renders it in finding ids: `{Ref: X}` as `<X>`, `{Fn::GetAtt: [A, B]}` as `<A.B>`. */
export function nagRendering(scope: IConstruct, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const object = part as Record<string, unknown>;
    if ('Ref' in object) return `<${object.Ref}>`;
    if ('Fn::GetAtt' in object) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    return JSON.stringify(part);
  };
  return render(Stack.of(scope).resolve(value));
}
