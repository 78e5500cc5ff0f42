/** The isolate-host Lambda. */
import { actionLambda } from '../lambda.js';
import { isolateHost } from './index.js';

export const handler = actionLambda(isolateHost);
