import { useEffect, useRef } from "react";
import { live, PRESENCE_HEARTBEAT_MS, usePresence } from "../../api/live.ts";

const post = (ticketId: string, state: "viewing" | "typing" | "left", keepalive = false) =>
  fetch(`/api/v1/tickets/${ticketId}/presence`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ state }),
    keepalive,
  }).catch(() => {});

/**
 * Announces that I am on this ticket (and typing) and returns who else is. Heartbeats keep the hint
 * alive on the others' screens; "left" on unmount clears it at once.
 */
export function useTicketPresence(ticketId: string | undefined) {
  const typingUntil = useRef(0);
  useEffect(() => {
    if (!ticketId) return;
    const announce = () => post(ticketId, Date.now() < typingUntil.current ? "typing" : "viewing");
    announce();
    const unview = live.view(ticketId, announce);
    const beat = setInterval(() => {
      announce();
      live.sweep();
    }, PRESENCE_HEARTBEAT_MS);
    const leave = () => post(ticketId, "left", true);
    window.addEventListener("pagehide", leave);
    return () => {
      clearInterval(beat);
      unview();
      window.removeEventListener("pagehide", leave);
      leave();
    };
  }, [ticketId]);

  const others = usePresence(ticketId ?? "");
  /** Call on each keystroke: sends "typing" at most every few seconds, and "viewing" when I stop. */
  const typing = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onTyping = () => {
    if (!ticketId) return;
    const now = Date.now();
    if (now > typingUntil.current - 3000) post(ticketId, "typing");
    typingUntil.current = now + 6000;
    if (typing.current) clearTimeout(typing.current);
    typing.current = setTimeout(() => post(ticketId, "viewing"), 6000);
  };
  return { others, onTyping };
}
