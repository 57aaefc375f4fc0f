import { useEffect, useState } from "react";
import type { ContactDto } from "../../api/types.ts";

/** Everything about the call in progress: kept in this tab so opening a ticket and coming back loses nothing. */
export interface IntakeDraft {
  startedAt: number;
  idempotencyKey: string;
  lookup: string;
  contact: ContactDto | null;
  clientId: string | null;
  subject: string;
  notes: string;
  type: string;
  priority: string;
  teamId: string | null;
  assignMe: boolean;
  resolveNow: boolean;
  direction: "inbound" | "outbound";
  minutes: number | string;
}

const KEY = "sb:intake-call";

const fresh = (clientId: string | null): IntakeDraft => ({
  startedAt: Date.now(),
  idempotencyKey: crypto.randomUUID(),
  lookup: "",
  contact: null,
  clientId,
  subject: "",
  notes: "",
  type: "incident",
  priority: "3",
  teamId: null,
  assignMe: true,
  resolveNow: false,
  direction: "inbound",
  minutes: "",
});

function load(clientId: string | null): IntakeDraft {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as IntakeDraft | null;
    // A link that names a client (a child ticket) starts a new call for it.
    if (saved && (!clientId || saved.clientId === clientId)) return { ...fresh(clientId), ...saved };
  } catch {
    // A damaged draft is dropped; the call starts over.
  }
  return fresh(clientId);
}

/**
 * The call in progress, in sessionStorage (this tab only, gone when it closes): the timer keeps running
 * from when the call started, through navigation and Back. `end()` clears it once the call is logged.
 */
export function useIntakeDraft(clientId: string | null) {
  const [draft, setDraft] = useState(() => load(clientId));
  useEffect(() => {
    sessionStorage.setItem(KEY, JSON.stringify(draft));
  }, [draft]);
  const set = <K extends keyof IntakeDraft>(k: K, v: IntakeDraft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const end = () => {
    sessionStorage.removeItem(KEY);
    setDraft(fresh(null));
  };
  return { draft, set, setDraft, end };
}

/** Whether a call is in progress in this tab (the nav can say so). */
export const callInProgress = () => {
  try {
    const d = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as IntakeDraft | null;
    return !!d && !!(d.contact || d.subject || d.notes || d.lookup);
  } catch {
    return false;
  }
};
