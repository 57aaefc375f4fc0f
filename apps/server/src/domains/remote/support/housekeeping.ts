import { CloseCode } from "@switchboard/shared";
import type { Config } from "../../../config.ts";
import { sweepSupportDevices } from "./agent.ts";
import { endSession } from "./service.ts";
import { announceEnded, type SupportSocketDeps } from "./socket.ts";

/**
 * Run by every process's remote housekeeping timer, in the system scope. A session nobody ended (the
 * caller closed the page, the technician forgot) ends by itself after SUPPORT_SESSION_MAX_HOURS, so a
 * support agent on a caller's machine is never reachable for longer. Then the backstop: a support device
 * whose session is over is retired (if a crash kept that from happening) and told to stop again.
 */
export async function supportHousekeeping(
  deps: Pick<SupportSocketDeps, "db" | "hub" | "bus"> & { config: Config },
) {
  const { db } = deps;
  const hours = deps.config.SUPPORT_SESSION_MAX_HOURS;
  const old = await db
    .selectFrom("support_sessions")
    .selectAll()
    .where("status", "in", ["joined", "active"])
    .where("joined_at", "<", new Date(Date.now() - hours * 3600_000))
    .execute();
  const ended: string[] = [];
  for (const s of old) {
    const reason = `the session reached its limit of ${hours} hours`;
    if (await endSession(db, s, "system", reason)) {
      await announceEnded(deps, s.id, "system", reason);
      ended.push(s.id);
    }
  }
  for (const id of await sweepSupportDevices(db))
    deps.hub.kick(id, CloseCode.retired, "the support session ended");
  return ended;
}
