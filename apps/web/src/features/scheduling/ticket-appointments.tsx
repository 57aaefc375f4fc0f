import { Badge, Button, Checkbox, Group, Modal, Select, Stack, Text, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useContacts, useMe } from "../../api/hooks.ts";
import type { TicketDto } from "../../api/types.ts";
import type { Appointment, Dispatch, FreeSlots } from "../../api/work-types.ts";
import { Section } from "../../components/section.tsx";

const DURATIONS = ["30", "60", "90", "120", "180"].map((v) => ({ value: v, label: `${v} minutes` }));
const OSES = [
  { value: "", label: "No agent install" },
  { value: "windows", label: "Install the agent: Windows" },
  { value: "macos", label: "Install the agent: macOS" },
  { value: "linux", label: "Install the agent: Linux" },
];

/** "Tue 10 Mar, 9:00 AM–10:00 AM CDT" in a zone. */
export function span(startIso: string, endIso: string, timeZone?: string) {
  const day = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
  }).format(new Date(startIso));
  const t = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", minute: "2-digit" });
  const zone = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" })
    .formatToParts(new Date(startIso))
    .find((p) => p.type === "timeZoneName")?.value;
  return `${day}, ${t.format(new Date(startIso))}–${t.format(new Date(endIso))} ${zone ?? ""}`.trim();
}

export const appointmentsKey = (ticketId: string) => ["appointments", "ticket", ticketId] as const;

/** Appointments of a ticket: propose times to the contact, or book one directly; cancel. */
export function TicketAppointments({ ticket, readOnly }: { ticket: TicketDto; readOnly: boolean }) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: appointmentsKey(ticket.id),
    queryFn: () => get<Appointment[]>(`/tickets/${ticket.id}/appointments`),
  });
  const [proposeOpen, propose] = useDisclosure(false);
  const [bookOpen, book] = useDisclosure(false);
  const cancel = useMutation({
    mutationFn: (id: string) => api("POST", `/appointments/${id}/cancel`, { body: { reason: "" } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: appointmentsKey(ticket.id) });
      qc.invalidateQueries({ queryKey: ["ticket"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "Not cancelled", message: e.message }),
  });
  const upcoming = (list.data ?? []).filter((a) => a.status !== "cancelled");
  return (
    <Section
      id="ticket-appointments-title"
      title="Appointments"
      count={upcoming.length}
      actions={
        !readOnly && (
          <Group gap={4}>
            <Button size="compact-xs" variant="light" onClick={propose.open}>
              Propose times
            </Button>
            <Button size="compact-xs" variant="default" onClick={book.open}>
              Book
            </Button>
          </Group>
        )
      }
    >
      <Stack gap={4} p="xs">
        {(list.data ?? []).map((a) => (
          <Group key={a.id} justify="space-between" wrap="nowrap" gap={6} data-testid="appointment">
            <div style={{ minWidth: 0 }}>
              <Text fz="xs">{span(a.startsAt, a.endsAt)}</Text>
              <Text fz="xs" c="dimmed">
                {a.technicianName} · {a.kind === "remote" ? "remote" : "on site"}
                {a.deviceId ? " · agent installed" : a.installOs ? ` · agent install (${a.installOs})` : ""}
              </Text>
            </div>
            <Group gap={4} wrap="nowrap">
              <Badge size="xs" variant="light" color={a.status === "confirmed" ? "blue" : "gray"}>
                {a.status}
              </Badge>
              {!readOnly && a.status === "confirmed" && (
                <Button
                  size="compact-xs"
                  variant="subtle"
                  color="red"
                  onClick={() => cancel.mutate(a.id)}
                  aria-label={`Cancel the appointment of ${span(a.startsAt, a.endsAt)}`}
                >
                  Cancel
                </Button>
              )}
            </Group>
          </Group>
        ))}
        {!list.data?.length && (
          <Text fz="xs" c="dimmed">
            None booked.
          </Text>
        )}
      </Stack>
      <ProposeModal ticket={ticket} opened={proposeOpen} onClose={propose.close} />
      <BookModal ticket={ticket} opened={bookOpen} onClose={book.close} />
    </Section>
  );
}

/** Staff who can take appointments, with their time zones (the dispatch list carries them). */
export function useTechnicians() {
  return useQuery({
    queryKey: ["dispatch", "technicians"],
    queryFn: async () => {
      const from = new Date();
      const d = await get<Dispatch>("/dispatch", {
        from: from.toISOString(),
        to: new Date(from.getTime() + 60_000).toISOString(),
      });
      return d.technicians;
    },
    staleTime: 5 * 60_000,
  });
}

function useTechnicianChoice() {
  const me = useMe();
  const techs = useTechnicians();
  const [techId, setTechId] = useState<string | null>(null);
  const technicianId = techId ?? me.data?.id ?? null;
  const options = (techs.data ?? []).map((u) => ({ value: u.id, label: u.name }));
  const zone = techs.data?.find((u) => u.id === technicianId)?.timezone ?? me.data?.timezone ?? "UTC";
  return { technicianId, setTechId, options, zone };
}

