/**
 * The whole responder as one construct: finding intake → response workflow → notifications, with the
 * functions, the incident table, the record key, the evidence bucket, cluster access, alarms and outputs.
 * Its props are the configuration schema of cdk.json (lib/config.ts), validated here with the field named
 * on a bad value. Add it to a stack of your own app, or deploy the app in bin/ (ResponderStack), which
 * does nothing else.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { actionNamed } from '../lambdas/actions/registry.js';
import { memberRoleArn, memberRoleNameOf } from '../lambdas/clients/reach.js';
import { responseTimeoutMinutes } from '../lambdas/core/settings.js';
import {
  FUNCTION_NAMES,
  type FunctionName,
  INTAKE_FUNCTIONS,
  MEMBER_REACHING,
  needsOf,
  PERSON_FUNCTIONS,
  type WorkflowFunction,
} from '../lambdas/permissions.js';
import { BUDGETED } from '../lambdas/settings.js';
import { Alarms } from './alarms.js';
import { ApprovalKey } from './approval-key.js';
import { ClusterAccess } from './cluster-access.js';
import { parseConfig, type ResponderConfig, type ResponderConfigSchema, settingsOf } from './config.js';
import { ResponderDashboard } from './dashboard.js';
import { EvidenceBucket } from './evidence-bucket.js';
import { FindingIntake } from './finding-intake.js';
import { untouchableRoleArns } from './iam-scopes.js';
import { IncidentTable } from './incident-table.js';
import { LogsKey } from './logs-key.js';
import { Notifications } from './notifications.js';
import { RecordKey } from './record-key.js';
import { RecoveryWatch } from './recovery-watch.js';
import { ResponseFunction } from './response-function.js';
import { ResponseWorkflow } from './response-workflow.js';
import { SecurityHubActions } from './security-hub-actions.js';

/** What changes a role's permissions: never allowed on the responder's own roles (an explicit deny). */
const ROLE_CHANGES = /^iam:((Attach|Detach|Put|Delete)RolePolicy|PassRole)$/;

/** The configuration as written in cdk.json (defaults not yet applied). */
export type GuardDutyResponderProps = z.input<typeof ResponderConfigSchema>;

/**
 * A function's role name when member accounts are configured: fixed, so that their MemberAccess roles
 * can trust exactly these roles by ARN (member-access-stack.ts).
 */
export const responderRoleName = (stackName: string, fn: FunctionName): string =>
  `${stackName.slice(0, 40)}-${fn}`;

type FunctionSpec = { id: string; description: string; timeout: Duration; entry: string };

/** The functions that are not actions; an action's function is made from its spec (functionOf). */
const OWN_FUNCTIONS: Record<string, Omit<FunctionSpec, 'entry'>> = {
  claim: {
    id: 'Claim',
    description: 'Claims a finding id in the incident table; a repeat is only noted',
    timeout: Duration.seconds(30),
  },
  identify: {
    id: 'Identify',
    description: 'Plans the response to a GuardDuty finding and identifies what it touches',
    timeout: Duration.minutes(2),
  },
  'collect-pod-evidence': {
    id: 'CollectPodEvidence',
    description: 'Keeps the owners, events, logs and policies of the affected pods as evidence',
    timeout: Duration.minutes(5),
  },
  'collect-host-evidence': {
    id: 'CollectHostEvidence',
    description: 'Captures the volatile state of an affected host through Systems Manager',
    timeout: Duration.minutes(12),
  },
  'recovery-watch': {
    id: 'RecoveryWatch',
    description: 'Checks the pods a recovery deleted until their kubelets confirm, then says what it found',
    timeout: Duration.minutes(1),
  },
  'security-hub-intake': {
    id: 'SecurityHubIntake',
    description: 'Starts a response for each GuardDuty finding a Security Hub custom action selected',
    timeout: Duration.minutes(2),
  },
  'collect-credential-activity': {
    id: 'CollectCredentialActivity',
    description: 'Keeps what the credentials of a credential finding did, from CloudTrail event history',
    timeout: Duration.minutes(3),
  },
  notify: {
    id: 'Notify',
    description: 'Publishes what the response found, did and failed to do',
    timeout: Duration.minutes(1),
  },
  'request-approval': {
    id: 'RequestApproval',
    description: 'Records that an action waits for a person, and asks the topic',
    timeout: Duration.seconds(30),
  },
  approve: {
    id: 'Approve',
    description: 'Answers an action that waits for approval, once a person decides',
    timeout: Duration.seconds(30),
  },
  release: {
    id: 'Release',
    description: 'Undoes the containment of an incident from its record, once a person asks',
    timeout: Duration.minutes(5),
  },
  recover: {
    id: 'Recover',
    description: 'Replaces the compromised pods and hosts of a confirmed incident, once a person asks',
    timeout: Duration.minutes(10),
  },
};

