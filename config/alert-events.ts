/**
 * The names of the events an alert target can subscribe to (issue 8). The config validates
 * `alerts.targets[].events` against this list, and a target that leaves `events` out gets all of
 * it. It is the alert model's own list (alerts/events.ts), so an event type added there is
 * known here at once. `test` is left out: `dsrctl alerts test` sends it to the target it names,
 * whatever that target subscribes to.
 */
import { ALERT_EVENT_TYPES, type AlertEventType } from '../alerts/events.ts';

export type AlertEvent = Exclude<AlertEventType, 'test'>;

const subscribable = ALERT_EVENT_TYPES.filter((t): t is AlertEvent => t !== 'test');

/** Non-empty by construction (the zod enum of the config schema needs a tuple type). */
export const ALERT_EVENTS = subscribable as unknown as readonly [AlertEvent, ...AlertEvent[]];
