import { passesStreamFilter, RULES_STREAM, STREAM_CONSUMERS, streamFilterPatterns } from '../../lib/declarations/streams';

describe('stream consumer filter', () => {
  const insert = (image: Record<string, unknown>) => ({ eventName: 'INSERT', dynamodb: { NewImage: image } });

  it('passes new events and nothing restored from the archive, for every consumer', () => {
    for (const consumer of STREAM_CONSUMERS) {
      expect(passesStreamFilter(consumer, insert({ pk: { S: '01J' } }))).toBe(true);
      expect(passesStreamFilter(consumer, insert({ pk: { S: '01J' }, restoredAt: { S: '2026-11-23T10:00:00Z' } }))).toBe(false);
      expect(passesStreamFilter(consumer, { eventName: 'REMOVE', dynamodb: {} })).toBe(false);
    }
  });

  it('says the same thing as a Lambda filter pattern', () => {
    expect(streamFilterPatterns(RULES_STREAM).map((criteria) => JSON.parse(criteria.pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { restoredAt: { S: [{ exists: false }] } } } },
    ]);
  });
});
