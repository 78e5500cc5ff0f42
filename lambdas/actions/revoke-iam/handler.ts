/** The revoke-iam Lambda. */
import { actionLambda } from '../lambda.js';
import { revokeIam } from './index.js';

export const handler = actionLambda(revokeIam);
