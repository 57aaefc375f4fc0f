import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, isApiError } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { TicketDto, TicketWithTimeline, UpdateTicketRequest } from "../../api/types.ts";

export type TicketChanges = Omit<UpdateTicketRequest, "version">;
export interface Conflict {
  mine: TicketChanges;
  base: TicketDto;
  current: TicketDto;
}

/**
 * PATCH with the version this page read. A 412 never overwrites: the page switches to the current
 * ticket and shows what the other person changed, and my change waits for me to re-apply or drop it.
 */
export function useTicketUpdate(ticket: TicketDto | undefined) {
  const qc = useQueryClient();
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const replaceTicket = (t: TicketDto) =>
    qc.setQueryData<TicketWithTimeline>(keys.ticket(t.number), (old) => (old ? { ...old, ticket: t } : old));

  const m = useMutation({
    mutationFn: ({ changes, version }: { changes: TicketChanges; version: number; base: TicketDto }) =>
      api<TicketDto>("PATCH", `/tickets/${ticket!.id}`, { body: { ...changes, version } }),
    onSuccess: (t) => {
      setConflict(null);
      replaceTicket(t);
      qc.invalidateQueries({ queryKey: keys.ticket(t.number) });
      qc.invalidateQueries({ queryKey: keys.tickets });
    },
    onError: (e, vars) => {
      if (isApiError(e) && e.code === "version_conflict") {
        const current = (e.details as { current?: TicketDto } | undefined)?.current;
        if (current) {
          setConflict({ mine: vars.changes, base: vars.base, current });
          replaceTicket(current);
          qc.invalidateQueries({ queryKey: keys.ticket(current.number) });
          return;
        }
      }
      notifications.show({ title: "Not saved", message: e.message, color: "red" });
    },
  });

  return {
    update: (changes: TicketChanges) =>
      ticket && m.mutate({ changes, version: ticket.version, base: ticket }),
    pending: m.isPending,
    conflict,
    reapply: () =>
      conflict &&
      m.mutate({ changes: conflict.mine, version: conflict.current.version, base: conflict.current }),
    dismiss: () => setConflict(null),
    error: m.error,
  };
}

const FIELDS: Array<[string, (t: TicketDto) => string]> = [
  ["Status", (t) => t.status.name],
  ["Priority", (t) => `P${t.priority}`],
  ["Assignee", (t) => t.assignee?.name ?? "Unassigned"],
  ["Team", (t) => t.team?.name ?? "No team"],
  ["Follow-up", (t) => (t.followUpAt ? new Date(t.followUpAt).toLocaleString() : "none")],
  ["Tags", (t) => t.tags.join(", ") || "none"],
  ["Subject", (t) => t.subject],
  ["Type", (t) => t.type],
];

/** What differs between the ticket I edited and the ticket as it is now. */
export function diffTickets(base: TicketDto, current: TicketDto) {
  return FIELDS.flatMap(([label, get]) => {
    const a = get(base);
    const b = get(current);
    return a === b ? [] : [{ label, from: a, to: b }];
  });
}
