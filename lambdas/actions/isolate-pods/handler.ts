/** The isolate-pods Lambda. */
import { actionLambda } from '../lambda.js';
import { isolatePods } from './index.js';

export const handler = actionLambda(isolatePods);
