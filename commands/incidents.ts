/**
 * npm run incidents -- [--all] [--json] [--state PATH | --deployed STACK [--region R]]
 *
 * The open incidents (with --all, the closed ones too) from the incident table, newest first: finding
 * type, cluster, what is contained, since when, state and how the last response ended.
 *   (default)        the simulation the last `npm run replay` saved (--state PATH)
 *   --deployed STACK the deployed stack's table (its IncidentTableName output)
 *   --json           one JSON array, for scripts, alone on stdout (the project's .npmrc sends npm's
 *                    banners to stderr), or in a file with --output FILE
 * Exit code 0, or 2 for bad input.
 */
import { writeFileSync } from 'node:fs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IncidentRecord, IncidentState } from '../lambdas/incident/record.js';
import { IncidentStore } from '../lambdas/incident/store.js';
import { LocalIncidentTable } from '../simulation/incident-table.js';
import { loadSimulation, SAVED_SIMULATION } from '../simulation/simulation.js';
import { exitCodeOf, InputError, type Out, parseCommandLine } from './cli.js';
import { stackOutput } from './replay/deployed.js';

const OPEN: IncidentState[] = ['open', 'releasing', 'recovering'];
const CLOSED: IncidentState[] = ['released', 'recovered'];

/** One incident as the command shows it. */
export type IncidentSummary = {
  findingId: string;
  type: string;
  clusters: string[];
  /** Changes in place, by action: `{ "isolate-pods": 3, "cordon-nodes": 1 }`. */
  contained: Record<string, number>;
  since: string;
  state: IncidentState;
  outcome: string;
  evidence: number;
};

/** What a record says, for a person or a script. Pure. */
export function summarize(record: IncidentRecord): IncidentSummary {
  const entries = Object.values(record.entries ?? {});
  const contained: Record<string, number> = {};
  for (const entry of entries) {
    if (entry.action === 'snapshot-volumes' || entry.status === 'failed') continue;
    contained[entry.action] = (contained[entry.action] ?? 0) + 1;
  }
  return {
    findingId: record.findingId,
    type: record.finding.type,
    clusters: [...new Set(entries.flatMap((entry) => (entry.cluster ? [entry.cluster] : [])))],
    contained,
    since: record.createdAt,
    state: record.state,
    outcome: record.outcome ?? 'unknown',
    evidence: record.evidence?.length ?? 0,
  };
}

export function describeIncidents(summaries: readonly IncidentSummary[], all: boolean): string[] {
  if (summaries.length === 0) return [all ? 'No incident in the table.' : 'No open incident.'];
  return summaries.flatMap((s) => {
    const held = Object.entries(s.contained).map(([action, count]) => `${action} ${count}`);
    return [
      `${s.findingId}  ${s.state.padEnd(9)} since ${s.since}  ${s.type}`,
      `    cluster ${s.clusters.join(', ') || '-'}; contained: ${held.join(', ') || 'nothing'}; last response ${s.outcome}; ${s.evidence} evidence object(s)`,
    ];
  });
}

export type IncidentsOptions = {
  all: boolean;
  json: boolean;
  /** Where the JSON goes instead of stdout. */
  output?: string;
  state: string;
  deployed?: string;
  region?: string;
};

export function parseIncidentsArgs(argv: readonly string[]): IncidentsOptions {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      output: { type: 'string' },
      state: { type: 'string', default: SAVED_SIMULATION },
      deployed: { type: 'string' },
      region: { type: 'string' },
    },
    { name: 'incidents' },
  );
  if (positionals.length > 0)
    throw new InputError(`unexpected argument ${positionals[0]}: npm run incidents -- [--all] [--json]`);
  return {
    all: values.all ?? false,
    json: (values.json ?? false) || values.output !== undefined,
    output: values.output,
    state: values.state ?? SAVED_SIMULATION,
    deployed: values.deployed,
    region: values.region,
  };
}

/** The records in the wanted states, newest first, from a store that will be closed afterwards. */
async function fromStore(store: IncidentStore, all: boolean): Promise<IncidentSummary[]> {
  const records = (
    await Promise.all([...OPEN, ...(all ? CLOSED : [])].map((state) => store.inState(state)))
  ).flat();
  return records.map(summarize).sort((a, b) => b.since.localeCompare(a.since));
}

export async function incidents(argv: readonly string[], out: Out, err: Out): Promise<number> {
  return exitCodeOf(
    'incidents',
    err,
    async () => {
      const options = parseIncidentsArgs(argv);
      let summaries: IncidentSummary[];
      if (options.deployed) {
        const config = options.region ? { region: options.region } : {};
        const table = await stackOutput(
          options.deployed,
          'IncidentTableName',
          new CloudFormationClient(config),
        );
        summaries = await fromStore(IncidentStore.dynamodb(new DynamoDBClient(config), table), options.all);
      } else {
        const saved = loadSimulation(options.state);
        if (!saved) throw new InputError(`no simulation at ${options.state}: run npm run replay first`);
        const local = await LocalIncidentTable.start(saved.incidents);
        try {
          summaries = await fromStore(local.store(), options.all);
        } finally {
          await local.stop();
        }
      }
      if (options.output) {
        writeFileSync(options.output, `${JSON.stringify(summaries, null, 2)}\n`);
        out(`${summaries.length} incident(s) written to ${options.output}`);
      } else if (options.json) out(JSON.stringify(summaries, null, 2));
      else for (const line of describeIncidents(summaries, options.all)) out(line);
      return 0;
    },
    out,
  );
}
