import pg from "pg";
import { summarize } from "../lib/stats.ts";
import type { Fleet, Spec } from "./fleet-control.ts";
import { COMMANDS, HEARTBEAT_S, MISSED, PORT, SILENT } from "./options.ts";
import { sleep } from "./proc.ts";

/**
 * Domain events of `type` written from now on, read from the outbox: `at` is the row's created_at, the
 * start of the transaction that wrote it (the commit follows within its few statements).
 */
async function outbox(url: string, type: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ id: string }>("select coalesce(max(id), 0) as id from domain_events");
  const from = rows[0]!.id;
  return {
    async events() {
      const r = await c.query<{ at: string; payload: Record<string, string> }>(
        "select extract(epoch from created_at) * 1000 as at, payload from domain_events where id > $1 and type = $2",
        [from, type],
      );
      return r.rows.map((e) => ({ at: Number(e.at), payload: e.payload }));
    },
    end: () => c.end(),
  };
}

/**
 * API call to the agent's result being committed: POST, sign, route, agent verifies and answers, recorded.
 * The API is gateway 0's; an agent held by another gateway process is reached through NATS, so the round
 * trips are also given apart: agents on the API's own process, and agents behind NATS.
 */
export async function commandRoundTrips(url: string, token: string, specs: Spec[]) {
  const l = await outbox(url, "command.succeeded");
  const sentAt = new Map<string, number>();
  const remote = new Set<string>();
  const apiMs: Array<{ remote: boolean; ms: number }> = [];
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < COMMANDS) {
      const i = next++;
      const device = specs[SILENT + ((i * 7919) % (specs.length - SILENT))]!;
      const t0 = Date.now();
      const res = await fetch(`http://127.0.0.1:${PORT}/api/v1/devices/${device.deviceId}/commands`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ command: { kind: "script.run", interpreter: "sh", script: "echo ok" } }),
      });
      apiMs.push({ remote: device.gateway !== 0, ms: Date.now() - t0 });
      if (res.status !== 202) {
        errors++;
        continue;
      }
      const id = ((await res.json()) as { id: string }).id;
      sentAt.set(id, t0);
      if (device.gateway !== 0) remote.add(id);
      await sleep(20);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  for (let i = 0; i < 100 && (await l.events()).length < sentAt.size; i++) await sleep(100);
  const done = (await l.events())
    .filter((e) => sentAt.has(e.payload.commandId!))
    .map((e) => ({ id: e.payload.commandId!, ms: e.at - sentAt.get(e.payload.commandId!)! }));
  await l.end();
  return {
    sent: COMMANDS,
    errors,
    completed: done.length,
    roundTrip: summarize(done.map((d) => d.ms)),
    roundTripSameProcess: summarize(done.filter((d) => !remote.has(d.id)).map((d) => d.ms)),
    roundTripViaNats: summarize(done.filter((d) => remote.has(d.id)).map((d) => d.ms)),
    apiResponse: summarize(apiMs.map((a) => a.ms)),
    apiResponseViaNats: summarize(apiMs.filter((a) => a.remote).map((a) => a.ms)),
  };
}

/** From each silenced agent's last heartbeat to its device.offline event. */
export async function offlineDetection(url: string, fleet: Fleet, ids: string[]) {
  const l = await outbox(url, "device.offline");
  // Every worker gets every id and silences the ones it holds.
  const replies = await Promise.all(
    fleet.procs.map((p) => fleet.ask(p, { op: "silence", deviceIds: ids }, "silenced")),
  );
  const last = new Map<string, number>();
  for (const r of replies)
    for (const [id, at] of Object.entries(r.last as Record<string, number>)) last.set(id, at);
  const limit = (MISSED + 2) * HEARTBEAT_S * 1000 + 30_000;
  for (let i = 0; i < limit / 500 && (await l.events()).length < ids.length; i++) await sleep(500);
  const delays = (await l.events())
    .filter((e) => last.get(e.payload.deviceId!))
    .map((e) => (e.at - last.get(e.payload.deviceId!)!) / 1000);
  await l.end();
  return { silenced: ids.length, detected: delays.length, delaySeconds: summarize(delays) };
}
