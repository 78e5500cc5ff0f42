/** The protect-instances Lambda. */
import { actionLambda } from '../lambda.js';
import { protectInstances } from './index.js';

export const handler = actionLambda(protectInstances);
