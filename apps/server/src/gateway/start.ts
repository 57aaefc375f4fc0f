import { readFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { App, AppDeps } from "../app.ts";
import { AgentGateway } from "./gateway.ts";

/**
 * The gateway role: accepts agent WebSockets on the app's HTTP server, and with a configured certificate
 * also on a TLS listener that serves the same app. Call before `listen()`; `stop` closes it before the
 * app closes.
 */
export async function startGateway(app: App, deps: Pick<AppDeps, "db" | "config">) {
  const { config } = deps;
  const key = await app.agents.serverKey();
  const gateway = new AgentGateway(
    deps.db,
    app.agents.hub,
    key,
    {
      heartbeatSeconds: config.AGENT_HEARTBEAT_SECONDS,
      offlineAfterMissed: config.AGENT_OFFLINE_AFTER_MISSED,
      maxMessageBytes: config.AGENT_MAX_MESSAGE_BYTES,
      connectsPerAddressPerMinute: config.AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE,
      inventoryIntervalSeconds: config.AGENT_INVENTORY_INTERVAL_SECONDS,
      remote: app.remote.agentSide,
      monitoring: app.monitoring,
    },
    app.log,
  );
  gateway.attach(app.server);
  let tls: HttpsServer | null = null;
  if (config.AGENT_TLS_CERT_FILE && config.AGENT_TLS_KEY_FILE) {
    const server = createHttpsServer(
      { cert: readFileSync(config.AGENT_TLS_CERT_FILE), key: readFileSync(config.AGENT_TLS_KEY_FILE) },
      (req, res) => app.routing(req, res),
    );
    tls = server;
    gateway.attachUpgrades(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.AGENT_TLS_PORT, config.HOST, 4096, () => resolve());
    });
    app.log.info({ port: (server.address() as AddressInfo).port }, "agent gateway listening with TLS");
  }
  return {
    gateway,
    /** The TLS listener's port, when there is one. */
    tlsPort: tls ? (tls.address() as AddressInfo).port : null,
    stop: async () => {
      await gateway.close();
      if (tls) {
        const server = tls;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
      }
    },
  };
}
