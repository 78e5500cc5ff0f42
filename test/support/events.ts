import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const EVENTS_DIR = fileURLToPath(new URL('../../events/', import.meta.url));
export const PUBLISHED_DIR = fileURLToPath(new URL('../fixtures/published/', import.meta.url));

export const eventFiles = (): string[] =>
  readdirSync(EVENTS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();

/** A sample event from events/, parsed fresh each time so a test can change it freely. */
// biome-ignore lint/suspicious/noExplicitAny: raw JSON, shaped by each test before it is parsed
export const loadEvent = (file: string): any => JSON.parse(readFileSync(`${EVENTS_DIR}${file}`, 'utf8'));

export const RESPONDER = { accountId: '111122223333', region: 'us-east-1' } as const;
