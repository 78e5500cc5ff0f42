/** The harden-imds Lambda. */
import { actionLambda } from '../lambda.js';
import { hardenImds } from './index.js';

export const handler = actionLambda(hardenImds);
