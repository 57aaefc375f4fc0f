import { type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { AGENT_WS_PATH } from "@switchboard/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket, WebSocketServer } from "ws";
import { AppError } from "./errors.ts";

const kUpgrade = Symbol("switchboard.upgrade");
interface Upgrade {
  socket: Duplex;
  head: Buffer;
  accepted: boolean;
}
type UpgradeRequest = IncomingMessage & { [kUpgrade]?: Upgrade };

/**
 * WebSocket upgrades (other than the agents', which the gateway takes) go through Fastify's router like
 * any request: the route's declared policy, the auth hook and validation decide before a socket is
 * accepted, and a refusal is an ordinary HTTP answer (401, 403, 404) written on the connection. A route
 * accepts with `acceptWebSocket`.
 */
export function routeUpgrades(app: FastifyInstance, server: Server) {
  server.on("upgrade", (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    if ((req.url ?? "").split("?")[0] === AGENT_WS_PATH) return;
    const upgrade: Upgrade = { socket, head, accepted: false };
    req[kUpgrade] = upgrade;
    socket.on("error", () => {});
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on("finish", () => {
      if (upgrade.accepted) return;
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
    app.routing(req, res);
  });
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/**
 * Checks that the current request is a WebSocket handshake this server accepts (a plain GET is a 426;
 * a browser's upgrade from another site is refused; the session cookie is SameSite=Strict as well), so a
 * route can refuse before it changes anything. `accept` then completes it on `wss` (`noServer: true`).
 */
export function webSocketUpgrade(req: FastifyRequest) {
  const upgrade = (req.raw as UpgradeRequest)[kUpgrade];
  if (!upgrade || upgrade.accepted) {
    throw new AppError("upgrade_required", 426, "Connect to this address with a WebSocket");
  }
  const origin = req.headers.origin;
  if (origin && hostOf(origin) !== req.headers.host) {
    throw new AppError("forbidden", 403, "Cross-site WebSocket refused");
  }
  const key = req.headers["sec-websocket-key"];
  if (
    req.headers.upgrade?.toLowerCase() !== "websocket" ||
    typeof key !== "string" ||
    !/^[+/0-9A-Za-z]{22}==$/.test(key) ||
    req.headers["sec-websocket-version"] !== "13"
  ) {
    throw new AppError("validation_failed", 400, "Not a WebSocket handshake");
  }
  return {
    accept(reply: FastifyReply, wss: WebSocketServer) {
      upgrade.accepted = true;
      reply.hijack();
      return new Promise<WebSocket>((resolve) =>
        wss.handleUpgrade(req.raw, upgrade.socket, upgrade.head, resolve),
      );
    },
  };
}
