import type { LiveEvent } from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import type { Signal } from "./live.ts";
import { eventsSince, latestEventId } from "./queries.ts";

const HEARTBEAT_MS = 20_000;

export async function eventRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/events/stream",
    {
      schema: {
        tags: ["events"],
        summary: "Live stream (Server-Sent Events) of the domain events and signals the caller may see",
        description:
          "Each event carries its id; reconnect with Last-Event-ID (or ?after=) to replay what was missed.",
        querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const lastHeader = req.headers["last-event-id"];
      const after = req.query.after ?? (typeof lastHeader === "string" ? Number(lastHeader) || 0 : undefined);

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
      const unsubscribe = deps.live.subscribe(
        actor,
        (e) => (replaying ? buffered.push(e) : send(e)),
        sendSignal,
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
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      req.raw.on("close", () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );
}
