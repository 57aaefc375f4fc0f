// Real agents (apps/agent's AgentClient, with real PTYs through script(1)) in their own process, for the
// shells of the benchmark; driven over IPC by main.ts.
import { createPublicKey } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AgentClient } from "../../apps/agent/src/client.ts";

interface Spec {
  deviceId: string;
  keyPem: string;
  url: string;
}
const clients: AgentClient[] = [];

process.on("message", (m: { op: "start"; specs: Spec[]; serverKey: string } | { op: "stop" }) => {
  if (m.op === "start") {
    for (const s of m.specs) {
      const stateDir = mkdtempSync(path.join(tmpdir(), "sb-bench-remote-agent-"));
      const c = new AgentClient({
        state: {
          serverUrl: s.url,
          gatewayPath: "/agent/ws",
          deviceId: s.deviceId,
          privateKeyPem: s.keyPem,
          publicKey: createPublicKey(s.keyPem).export({ format: "der", type: "spki" }).toString("base64"),
          serverPublicKey: m.serverKey,
        },
        stateDir,
        backoff: { baseMs: 500, maxMs: 2000, spreadMs: 500 },
        collect: async () => {
          throw new Error("no inventory in this benchmark");
        },
      });
      c.start();
      clients.push(c);
    }
    const check = setInterval(() => {
      if (clients.every((c) => c.connected)) {
        clearInterval(check);
        process.send?.({ op: "ready" });
      }
    }, 100);
  } else {
    void Promise.all(clients.map((c) => c.stop())).then(() => {
      process.send?.({ op: "stopped" });
      setTimeout(() => process.exit(0), 100);
    });
  }
});