/** How the stack makes a function: its own entry, or an action's from the registry. */
function functionOf(name: FunctionName): FunctionSpec {
  const own = OWN_FUNCTIONS[name];
  if (own) return { ...own, entry: `handlers/${name}.ts` };
  const spec = actionNamed(name)?.spec;
  if (!spec) throw new Error(`no function is named ${name}`);
  return {
    id: spec.functionId,
    description: spec.description,
    timeout: Duration.seconds(spec.timeoutSeconds),
    entry: `actions/${name}/handler.ts`,
  };
}

export class GuardDutyResponder extends Construct {
  /** The configuration, validated, with its defaults. */
  readonly config: ResponderConfig;
  readonly stateMachine: sfn.StateMachine;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: GuardDutyResponderProps) {
    super(scope, id);
    const config = parseConfig(props);
    this.config = config;
    const stack = Stack.of(this);
    const environment = {
      RESPONDER_SETTINGS: JSON.stringify(settingsOf(config)),
      RESPONDER_ACCOUNT: stack.account,
    };

    // Every log group is encrypted with a key of the responder's own.
    const logsKey = new LogsKey(this, 'LogsKey');
    const responders = new Map<FunctionName, ResponseFunction>();
    const responder = (name: FunctionName): ResponseFunction => {
      const made = responders.get(name);
      if (!made) throw new Error(`no function is named ${name}`);
      return made;
    };
    for (const name of FUNCTION_NAMES) {
      const spec = functionOf(name);
      const made = new ResponseFunction(this, spec.id, {
        name,
        entry: spec.entry,
        description: spec.description,
        timeout: spec.timeout,
        environment,
        clusters: config.clusters,
        regions: config.regions,
        roleName: config.members.length > 0 ? responderRoleName(config.stackName, name) : undefined,
        vpc: config.vpc,
        logRetentionDays: config.logRetentionDays,
        logsKey: logsKey.key,
      });
      responders.set(name, made);
      const group = needsOf(name).kubernetesGroup;
      if (group) {
        new ClusterAccess(this, `${spec.id}ClusterAccess`, {
          clusters: config.clusters,
          role: made.role,
          kubernetesGroup: group,
        });
      }
    }

    // Revoke-iam may strip any role in the account, revoke-sessions deny its sessions, and release give
    // policies back to it, except the responder's own roles and the roles no responder may touch.
    const ownRoles = [
      ...[...responders.values()].map((made) => made.role.roleArn),
      ...untouchableRoleArns(Stack.of(this), config.neverTouchRoles),
    ];
    // Whichever function may change a role's policies (or pass a role) as its declared needs say: the
    // actions that strip or give back IAM, and release.
    for (const name of FUNCTION_NAMES) {
      const changes = [
        ...new Set(
          needsOf(name)
            .iam.filter((need) => need.scope === 'roles')
            .flatMap((need) => need.actions)
            .filter((action) => ROLE_CHANGES.test(action)),
        ),
      ];
      if (changes.length > 0)
        responder(name).role.addToPrincipalPolicy(
          new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: changes, resources: ownRoles }),
        );
    }

    // A member's finding is acted on through its MemberAccess role, in every region the responder covers.
    // Each function assumes its own role in a member account, never another function's.
    if (config.members.length > 0) {
      for (const name of MEMBER_REACHING) {
        const ownRoles = config.members.map((member) =>
          memberRoleArn(member.accountId, stack.region, memberRoleNameOf(config.memberRoleName, name)),
        );
        responder(name).role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: ownRoles }),
        );
      }
    }

    const incidents = new IncidentTable(this, 'Incidents');
    for (const name of FUNCTION_NAMES) incidents.bind(responder(name), name);
    const recordKey = new RecordKey(this, 'RecordKey');
    for (const name of FUNCTION_NAMES) recordKey.bind(responder(name), name);
    const approvalKey = new ApprovalKey(this, 'ApprovalKey');
    for (const name of FUNCTION_NAMES) approvalKey.bind(responder(name), name);
    const evidence = new EvidenceBucket(this, 'Evidence', { retentionDays: config.evidence.retentionDays });
    for (const name of FUNCTION_NAMES) evidence.bind(responder(name), name);

    const notifications = new Notifications(this, 'Notifications', {
      email: config.notificationEmail,
      chat: config.chatNotifications,
    });
    notifications.bindChat(responder('notify'));
    notifications.bindPublisher(responder('notify'));
    notifications.bindPublisher(responder('release'));
    notifications.bindPublisher(responder('recover'));
    notifications.bindPublisher(responder('request-approval'));
    notifications.bindPublisher(responder('approve'));
    notifications.bindPublisher(responder('recovery-watch'));
    // The next steps of the notification name the stack: `npm run release -- <id> --deployed <stack>`.
    responder('notify').function.addEnvironment('STACK_NAME', Stack.of(this).stackName);
    responder('request-approval').function.addEnvironment(
      'APPROVE_FUNCTION',
      responder('approve').function.functionName,
    );

    const functions = new Map<WorkflowFunction, lambda.IFunction>();
    for (const name of FUNCTION_NAMES) {
      if (!([...PERSON_FUNCTIONS, ...INTAKE_FUNCTIONS] as readonly string[]).includes(name))
        functions.set(name, responder(name).function);
    }
    const workflow = new ResponseWorkflow(this, 'Workflow', {
      functions,
      logRetentionDays: config.logRetentionDays,
      logsKey: logsKey.key,
      requireApproval: config.requireApproval,
      approvalTimeoutMinutes: config.approvalTimeoutMinutes,
      timeoutMinutes: responseTimeoutMinutes(config),
    });
    const intake = new FindingIntake(this, 'Intake', {
      severity: config.severity,
      stateMachine: workflow.stateMachine,
    });

    new RecoveryWatch(this, 'RecoveryWatchMachine', {
      check: responder('recovery-watch'),
      starter: responder('recover'),
      logRetentionDays: config.logRetentionDays,
      logsKey: logsKey.key,
      topic: notifications.topic,
      topicKey: notifications.key,
    });

    if (config.securityHub.customActions)
      new SecurityHubActions(this, 'SecurityHubActions', {
        intake: responder('security-hub-intake'),
        stateMachine: workflow.stateMachine,
      });

    new ResponderDashboard(this, 'Dashboard', { stateMachine: workflow.stateMachine });

    new Alarms(this, 'Alarms', {
      stateMachine: workflow.stateMachine,
      deadLetterQueue: intake.deadLetterQueue,
      notifications,
      budgetLogGroups: BUDGETED.map((name) => responder(name).logGroup),
    });

    new CfnOutput(this, 'StateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TopicArn', { value: notifications.topic.topicArn });
    if (notifications.chatTopic)
      new CfnOutput(this, 'ChatTopicArn', { value: notifications.chatTopic.topicArn });
    new CfnOutput(this, 'ReleaseFunctionName', { value: responder('release').function.functionName });
    new CfnOutput(this, 'RecoverFunctionName', { value: responder('recover').function.functionName });
    new CfnOutput(this, 'ApproveFunctionName', { value: responder('approve').function.functionName });
    new CfnOutput(this, 'IncidentTableName', { value: incidents.table.tableName });
    new CfnOutput(this, 'RecordKeyId', { value: recordKey.key.keyArn });
    new CfnOutput(this, 'EvidenceBucketName', { value: evidence.bucket.bucketName });
    new CfnOutput(this, 'HostOutputBucketName', { value: evidence.hostOutput.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: intake.deadLetterQueue.queueUrl });
    this.stateMachine = workflow.stateMachine;
    this.topic = notifications.topic;
  }
}
