// The baseline for throughput: a bare ws server that streams a file to its client in the console's own
// frames ({"t":"out","d":...}, 32 KiB of text each), as fast as the socket takes them. No PTY, no agent,
// no gateway, no NATS, no recording.
import { createReadStream } from "node:fs";
import { WebSocketServer } from "ws";

const file = process.argv[2]!;
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
wss.on("listening", () => {
  const a = wss.address();
  process.send?.({ port: a && typeof a === "object" ? a.port : 0 });
});
wss.on("connection", (ws) => {
  const input = createReadStream(file, { encoding: "utf8", highWaterMark: 32 * 1024 });
  input.on("data", (d) => {
    ws.send(JSON.stringify({ t: "out", d }));
    if (ws.bufferedAmount > 1024 * 1024) {
      input.pause();
      const wait = setInterval(() => {
        if (ws.bufferedAmount < 256 * 1024) {
          clearInterval(wait);
          input.resume();
        }
      }, 1);
    }
  });
  input.on("end", () => ws.send(JSON.stringify({ t: "out", d: "\n__DONE__\n" })));
});
