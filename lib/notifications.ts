/** The notification topic: KMS-encrypted, TLS-only, with an optional e-mail subscription. */
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';
import type { ResponseFunction } from './response-function.js';

export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { email: string | undefined }) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'guardduty-responder notifications',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'GuardDuty responder',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }

  /** Lets a function publish (sns:Publish and the KMS use that encryption needs) and tells it the topic. */
  bindPublisher(fn: ResponseFunction): void {
    this.topic.grantPublish(fn.role);
    acknowledge(
      fn.role,
      'IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to a KMS-encrypted topic needs the GenerateDataKey family, on this topic key only.',
    );
    fn.function.addEnvironment('TOPIC_ARN', this.topic.topicArn);
  }
}
