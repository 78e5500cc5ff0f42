/**
 * The notification topic: KMS-encrypted, TLS-only, with an optional e-mail subscription; and, with
 * `chatNotifications`, a chat topic beside it for Amazon Q Developer in chat applications, which gets each
 * response's notification in its custom notification format (lambdas/notify/chat.ts).
 */
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';
import type { ResponseFunction } from './response-function.js';

export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly chatTopic: sns.Topic | null;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { email: string | undefined; chat: boolean }) {
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
    this.chatTopic = props.chat
      ? new sns.Topic(this, 'ChatTopic', {
          displayName: 'GuardDuty responder (chat)',
          masterKey: this.key,
          enforceSSL: true,
        })
      : null;
  }

  /** Lets notify publish the chat format to the chat topic too, and tells it the topic. */
  bindChat(fn: ResponseFunction): void {
    if (!this.chatTopic) return;
    this.chatTopic.grantPublish(fn.role);
    fn.function.addEnvironment('CHAT_TOPIC_ARN', this.chatTopic.topicArn);
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
