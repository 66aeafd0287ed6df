import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * The S3 archive's layout (docs/archive.md): every accepted event, exactly
 * as stored (the item's `doc`), one JSON line each, gzipped, under
 *
 *   events/dt=YYYY-MM-DD/hour=HH/<first sequence number>-<first record id>.ndjson.gz
 *
 * partitioned by the event's `receivedAt` (UTC). Pure domain code: no AWS SDK.
 *
 * Why `receivedAt` and not `occurredAt`: it is the server's clock, so an
 * hour's partition is complete a few seconds after the hour (a client may
 * send an `occurredAt` days in the past, which would reopen old partitions
 * forever), and a stream batch spans one or two hours, not arbitrarily many.
 * Queries by `occurredAt` still prune well: it is never more than 5 minutes
 * after `receivedAt` (ingestion refuses the future).
 */
export const ARCHIVE_EVENTS_PREFIX = 'events/';
export const ARCHIVE_DIGESTS_PREFIX = 'digests/';
export const ARCHIVE_OBJECT_SUFFIX = '.ndjson.gz';

/** A stream record, reduced to what the archive needs. */
export interface ArchiveRecord {
  /** The stream record's `eventID`: unique per record. A batch is identified by its first record's. */
  eventId: string;
  /** Increasing within a shard (the only order the archive relies on). */
  sequenceNumber: string;
  /** The event's `receivedAt` (ISO-8601 UTC): chooses the partition. */
  receivedAt: string;
  /** The stored event JSON, byte for byte. */
  doc: string;
}

/** One archive object, ready to upload. */
export interface ArchiveObject {
  key: string;
  /** Gzipped NDJSON. */
  body: Buffer;
  /** Hex SHA-256 of `body` (what digests record and verification recomputes). */
  sha256: string;
  events: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

const ISO_HOUR = /^(\d{4}-\d{2}-\d{2})T(\d{2})/;

/** `events/dt=YYYY-MM-DD/hour=HH/` for an ISO-8601 UTC time. */
export function partitionPrefix(isoTime: string): string {
  const match = ISO_HOUR.exec(isoTime);
  if (!match) throw new Error(`not an ISO-8601 UTC time: ${JSON.stringify(isoTime)}`);
  return `${ARCHIVE_EVENTS_PREFIX}dt=${match[1]}/hour=${match[2]}/`;
}

/** The partition (`YYYY-MM-DDTHH`) an archive object key belongs to, or undefined for a key outside the layout. */
export function partitionOfKey(key: string): string | undefined {
  const match = /^events\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key);
  return match ? `${match[1]}T${match[2]}` : undefined;
}

/**
 * The object key of a group of records: derived from its first record alone
 * (sequence number and stream record id), never from the batch's end. A
 * retried batch starts at the same record, so it writes the same key (and,
 * with the same records, the same bytes); a retry that delivers more records
 * than the failed attempt overwrites the uncommitted object instead of
 * leaving a second one that overlaps it.
 */
export function archiveObjectKey(first: ArchiveRecord): string {
  const id = first.eventId.replace(/[^A-Za-z0-9_-]/g, '');
  if (!/^\d+$/.test(first.sequenceNumber)) throw new Error(`stream sequence number is not decimal: ${first.sequenceNumber}`);
  return `${partitionPrefix(first.receivedAt)}${first.sequenceNumber}-${id}${ARCHIVE_OBJECT_SUFFIX}`;
}

/**
 * A batch's records as archive objects: one per hour of `receivedAt` (a batch
 * spanning two hours makes two objects), records in stream order, each line
 * exactly the stored `doc`. Gzip output is deterministic (no name, no time
 * in the header), so the same records always give the same bytes.
 */
export function planArchiveObjects(records: readonly ArchiveRecord[]): ArchiveObject[] {
  const groups = new Map<string, ArchiveRecord[]>();
  for (const record of records) {
    if (record.doc.includes('\n')) throw new Error(`event doc of stream record ${record.eventId} spans lines`);
    const prefix = partitionPrefix(record.receivedAt);
    const group = groups.get(prefix);
    if (group) group.push(record);
    else groups.set(prefix, [record]);
  }
  return [...groups.values()].map((group) => {
    const body = gzipSync(Buffer.from(`${group.map((r) => r.doc).join('\n')}\n`, 'utf8'), { level: 9 });
    return {
      key: archiveObjectKey(group[0]!),
      body,
      sha256: sha256Hex(body),
      events: group.length,
      firstSequenceNumber: group[0]!.sequenceNumber,
      lastSequenceNumber: group.at(-1)!.sequenceNumber,
    };
  });
}

/** The event lines of an archive object's (gunzipped) content; a missing final newline is tolerated. */
export function ndjsonLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Orders stream sequence numbers (decimal strings of any length). */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
