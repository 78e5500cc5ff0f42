/** The revoke-sessions Lambda. */
import { actionLambda } from '../lambda.js';
import { revokeSessions } from './index.js';

export const handler = actionLambda(revokeSessions);
