import type { QueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { keys } from "./keys.ts";
import type { LiveEvent, PresenceSignal } from "./types.ts";

const MONITORING_EVENTS = [
  "monitoring.alert_pending",
  "monitoring.alert_fired",
  "monitoring.alert_resolved",
  "monitoring.alert_updated",
  "monitoring.incident_opened",
  "monitoring.incident_resolved",
  "monitoring.policy_changed",
  "monitoring.maintenance_changed",
  "monitoring.patch_install_changed",
  "command.succeeded",
  "command.failed",
  "command.timed_out",
];

export type LiveState = "connecting" | "live" | "reconnecting";
export interface Presence {
  userId: string;
  name: string;
  state: "viewing" | "typing";
  at: number;
}

/** A presence hint older than this is dropped: viewers re-announce every PRESENCE_HEARTBEAT_MS. */
export const PRESENCE_TTL_MS = 45_000;
export const PRESENCE_HEARTBEAT_MS = 15_000;

type Fn = () => void;

/**
 * The one EventSource of the tab. EventSource reconnects on its own and sends Last-Event-ID, so the
 * server replays what was missed; we only watch its state for the banner, and rebuild it if the
 * browser gives up (CLOSED).
 */
class LiveStream {
  state: LiveState = "connecting";
  private es: EventSource | null = null;
  private listeners = new Set<Fn>();
  private presence = new Map<string, Map<string, Presence>>();
  private presenceListeners = new Set<Fn>();
  private eventListeners = new Set<(e: LiveEvent) => void>();
  private qc: QueryClient | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastId = 0;
  selfId: string | null = null;
  /** Tickets this tab has open, with a function that re-announces my presence on each. */
  private viewing = new Map<string, () => void>();

  start(qc: QueryClient, selfId: string) {
    this.qc = qc;
    this.selfId = selfId;
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    if (!this.es) this.open();
  }

  stop() {
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    this.es?.close();
    this.es = null;
    if (this.retry) clearTimeout(this.retry);
  }

  // A dropped network can leave an EventSource waiting on a dead socket; the browser's own offline and
  // online events are the quickest reliable signal to drop it and reconnect.
  private onOffline = () => {
    this.es?.close();
    this.es = null;
    this.setState("reconnecting");
  };
  private onOnline = () => {
    if (this.es || !this.qc) return;
    if (this.retry) clearTimeout(this.retry);
    this.open();
  };

  private open() {
    const url = this.lastId ? `/api/v1/events/stream?after=${this.lastId}` : "/api/v1/events/stream";
    const es = new EventSource(url);
    this.es = es;
    es.addEventListener("ready", () => {
      this.setState("live");
      // Signals sent while we were not subscribed are gone: say again where we are so others answer.
      for (const announce of this.viewing.values()) announce();
    });
    es.addEventListener("signal", (m) => this.onSignal(JSON.parse((m as MessageEvent).data)));
    // My access changed: everything on screen may show what I may no longer see (or miss what I now may).
    es.addEventListener("rescoped", () => this.qc?.invalidateQueries());
    // Signed out elsewhere, deactivated or the token revoked: no reconnecting; `me` answers 401 and the
    // console shows the sign-in page.
    es.addEventListener("revoked", () => {
      es.close();
      this.es = null;
      this.qc?.invalidateQueries({ queryKey: keys.me });
    });
    for (const type of [
      "ticket.created",
      "ticket.updated",
      "ticket.timeline_added",
      "ticket.merged",
      // The SLA clock moved, warned or breached (domains/sla): queues and the ticket show it.
      "sla.updated",
      "sla.warning",
      "sla.breached",
    ]) {
      es.addEventListener(type, (m) => this.onEvent(JSON.parse((m as MessageEvent).data)));
    }
    // A reply's delivery moving on (sent, failed, bounced, queued again): its ticket's timeline shows it.
    for (const type of [
      "email.queued",
      "email.sent",
      "email.failed",
      "email.bounced",
      // Pages (domains/oncall): the on-call page and the ticket's timeline show them.
      "page.started",
      "page.delivered",
      "page.failed",
      "page.escalated",
      "page.exhausted",
      "page.acknowledged",
    ]) {
      es.addEventListener(type, (m) => this.onDelivery(JSON.parse((m as MessageEvent).data)));
    }
    // Caller verification and resets: the ticket's timeline shows them; an open dialog refetches.
    for (const type of ["identity.verification_updated", "identity.action_updated"]) {
      es.addEventListener(type, (m) => {
        const e = JSON.parse((m as MessageEvent).data) as LiveEvent;
        this.onDelivery(e);
        for (const l of this.eventListeners) l(e);
      });
    }
    // Monitoring: alerts firing, resolving, incidents; the Alerts page, device and ticket panels refetch.
    for (const type of MONITORING_EVENTS) {
      es.addEventListener(type, (m) => this.onMonitoring(JSON.parse((m as MessageEvent).data)));
    }
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.es = null;
        this.setState("reconnecting");
        this.retry = setTimeout(() => this.open(), 2000);
      } else this.setState("reconnecting");
    };
  }

  private setState(s: LiveState) {
    if (this.state === s) return;
    const wasDown = this.state === "reconnecting";
    this.state = s;
    // After an outage, lists may have missed events older than the replay window: refetch them once.
    if (s === "live" && wasDown) this.qc?.invalidateQueries();
    for (const l of this.listeners) l();
  }

  private stale = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  private onEvent(e: LiveEvent) {
    this.lastId = Math.max(this.lastId, e.id);
    this.stale.add("lists");
    for (const n of [e.payload.number, e.payload.intoNumber])
      if (typeof n === "number") this.stale.add(String(n));
    // A busy desk makes many events a second: refetch what they touched at most twice a second.
    this.flushTimer ??= setTimeout(() => this.flush(), 400);
    for (const l of this.eventListeners) l(e);
  }

  private monitoringStale = false;
  private onMonitoring(e: LiveEvent) {
    this.lastId = Math.max(this.lastId, e.id);
    this.monitoringStale = true;
    this.flushTimer ??= setTimeout(() => this.flush(), 400);
  }

  private staleTicketIds = new Set<string>();
  private onDelivery(e: LiveEvent) {
    this.lastId = Math.max(this.lastId, e.id);
    if (e.type.startsWith("page.")) this.qc?.invalidateQueries({ queryKey: ["oncall"] });
    if (!e.ticketId) return;
    this.staleTicketIds.add(e.ticketId);
    this.flushTimer ??= setTimeout(() => this.flush(), 400);
  }

  private flush() {
    this.flushTimer = null;
    const qc = this.qc;
    const stale = [...this.stale];
    this.stale.clear();
    const ids = new Set(this.staleTicketIds);
    this.staleTicketIds.clear();
    if (!qc) return;
    if (this.monitoringStale) {
      this.monitoringStale = false;
      qc.invalidateQueries({ queryKey: ["monitoring"] });
    }
    if (ids.size) {
      qc.invalidateQueries({
        queryKey: keys.ticketAll,
        predicate: (q) =>
          ids.has((q.state.data as { ticket?: { id: string } } | undefined)?.ticket?.id ?? ""),
      });
    }
    for (const k of stale) {
      if (k === "lists") {
        qc.invalidateQueries({ queryKey: keys.tickets });
        qc.invalidateQueries({ queryKey: keys.changes });
      } else qc.invalidateQueries({ queryKey: keys.ticket(k) });
    }
  }

  private onSignal(s: PresenceSignal) {
    if (s.type !== "presence" || !s.ticketId || s.userId === this.selfId) return;
    const m = this.presence.get(s.ticketId) ?? new Map<string, Presence>();
    this.presence.set(s.ticketId, m);
    // A newcomer missed my earlier announcement: answer once, so both sides see each other at once.
    if (!m.has(s.userId) && s.payload.state !== "left") this.viewing.get(s.ticketId)?.();
    if (s.payload.state === "left") m.delete(s.userId);
    else m.set(s.userId, { userId: s.userId, name: s.payload.name, state: s.payload.state, at: Date.now() });
    for (const l of this.presenceListeners) l();
  }

  /** Registers a ticket this tab shows; `announce` re-sends my presence on it. */
  view(ticketId: string, announce: () => void) {
    this.viewing.set(ticketId, announce);
    return () => {
      if (this.viewing.get(ticketId) === announce) this.viewing.delete(ticketId);
    };
  }

  onTicketEvent(fn: (e: LiveEvent) => void) {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  subscribe = (fn: Fn) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };
  subscribePresence = (fn: Fn) => {
    this.presenceListeners.add(fn);
    return () => this.presenceListeners.delete(fn);
  };
  private snapshots = new Map<string, Presence[]>();
  presenceOf(ticketId: string): Presence[] {
    const now = Date.now();
    const list = [...(this.presence.get(ticketId)?.values() ?? [])].filter(
      (p) => now - p.at < PRESENCE_TTL_MS,
    );
    // useSyncExternalStore needs a stable snapshot while nothing changed.
    const prev = this.snapshots.get(ticketId);
    if (
      prev &&
      prev.length === list.length &&
      prev.every((p, i) => p.userId === list[i]?.userId && p.state === list[i]?.state)
    )
      return prev;
    this.snapshots.set(ticketId, list);
    return list;
  }
  /** Drops expired hints and tells subscribers (called on a timer by the ticket page). */
  sweep() {
    for (const l of this.presenceListeners) l();
  }
}

export const live = new LiveStream();

export const useLiveState = () =>
  useSyncExternalStore(
    live.subscribe,
    () => live.state,
    () => live.state,
  );

export const usePresence = (ticketId: string) =>
  useSyncExternalStore(
    live.subscribePresence,
    () => live.presenceOf(ticketId),
    () => [],
  );
