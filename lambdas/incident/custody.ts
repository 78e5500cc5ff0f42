/**
 * The chain of custody, signed: every evidence object the record lists (bucket, key, version, size,
 * SHA-256, subject, note) carries the MAC of the function that wrote it, for the incident's seal. An
 * object someone added to the table's list, or changed there (another hash, another key), does not
 * verify: the notification leaves it out and says so.
 */
import type { EvidenceObject } from './record.js';
import type { RecordKey, Seal, Signable } from './signature.js';

/** What an evidence object's MAC covers: the object as recorded, and the incident's seal. */
export const evidenceView = (seal: Seal, object: EvidenceObject): Signable => ({
  kind: 'evidence',
  ...seal,
  bucket: object.bucket,
  key: object.key,
  versionId: object.versionId,
  size: object.size,
  sha256: object.sha256,
  subject: object.subject,
  note: object.note,
});

/** The objects, each with its MAC. */
export const signEvidence = (
  key: RecordKey,
  seal: Seal,
  objects: readonly EvidenceObject[],
): Promise<EvidenceObject[]> =>
  Promise.all(
    objects.map(async (object) => ({ ...object, mac: await key.sign(evidenceView(seal, object)) })),
  );

/** The record's list, checked: the objects that verify, and those that do not, with why. */
export async function verifyCustody(
  key: RecordKey,
  seal: Seal,
  objects: readonly EvidenceObject[],
): Promise<{ verified: EvidenceObject[]; refused: { key: string; why: string }[] }> {
  const verdicts = await Promise.all(
    objects.map(async (object) =>
      !object.mac
        ? 'it has no MAC'
        : (await key.verify(evidenceView(seal, object), object.mac))
          ? null
          : 'its MAC does not match',
    ),
  );
  return {
    verified: objects.filter((_, index) => verdicts[index] === null),
    refused: objects.flatMap((object, index) => {
      const why = verdicts[index];
      return why ? [{ key: String(object.key), why }] : [];
    }),
  };
}
