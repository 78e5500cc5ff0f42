/**
 * EKS access entries: each function that calls the Kubernetes API gets, in every configured cluster, an
 * access entry mapping its role to its Kubernetes group. k8s/rbac.yaml binds each group to its ClusterRole.
 */
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export class ClusterAccess extends Construct {
  constructor(
    scope: Construct,
    id: string,
    props: { clusters: readonly string[]; role: iam.IRole; kubernetesGroup: string },
  ) {
    super(scope, id);
    for (const clusterName of props.clusters) {
      new eks.CfnAccessEntry(this, `AccessEntry-${clusterName}`, {
        clusterName,
        principalArn: props.role.roleArn,
        kubernetesGroups: [props.kubernetesGroup],
        type: 'STANDARD',
      });
    }
  }
}
