/** The cordon-nodes Lambda. */
import { actionLambda } from '../lambda.js';
import { cordonNodes } from './index.js';

export const handler = actionLambda(cordonNodes);
