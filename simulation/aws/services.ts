/**
 * The simulated AWS services, by the signing name their requests carry: one file each, holding its
 * operations and, for the query and REST protocols, how each is read from and written to the wire.
 */
import { autoscaling } from './autoscaling.js';
import { cloudtrail } from './cloudtrail.js';
import { ec2 } from './ec2.js';
import { eks } from './eks.js';
import { elb } from './elb.js';
import { guardduty } from './guardduty.js';
import { iam } from './iam.js';
import { kms } from './kms.js';
import { s3 } from './s3.js';
import { securityhub } from './securityhub.js';
import { sns } from './sns.js';
import { ssm } from './ssm.js';
import { sts } from './sts.js';
import type { SimulatedService } from './wire.js';

export const SERVICES: Readonly<Record<string, SimulatedService>> = {
  ec2,
  autoscaling,
  elasticloadbalancing: elb,
  iam,
  sts,
  sns,
  eks,
  guardduty,
  securityhub,
  s3,
  ssm,
  kms,
  cloudtrail,
};
