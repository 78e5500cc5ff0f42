/** The app's one stack: the GuardDutyResponder construct and nothing else. */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResponderConfig } from './config.js';
import { GuardDutyResponder } from './guardduty-responder.js';

export { responderRoleName } from './guardduty-responder.js';

export type ResponderStackProps = StackProps & { config: ResponderConfig };

export class ResponderStack extends Stack {
  readonly responder: GuardDutyResponder;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, {
      description: 'guardduty-responder: automated response to GuardDuty findings',
      ...props,
    });
    // "Default": the construct adds nothing to its resources' logical ids, so they stay as they were.
    this.responder = new GuardDutyResponder(this, 'Default', props.config);
  }
}
