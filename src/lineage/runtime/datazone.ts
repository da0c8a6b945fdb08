/**
 * Optional: send lineage events to an OpenLineage endpoint such as Amazon DataZone's
 * PostLineageEvent. Off by default (nothing calls it unless a caller passes a client). Only the
 * request shape is built here, behind an injected client, so the library takes no DataZone SDK
 * dependency; adapt the SDK's client like this:
 *
 *   import { DataZoneClient, PostLineageEventCommand } from '@aws-sdk/client-datazone';
 *   const dz = new DataZoneClient({});
 *   const sender: LineageEventSender = { post: (req) => dz.send(new PostLineageEventCommand(req)).then(() => undefined) };
 *
 * NOT verified here: there is no DataZone in moto and no AWS account in this workplace. The shape
 * follows the API reference (domainIdentifier, event as the event's JSON bytes, clientToken).
 */
import { RunEvent } from './events';

/** The PostLineageEvent request. */
export interface PostLineageEventRequest {
  /** The DataZone domain id (`dzd_…`). */
  readonly domainIdentifier: string;
  /** The OpenLineage run event, as JSON bytes (UTF-8). */
  readonly event: Uint8Array;
  /** Idempotency token: `<runId>-<eventType>` (at most 128 characters), so a resend is a no-op. */
  readonly clientToken: string;
}

/** Anything that can post a request (the DataZone SDK client, adapted; a fake in tests). */
export interface LineageEventSender {
  post(request: PostLineageEventRequest): Promise<void>;
}

/** The request for one event. */
export function postLineageEventRequest(domainIdentifier: string, event: RunEvent): PostLineageEventRequest {
  if (!/^dzd[-_][a-zA-Z0-9_-]{1,36}$/.test(domainIdentifier)) throw new Error(`DataZone domain id ${JSON.stringify(domainIdentifier)} does not look like dzd_…`);
  return {
    domainIdentifier,
    event: new TextEncoder().encode(JSON.stringify(event)),
    clientToken: `${event.run.runId}-${event.eventType}`.slice(0, 128),
  };
}

/** Send events (in order); a failure rejects with the event's run id named. */
export async function sendLineageEvents(sender: LineageEventSender, domainIdentifier: string, events: readonly RunEvent[]): Promise<void> {
  for (const e of events) {
    try {
      await sender.post(postLineageEventRequest(domainIdentifier, e));
    } catch (err) {
      throw new Error(`PostLineageEvent failed for run ${e.run.runId} (${e.eventType}): ${(err as Error).name}`);
    }
  }
}
