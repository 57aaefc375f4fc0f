import "@xterm/xterm/css/xterm.css";
import type { ShellClientFrame, ShellServerFrame } from "@switchboard/shared";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { useEffect, useRef } from "react";

/** Characters of input in flight before typing waits for the device (SHELL_INPUT_WINDOW). */
const INPUT_WINDOW = 64 * 1024;
const INPUT_CHUNK = 8 * 1024;

export type ShellState =
  | { status: "connecting" | "opening" | "open"; detail?: string }
  | { status: "closed"; reason: string; failed: boolean; recording: boolean };

/**
 * xterm.js on the shell's socket. Output is acknowledged once xterm has written it (the device sends no
 * more than a window ahead of what this screen has shown); typing and pastes go out within an input
 * window, so a large paste waits for the device instead of piling up anywhere. Ctrl+Shift+C copies the
 * selection, Ctrl+Shift+V pastes (Ctrl+C stays the shell's interrupt); the browser's own paste works too.
 */
export function ShellTerminal({
  sessionId,
  onState,
  size,
  endRef,
}: {
  sessionId: string;
  onState: (s: ShellState) => void;
  size: { cols: number; rows: number };
  /** Set to a function that ends the shell (the server answers with its end). */
  endRef?: { current: (() => void) | null };
}) {
  const box = useRef<HTMLDivElement>(null);
  const onStateRef = useRef(onState);
  onStateRef.current = onState;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const term = new Terminal({
      cols: size.cols,
      rows: size.rows,
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      fontSize: 13,
      scrollback: 5000,
      theme: { background: "#0b0e14", foreground: "#d8dee9" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${window.location.host}/api/v1/remote/shells/${sessionId}/socket`);
    const send = (f: ShellClientFrame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(f));
    };
    if (endRef) endRef.current = () => send({ t: "close" });
    let inFlight = 0;
    let pending = "";
    const pump = () => {
      while (pending && inFlight < INPUT_WINDOW) {
        const part = pending.slice(0, Math.min(INPUT_CHUNK, INPUT_WINDOW - inFlight));
        pending = pending.slice(part.length);
        inFlight += part.length;
        send({ t: "in", d: part });
      }
    };
    const input = term.onData((d) => {
      pending += d;
      pump();
    });
    const resized = term.onResize(({ cols, rows }) => send({ t: "resize", cols, rows }));
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === "KeyC") {
        const text = term.getSelection();
        if (text) void navigator.clipboard?.writeText(text);
        return false;
      }
      if (e.code === "KeyV") {
        void navigator.clipboard?.readText().then((t) => t && term.paste(t));
        return false;
      }
      return true;
    });
    ws.onopen = () => {
      onStateRef.current({ status: "opening" });
      fit.fit();
    };
    ws.onmessage = (ev) => {
      const f = JSON.parse(String(ev.data)) as ShellServerFrame;
      switch (f.t) {
        case "out":
          term.write(f.d, () => send({ t: "ack", n: f.d.length }));
          return;
        case "credit":
          inFlight = Math.max(0, inFlight - f.n);
          pump();
          return;
        case "state":
          onStateRef.current({ status: f.status, detail: f.detail });
          if (f.status === "open") {
            fit.fit();
            send({ t: "resize", cols: term.cols, rows: term.rows });
            term.focus();
          }
          return;
        case "closed":
          onStateRef.current({
            status: "closed",
            reason: f.reason,
            failed: f.failed,
            recording: f.recording,
          });
          term.options.cursorBlink = false;
          return;
      }
    };
    ws.onclose = (ev) => {
      if (ev.code !== 1000 && ev.code !== 4400) {
        onStateRef.current({
          status: "closed",
          reason: ev.reason || "the connection to the server was lost",
          failed: true,
          recording: false,
        });
      }
    };
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(el);
    return () => {
      observer.disconnect();
      input.dispose();
      resized.dispose();
      if (ws.readyState === WebSocket.OPEN) send({ t: "close" });
      ws.close();
      term.dispose();
    };
  }, [sessionId, size.cols, size.rows, endRef]);

  return (
    <div
      ref={box}
      data-testid="terminal"
      style={{ height: "100%", width: "100%", padding: 4, background: "#0b0e14" }}
    />
  );
}
