/**
 * Outbox events that only the server reads: never delivered to a live stream or replayed to one.
 * `auth.changed` (payload `{userId}`): that user's access changed; open streams re-resolve or close.
 */
export const AUTH_CHANGED = "auth.changed";

export const INTERNAL_EVENTS = [AUTH_CHANGED];
