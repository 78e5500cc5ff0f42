/** The snapshot-volumes Lambda. */
import { actionLambda } from '../lambda.js';
import { snapshotVolumes } from './index.js';

export const handler = actionLambda(snapshotVolumes);
