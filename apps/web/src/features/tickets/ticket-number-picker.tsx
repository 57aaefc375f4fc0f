import { Alert, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import type { TicketDto, TicketWithTimeline } from "../../api/types.ts";

/**
 * Picking another ticket by its number (merge into, link under): the typed digits are looked up as
 * the technician types; `picked` is the ticket found, unless it is `self`.
 */
export function useTicketByNumber(self: TicketDto, enabled: boolean) {
  const [number, setNumber] = useState("");
  const n = number.replace(/\D/g, "");
  const target = useQuery({
    queryKey: ["ticket-by-number", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: enabled && n.length > 0,
    retry: false,
  });
  const found = target.data?.ticket;
  const same = found?.id === self.id;
  return {
    number,
    setNumber,
    notFound: target.isError && n.length > 0,
    found,
    same,
    picked: found && !same ? found : undefined,
  };
}

/** The number field with a preview of the ticket found, or why it cannot be used. */
export function TicketNumberPicker({
  label,
  sameMessage,
  pick,
}: {
  label: string;
  sameMessage: string;
  pick: ReturnType<typeof useTicketByNumber>;
}) {
  return (
    <>
      <TextInput
        label={label}
        placeholder="e.g. 1042"
        value={pick.number}
        onChange={(e) => pick.setNumber(e.currentTarget.value)}
        data-autofocus
        error={pick.notFound ? "No ticket with that number" : undefined}
      />
      {pick.picked && (
        <Alert color="indigo" variant="light">
          <Text fz="sm">
            #{pick.picked.number} {pick.picked.subject}
          </Text>
          <Text fz="xs" c="dimmed">
            {pick.picked.client.name} · {pick.picked.status.name}
          </Text>
        </Alert>
      )}
      {pick.same && (
        <Text c="red" fz="sm">
          {sameMessage}
        </Text>
      )}
    </>
  );
}
