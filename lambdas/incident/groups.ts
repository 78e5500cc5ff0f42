/**
 * The responder's own security groups (lambdas/actions/isolate-host/), registered by id in the table,
 * signed with where they are by the function that made them. A tag on a group proves nothing (anyone who
 * may tag can write it); only a registered id that verifies is the responder's.
 */
import type { RecordKey } from './signature.js';
import type { RecordTable } from './table.js';

export type GroupPurpose = 'quarantine' | 'untrack';

/** Where a group is: the account and region (an incident's seal has both). */
type Location = { accountId: string; region: string };

/** A registered group as read: the verified id, the item as found, and why it was refused. */
export type OwnGroup = {
  /** The verified id; null when none is registered or the registered one failed verification. */
  id: string | null;
  /** The item as read (the condition a new registration replaces it on); null when there is none. */
  found: Record<string, unknown> | null;
  /** Why the registered item was refused; null when it verified or there is none. */
  refused: string | null;
};

const groupKey = (location: Location, vpcId: string, purpose: GroupPurpose) =>
  `security-group|${location.accountId}|${location.region}|${vpcId}|${purpose}`;

const groupView = (location: Location, vpcId: string, purpose: GroupPurpose, groupId: string) => ({
  kind: 'security-group',
  accountId: location.accountId,
  region: location.region,
  vpcId,
  purpose,
  groupId,
});

export async function ownGroup(
  table: RecordTable,
  key: RecordKey,
  location: Location,
  vpcId: string,
  purpose: GroupPurpose,
): Promise<OwnGroup> {
  const item = await table.readItem(groupKey(location, vpcId, purpose));
  if (!item) return { id: null, found: null, refused: null };
  const groupId = typeof item.groupId === 'string' ? item.groupId : '';
  const mac = typeof item.mac === 'string' ? item.mac : null;
  const verified = groupId !== '' && (await key.verify(groupView(location, vpcId, purpose, groupId), mac));
  return verified
    ? { id: groupId, found: item, refused: null }
    : { id: null, found: item, refused: `the registered ${purpose} group of ${vpcId} failed verification` };
}

/**
 * Registers a group the responder just made, signed, in place of what `replacing` read (nothing, a group
 * since deleted, or an item that failed verification): false when someone registered another in between.
 */
export async function registerGroup(
  table: RecordTable,
  key: RecordKey,
  location: Location,
  vpcId: string,
  purpose: GroupPurpose,
  groupId: string,
  replacing: OwnGroup,
): Promise<boolean> {
  const mac = await key.sign(groupView(location, vpcId, purpose, groupId));
  const previous = replacing.found?.mac;
  return table.writeGroup(
    groupKey(location, vpcId, purpose),
    groupId,
    mac,
    !replacing.found ? undefined : typeof previous === 'string' ? previous : null,
  );
}
