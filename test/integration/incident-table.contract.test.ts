/**
 * One contract for the incident store over both tables (lambdas/incident/table.ts): the DynamoDB table on
 * dynalite (DynamoDB's expression and condition semantics) and the table in memory. Each test runs on
 * both; a difference between them fails one of the two.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimRequest } from '../../lambdas/incident/claims.js';
import { incidentJournal } from '../../lambdas/incident/journal.js';
import { MemoryRecordTable } from '../../lambdas/incident/memory-table.js';
import { type ApprovalRecord, entryKey, type RecordEntry } from '../../lambdas/incident/record.js';
import { sealOf } from '../../lambdas/incident/seal.js';
import { signedView, verifyEntry } from '../../lambdas/incident/signature.js';
import { IncidentStore } from '../../lambdas/incident/store.js';
import { ACCOUNT, newMacKey } from '../../simulation/account.js';
import { localRecordKey } from '../../simulation/aws/kms.js';
import { LocalIncidentTable } from '../../simulation/incident-table.js';

const FINDING = 'f0000000000000000000000000000001';
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:responder:one';
const OTHER = 'arn:aws:states:us-east-1:111122223333:execution:responder:two';
const key = localRecordKey(newMacKey(ACCOUNT));

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()));
  stops = [];
});

const TABLES: [string, () => Promise<IncidentStore>][] = [
  ['memory', async () => new IncidentStore(new MemoryRecordTable(), key)],
  [
    'dynalite',
    async () => {
      const table = await LocalIncidentTable.start();
      stops.push(() => table.stop());
      return table.store(table.client, key);
    },
  ],
];

const request = (change: Partial<ClaimRequest> = {}): ClaimRequest => {
  const at = change.at ?? new Date().toISOString();
  return {
    findingId: FINDING,
    executionArn: EXECUTION,
    dryRun: false,
    rerun: false,
    at,
    finding: {
      type: 'Execution:Runtime/NewBinaryExecuted',
      accountId: ACCOUNT,
      region: 'us-east-1',
      resourceType: 'EKSCluster',
      first: { at, executionArn: EXECUTION, count: 1, severity: 8, updatedAt: at },
      json: '{}',
    },
    ...change,
  };
};

const entry = (target: string, before: Record<string, unknown>): RecordEntry => ({
  action: 'cordon-nodes',
  target,
  cluster: 'prod-eks',
  status: 'intended',
  before,
  after: null,
  detail: null,
  // One instant for every entry: an entry planted with the MAC of one written at the same millisecond
  // must still be told from the responder's own by its content.
  intendedAt: '2026-12-07T00:00:00.000Z',
  settledAt: null,
  executionArn: EXECUTION,
});

describe.each(TABLES)('the incident store over the %s table', (_, open) => {
  it('claims a finding once, lets a rerun and a failed response take it again, keeps the incident', async () => {
    const store = await open();
    expect(await store.claim(request())).toEqual({ previous: null });
    expect(await store.claim(request({ executionArn: OTHER }))).toBeNull();
    const { seal } = await store.sealed(FINDING);
    expect(seal).toMatchObject({ findingId: FINDING, accountId: ACCOUNT, region: 'us-east-1' });

    expect(await store.recordOutcome(FINDING, EXECUTION, 'failed', new Date().toISOString())).toBe(true);
    expect(await store.recordOutcome(FINDING, EXECUTION, 'contained', new Date().toISOString())).toBe(false);
    const retaken = await store.claim(request({ executionArn: OTHER }));
    expect(retaken?.previous).toMatchObject({ executionArn: EXECUTION, outcome: 'failed', dryRun: false });
    // The open incident goes on: the same seal.
    expect((await store.sealed(FINDING)).seal).toEqual(seal);
    expect(
      (await store.claim(request({ executionArn: EXECUTION, rerun: true })))?.previous?.executionArn,
    ).toBe(OTHER);
    expect((await store.get(FINDING))?.executions.map((e) => e.rerun)).toEqual([false, false, true]);
  });

  it('lets a dry run claim only a finding never seen, and a real response take the dry run over as a new incident', async () => {
    const store = await open();
    expect(await store.claim(request({ dryRun: true }))).toEqual({ previous: null });
    expect(await store.claim(request({ dryRun: true, executionArn: OTHER }))).toBeNull();
    const dry = (await store.sealed(FINDING)).seal;
    expect((await store.claim(request({ executionArn: OTHER })))?.previous?.dryRun).toBe(true);
    expect((await store.sealed(FINDING)).seal.incidentId).not.toBe(dry.incidentId);
  });

  it('takes again a claim that died without an outcome, only after the timeout', async () => {
    const store = await open();
    const then = new Date(Date.now() - 31 * 60_000).toISOString();
    await store.claim(request({ at: then }));
    expect(await store.claim(request({ executionArn: OTHER, timeoutMinutes: 60 }))).toBeNull();
    expect((await store.claim(request({ executionArn: OTHER })))?.previous?.executionArn).toBe(EXECUTION);
  });

  it('keeps the first entry of a target, refuses and replaces one that does not verify, and signs the outcome', async () => {
    const store = await open();
    await store.claim(request());
    const { seal } = await store.sealed(FINDING);
    const first = await store.intend(seal, entry('node a', { node: 'a', unschedulable: false }));
    const second = await store.intend(seal, entry('node a', { node: 'a', unschedulable: true }));
    expect(second).toEqual({ entry: first.entry, refused: null });

    // Changed in place: the next intend refuses it and records the state it read now instead.
    const record = await store.get(FINDING);
    const at = entryKey('cordon-nodes', 'prod-eks', 'node a');
    const changed = { ...(record?.entries[at] as RecordEntry), before: { node: 'a', unschedulable: true } };
    expect(
      await store.table.replaceEntry(FINDING, seal.incidentId, at, changed, first.entry.mac ?? null, {
        key: at,
        reason: 'test',
        found: null,
        at: changed.intendedAt,
        executionArn: EXECUTION,
      }),
    ).toBe(true);
    const third = await store.intend(seal, entry('node a', { node: 'a', unschedulable: false }));
    expect(third.refused).toBe('its MAC does not match');
    expect((await store.get(FINDING))?.refusals?.map((r) => r.reason)).toEqual([
      'test',
      'its MAC does not match',
    ]);

    await store.settle(seal, third.entry, {
      status: 'ok',
      after: { cordoned: true },
      detail: 'cordoned',
      at: new Date().toISOString(),
    });
    const settled = (await store.get(FINDING))?.entries[at] as RecordEntry;
    expect(settled).toMatchObject({ status: 'ok', after: { cordoned: true }, detail: 'cordoned' });
    expect((await verifyEntry(key, seal, settled)).verified).toBe(true);
    expect(await key.verify(signedView(seal, settled), settled.mac)).toBe(true);
  });

  it('writes no entry once the incident is not open, or for another incident', async () => {
    const store = await open();
    await store.claim(request());
    const { seal } = await store.sealed(FINDING);
    await expect(store.intend({ ...seal, incidentId: 'another' }, entry('node b', {}))).rejects.toThrow(
      /has no open incident another/,
    );
    expect(await store.startRelease(FINDING, new Date().toISOString())).toBe(true);
    await expect(store.intend(seal, entry('node b', {}))).rejects.toThrow(/has no open incident/);
  });

  it('spends a budget exactly under concurrent findings', async () => {
    const store = await open();
    const decisions = await Promise.all(
      ['n1', 'n2', 'n3', 'n4', 'n5'].map((target, index) =>
        store.spend({ kind: 'nodes', scope: 'cluster c', target, findingId: `f${index}`, limit: 3 }),
      ),
    );
    expect(decisions.filter((d) => d.granted)).toHaveLength(3);
    // The same target again is free: it was spent already.
    const again = decisions.findIndex((d) => d.granted);
    expect(
      (
        await store.spend({
          kind: 'nodes',
          scope: 'cluster c',
          target: `n${again + 1}`,
          findingId: 'f9',
          limit: 3,
        })
      ).granted,
    ).toBe(true);
  });

  it('lets the first answer of a waiting request decide, and keeps every answer', async () => {
    const store = await open();
    await store.claim(request());
    const approval: ApprovalRecord = {
      action: 'revoke-iam',
      state: 'waiting',
      token: 'token-1',
      requestedAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 60_000).toISOString(),
      executionArn: EXECUTION,
      answeredBy: null,
      answeredAt: null,
      decisions: [],
    };
    await store.requestApproval(FINDING, approval);
    const decision = (answer: 'approve' | 'deny', by: string) => ({
      answer,
      by,
      at: new Date().toISOString(),
      effect: '',
    });
    expect(
      await store.decideApproval(FINDING, 'revoke-iam', 'token-2', decision('approve', 'a'), 'mac'),
    ).toBe(false);
    expect(
      await store.decideApproval(FINDING, 'revoke-iam', 'token-1', decision('approve', 'a'), 'mac'),
    ).toBe(true);
    expect(await store.decideApproval(FINDING, 'revoke-iam', 'token-1', decision('deny', 'b'), null)).toBe(
      false,
    );
    await store.noteApproval(FINDING, 'revoke-iam', decision('deny', 'b'));
    await store.reopenApproval(FINDING, 'revoke-iam', decision('approve', 'c'));
    const kept = (await store.get(FINDING))?.approvals?.['revoke-iam'];
    expect(kept).toMatchObject({ state: 'waiting', answeredBy: null, mac: null });
    expect(kept?.decisions.map((d) => d.by)).toEqual(['a', 'b', 'c']);
  });

  it('releases an open incident once, clearing its entries, and lists incidents by state', async () => {
    const store = await open();
    await store.claim(request());
    const { seal } = await store.sealed(FINDING);
    await store.intend(seal, entry('node a', { node: 'a', unschedulable: false }));
    expect((await store.inState('open')).map((r) => r.findingId)).toEqual([FINDING]);
    const release = { at: new Date().toISOString(), requestedBy: 't', dryRun: false, steps: [] };
    await store.recordRelease(FINDING, { ...release, dryRun: true }, false);
    expect(await store.startRelease(FINDING, release.at)).toBe(true);
    await store.recordRelease(FINDING, release, true);
    const released = await store.get(FINDING);
    expect(released).toMatchObject({ state: 'released', entries: {} });
    expect(released?.releases).toHaveLength(2);
    expect(await store.startRelease(FINDING, release.at)).toBe(false);
    expect(await store.inState('open')).toEqual([]);
    // A rerun after the release is a new incident.
    await store.claim(request({ executionArn: OTHER, rerun: true }));
    expect((await store.sealed(FINDING)).seal.incidentId).not.toBe(seal.incidentId);
  });

  it('records a recovery step by step, and ends it', async () => {
    const store = await open();
    await store.claim(request());
    const recovery = {
      at: new Date().toISOString(),
      requestedBy: 't',
      dryRun: false,
      steps: [{ kind: 'pod' as const, target: 'pod a/b', status: 'planned' as const, detail: '' }],
    };
    expect(await store.startRecovery(FINDING, recovery)).toBe(true);
    await store.recordRecoveryStep(FINDING, 0, {
      ...recovery.steps[0],
      status: 'ok',
      detail: 'deleted',
    } as never);
    expect((await store.get(FINDING))?.recovery?.steps[0]).toMatchObject({ status: 'ok', detail: 'deleted' });
    await store.finishRecovery(FINDING, recovery, true);
    const ended = await store.get(FINDING);
    expect(ended?.state).toBe('recovered');
    expect(ended?.recovery).toBeUndefined();
    expect(await store.startRecovery(FINDING, recovery)).toBe(false);
  });

  it('registers a group once, verifies it, and refuses an item that does not verify', async () => {
    const store = await open();
    await store.claim(request());
    const { seal } = await store.sealed(FINDING);
    const none = await store.ownGroup(seal, 'vpc-1', 'quarantine');
    expect(none).toEqual({ id: null, found: null, refused: null });
    expect(await store.registerGroup(seal, 'vpc-1', 'quarantine', 'sg-1', none)).toBe(true);
    expect(await store.registerGroup(seal, 'vpc-1', 'quarantine', 'sg-2', none)).toBe(false);
    const own = await store.ownGroup(seal, 'vpc-1', 'quarantine');
    expect(own.id).toBe('sg-1');
    // An item written without the key: refused, and a registration may replace it on that condition.
    const forged = `security-group|${seal.accountId}|${seal.region}|vpc-2|untrack`;
    expect(await store.table.writeGroup(forged, 'sg-prod', 'AAAA', undefined)).toBe(true);
    const refused = await store.ownGroup(seal, 'vpc-2', 'untrack');
    expect(refused).toMatchObject({
      id: null,
      refused: 'the registered untrack group of vpc-2 failed verification',
    });
    expect(await store.registerGroup(seal, 'vpc-2', 'untrack', 'sg-3', refused)).toBe(true);
    expect((await store.ownGroup(seal, 'vpc-2', 'untrack')).id).toBe('sg-3');
  });

  it('gives actions a journal that records, refuses and settles through the store', async () => {
    const store = await open();
    await store.claim(request());
    const journal = incidentJournal(store, FINDING, EXECUTION);
    expect(
      await journal.intend('cordon-nodes', 'prod-eks', 'node z', { node: 'z', unschedulable: false }),
    ).toEqual({
      node: 'z',
      unschedulable: false,
    });
    await journal.settle('cordon-nodes', 'prod-eks', 'node z', { status: 'ok', detail: 'cordoned' });
    const record = await store.get(FINDING);
    expect(record?.entries[entryKey('cordon-nodes', 'prod-eks', 'node z')]?.status).toBe('ok');
    expect(journal.refusals().size).toBe(0);
    expect(await sealOf(key, record as NonNullable<typeof record>)).toMatchObject({ findingId: FINDING });
  });
});
