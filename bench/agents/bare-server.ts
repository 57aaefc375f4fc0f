// The baseline: a bare `ws` server holding the same connections and the same frames (challenge, auth,
// welcome, heartbeats), parsing each one, with no crypto, no validation and no database.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const server = createServer();
const wss = new WebSocketServer({
  server,
  path: "/agent/ws",
  perMessageDeflate: false,
  clientTracking: false,
});
let frames = 0;
wss.on("connection", (ws) => {
  ws.send(
    JSON.stringify({
      type: "challenge",
      protocol: 1,
      nonce: randomBytes(32).toString("base64"),
      serverTime: new Date().toISOString(),
    }),
  );
  ws.on("message", (data) => {
    frames++;
    const f = JSON.parse(data.toString()) as { type: string; deviceId?: string };
    if (f.type === "auth") {
      ws.send(
        JSON.stringify({
          type: "welcome",
          deviceId: f.deviceId,
          signature: "",
          heartbeatSeconds: 30,
          inventoryIntervalSeconds: 3600,
          inventoryHash: null,
          serverTime: new Date().toISOString(),
        }),
      );
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const addr = server.address();
  process.send?.({ op: "listening", port: typeof addr === "object" && addr ? addr.port : 0 });
});
process.on("message", (m: { op: string }) => {
  if (m.op === "frames") process.send?.({ op: "frames", frames });
});