function ProposeModal({
  ticket,
  opened,
  onClose,
}: {
  ticket: TicketDto;
  opened: boolean;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const tech = useTechnicianChoice();
  const contacts = useContacts("", { clientId: ticket.client.id });
  const [contactId, setContactId] = useState<string | null>(ticket.contact?.id ?? null);
  const [duration, setDuration] = useState("60");
  const [os, setOs] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const today = new Date().toISOString().slice(0, 10);
  const free = useQuery({
    queryKey: ["free-slots", tech.technicianId, duration, today],
    queryFn: () =>
      get<FreeSlots>(`/users/${tech.technicianId}/free-slots`, {
        from: today,
        days: 7,
        durationMinutes: duration,
      }),
    enabled: opened && !!tech.technicianId,
  });
  const send = useMutation({
    mutationFn: () =>
      api("POST", `/tickets/${ticket.id}/proposals`, {
        body: {
          contactId,
          technicianId: tech.technicianId,
          durationMinutes: Number(duration),
          slots: picked.map((at) => ({ at })),
          ...(os ? { installOs: os } : {}),
        },
      }),
    onSuccess: () => {
      notifications.show({ title: "Times sent", message: "The contact chooses one from their email." });
      qc.invalidateQueries({ queryKey: ["ticket"] });
      setPicked([]);
      onClose();
    },
  });
  const errors = fieldErrors(send.error);
  const toggle = (at: string) =>
    setPicked((p) => (p.includes(at) ? p.filter((x) => x !== at) : p.length < 3 ? [...p, at] : p));
  return (
    <Modal opened={opened} onClose={onClose} title="Propose times to the contact" size="lg">
      <Stack gap="sm">
        <Group grow>
          <Select
            label="Contact"
            data={(contacts.data ?? []).map((c) => ({
              value: c.id,
              label: `${c.firstName} ${c.lastName}`.trim(),
            }))}
            value={contactId}
            onChange={setContactId}
            error={errors.contactId}
            required
          />
          <Select
            label="Technician"
            data={tech.options}
            value={tech.technicianId}
            onChange={tech.setTechId}
            allowDeselect={false}
          />
        </Group>
        <Group grow>
          <Select
            label="Length"
            data={DURATIONS}
            value={duration}
            onChange={(v) => setDuration(v ?? "60")}
            allowDeselect={false}
          />
          <Select
            label="Agent install"
            data={OSES}
            value={os}
            onChange={(v) => setOs(v ?? "")}
            allowDeselect={false}
          />
        </Group>
        <Text fz="sm" fw={500}>
          Pick two or three free times ({free.data?.timeZone ?? tech.zone})
        </Text>
        <Stack gap={2} mah={260} style={{ overflowY: "auto" }} data-testid="free-slots">
          {(free.data?.slots ?? []).map((s) => (
            <Checkbox
              key={s.startsAt}
              label={span(s.startsAt, s.endsAt, free.data?.timeZone)}
              checked={picked.includes(s.startsAt)}
              onChange={() => toggle(s.startsAt)}
              disabled={!picked.includes(s.startsAt) && picked.length >= 3}
            />
          ))}
          {free.isSuccess && !free.data.slots.length && (
            <Text fz="sm" c="dimmed">
              No free time in working hours this week.
            </Text>
          )}
        </Stack>
        {send.isError && (
          <Text c="red" fz="sm" role="alert">
            {send.error.message}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            onClick={() => send.mutate()}
            disabled={!picked.length || !contactId}
            loading={send.isPending}
          >
            Send {picked.length || ""} time{picked.length === 1 ? "" : "s"}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function BookModal({ ticket, opened, onClose }: { ticket: TicketDto; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const tech = useTechnicianChoice();
  const [local, setLocal] = useState("");
  const [duration, setDuration] = useState("60");
  const [notify, setNotify] = useState(true);
  const [os, setOs] = useState("");
  const save = useMutation({
    mutationFn: () =>
      api<Appointment>("POST", "/appointments", {
        body: {
          ticketId: ticket.id,
          technicianId: tech.technicianId,
          // The time as typed, in the technician's zone: the server refuses one the clocks skip.
          start: { local, timeZone: tech.zone },
          durationMinutes: Number(duration),
          notifyContact: notify,
          ...(os ? { installOs: os } : {}),
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: appointmentsKey(ticket.id) });
      qc.invalidateQueries({ queryKey: ["ticket"] });
      qc.invalidateQueries({ queryKey: ["dispatch"] });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened={opened} onClose={onClose} title="Book an appointment">
      <Stack
        component="form"
        gap="sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Select
          label="Technician"
          data={tech.options}
          value={tech.technicianId}
          onChange={tech.setTechId}
          allowDeselect={false}
        />
        <TextInput
          type="datetime-local"
          label={`Starts (${tech.zone})`}
          value={local}
          onChange={(e) => setLocal(e.currentTarget.value)}
          error={errors["start.local"] ?? errors.start}
          required
        />
        <Select
          label="Length"
          data={DURATIONS}
          value={duration}
          onChange={(v) => setDuration(v ?? "60")}
          allowDeselect={false}
        />
        <Select
          label="Agent install"
          data={OSES}
          value={os}
          onChange={(v) => setOs(v ?? "")}
          allowDeselect={false}
        />
        <Checkbox
          label="Send the contact an invite"
          checked={notify}
          onChange={(e) => setNotify(e.currentTarget.checked)}
        />
        {save.isError && !Object.keys(errors).length && (
          <Text c="red" fz="sm" role="alert">
            {save.error.message}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Book
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
