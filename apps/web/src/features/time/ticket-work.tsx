import { Stack } from "@mantine/core";
import type { TicketDto } from "../../api/types.ts";
import { TicketAppointments } from "../scheduling/ticket-appointments.tsx";
import { TicketTime } from "./ticket-time.tsx";

/** The ticket's side panels for time and appointments. */
export function TicketWork({ ticket, readOnly }: { ticket: TicketDto; readOnly: boolean }) {
  return (
    <Stack gap="sm" mt="sm">
      <TicketTime ticket={ticket} readOnly={readOnly} />
      <TicketAppointments ticket={ticket} readOnly={readOnly} />
    </Stack>
  );
}
