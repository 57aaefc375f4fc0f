import type { LiveEvent } from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { invalid } from "../../http/errors.ts";
import { signedIn } from "../../http/policy.ts";
import type { Signal } from "./live.ts";
import { eventsSince, latestEventId } from "./queries.ts";

const HEARTBEAT_MS = 20_000;

/** The Last-Event-ID header: an event id (digits), or absent. Anything else is refused with 400. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === "") return undefined;
  if (typeof header !== "string" || !/^\d{1,15}$/.test(header)) {
    throw invalid("headers.last-event-id", "must be the id of an event (digits)");
  }
  return Number(header);
}

export async function eventRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/events/stream",
    {
      config: signedIn,
      schema: {
        tags: ["events"],
        summary: "Live stream (Server-Sent Events) of the domain events and signals the caller may see",
        description:
          "Each event carries its id; reconnect with Last-Event-ID (or ?after=) to replay what was missed.",
        querystring: z.object({
          after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        }),
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      // Checked before the connection is taken over: afterwards an error can no longer be answered.
      const after = req.query.after ?? lastEventId(req.headers["last-event-id"]);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      let lastSent = 0;
      const send = (e: LiveEvent) => {
        if (e.id <= lastSent) return;
        lastSent = e.id;
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      const sendSignal = (s: Signal) => res.write(`event: signal\ndata: ${JSON.stringify(s)}\n\n`);
      // Subscribe first, then replay: an event committed in between arrives by one path or both, and
      // `lastSent` drops the duplicate.
      const buffered: LiveEvent[] = [];
      let replaying = true;
      let heartbeat: NodeJS.Timeout | undefined;
      // The user signed out, was deactivated, or the token was revoked: the stream ends now (a
      // reconnect then meets the 401 any request would).
      const revoked = () => {
        clearInterval(heartbeat);
        res.end(`event: revoked\ndata: {}\n\n`);
      };
      const unsubscribe = deps.live.subscribe(
        actor,
        (e) => (replaying ? buffered.push(e) : send(e)),
        sendSignal,
        revoked,
        () => res.write(`event: rescoped\ndata: {}\n\n`),
      );
      try {
        if (after !== undefined) {
          for (const e of await eventsSince(deps.db, actor, after)) send(e);
        } else {
          lastSent = await latestEventId(deps.db);
        }
      } finally {
        replaying = false;
      }
      for (const e of buffered) send(e);
      res.write(`event: ready\ndata: {"lastEventId":${lastSent}}\n\n`);
      heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      req.raw.on("close", () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );
}
