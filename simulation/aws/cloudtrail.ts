/**
 * CloudTrail event history: LookupEvents over the account's recorded calls, by one lookup attribute
 * (AccessKeyId, Username, ResourceName, EventName), within StartTime and EndTime, newest first, 50 a page
 * at most with a NextToken. The JSON protocol; times as epoch seconds.
 */
import type { SimulatedTrailEvent } from './state.js';
import type { SimulatedService } from './wire.js';

type Lookup = {
  LookupAttributes?: { AttributeKey?: string; AttributeValue?: string }[];
  StartTime?: number;
  EndTime?: number;
  MaxResults?: number;
  NextToken?: string;
};

const matches = (event: SimulatedTrailEvent, key: string | undefined, value: string | undefined): boolean => {
  if (key === 'AccessKeyId') return event.accessKeyId === value;
  if (key === 'Username') return event.userName === value;
  if (key === 'ResourceName') return (event.resources ?? []).includes(value ?? '');
  if (key === 'EventName') return event.eventName === value;
  return true;
};

export const cloudtrail: SimulatedService = {
  operations: ({ account }) => ({
    LookupEvents: (input: Lookup) => {
      const [attribute] = input.LookupAttributes ?? [];
      const start = (input.StartTime ?? 0) * 1000;
      const end = (input.EndTime ?? Date.now() / 1000) * 1000;
      const found = (account.cloudTrail ?? [])
        .filter((event) => matches(event, attribute?.AttributeKey, attribute?.AttributeValue))
        .filter((event) => Date.parse(event.eventTime) >= start && Date.parse(event.eventTime) <= end)
        .sort((a, b) => Date.parse(b.eventTime) - Date.parse(a.eventTime));
      const from = Number(input.NextToken ?? 0);
      const size = Math.min(input.MaxResults ?? 50, 50);
      const page = found.slice(from, from + size);
      return {
        Events: page.map((event, index) => ({
          EventId: `evt-${from + index}`,
          EventName: event.eventName,
          EventSource: event.eventSource,
          EventTime: Date.parse(event.eventTime) / 1000,
          Username: event.userName,
          AccessKeyId: event.accessKeyId,
          Resources: (event.resources ?? []).map((name) => ({ ResourceName: name })),
          CloudTrailEvent: JSON.stringify({
            eventVersion: '1.09',
            eventTime: event.eventTime,
            eventSource: event.eventSource,
            eventName: event.eventName,
            sourceIPAddress: event.sourceIPAddress,
            userIdentity: { accessKeyId: event.accessKeyId, userName: event.userName },
            ...(event.errorCode ? { errorCode: event.errorCode } : {}),
          }),
        })),
        ...(from + size < found.length ? { NextToken: String(from + size) } : {}),
      };
    },
  }),
};
