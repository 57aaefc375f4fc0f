import {
  Alert,
  Button,
  Center,
  Paper,
  Radio,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams, useSearch } from "wouter";
import { api, get } from "../api/client.ts";
import { hm, money, type PublicBooking, type PublicQuote } from "../api/work-types.ts";
import { span } from "../features/scheduling/ticket-appointments.tsx";

/** Pages a client opens from an email, without signing in: the link's token is the only credential. */
function Frame({ title, mspName, children }: { title: string; mspName?: string; children: React.ReactNode }) {
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="lg" maw={560} w="100%" component="main">
        {mspName && (
          <Text c="dimmed" fz="sm">
            {mspName}
          </Text>
        )}
        <Title order={1} fz="xl" mb="md">
          {title}
        </Title>
        {children}
      </Paper>
    </Center>
  );
}

const problem = (e: unknown) => (e as Error).message;

/** The booking link: pick one of the offered times, once. */
export function BookingPage() {
  const { token } = useParams<{ token: string }>();
  const search = useSearch();
  const preselected = new URLSearchParams(search).get("slot");
  const qc = useQueryClient();
  const key = ["public-booking", token];
  const q = useQuery({
    queryKey: key,
    queryFn: () => get<PublicBooking>(`/public/bookings/${encodeURIComponent(token)}`),
    retry: false,
  });
  const [slot, setSlot] = useState<string | null>(preselected);
  const book = useMutation({
    mutationFn: () =>
      api<PublicBooking>("POST", `/public/bookings/${encodeURIComponent(token)}`, { body: { slotId: slot } }),
    onSuccess: (b) => qc.setQueryData(key, b),
  });
  if (q.isError) {
    return (
      <Frame title="This link does not work">
        <Text>It may have been mistyped or withdrawn. Ask us for new times.</Text>
      </Frame>
    );
  }
  const b = q.data;
  if (!b) return null;
  return (
    <Frame title={`Choose a time with ${b.technicianName}`} mspName={b.mspName}>
      <Text mb="sm">
        About ticket #{b.ticketNumber}: {b.ticketSubject}.{" "}
        {b.kind === "remote" ? "We connect remotely" : "We come to you"}, for about {hm(b.durationMinutes)}.
      </Text>
      {b.status === "booked" && b.booked && (
        <Alert color="green" title="Booked" role="status">
          {span(b.booked.startsAt, b.booked.endsAt, b.timeZone)}. An invitation is on its way to your email.
        </Alert>
      )}
      {b.status === "expired" && <Alert color="orange">This link has expired. Ask us for new times.</Alert>}
      {b.status === "cancelled" && <Alert color="gray">These times were withdrawn.</Alert>}
      {b.status === "open" && (
        <Stack gap="sm">
          <Radio.Group label={`Times in ${b.timeZone}`} value={slot} onChange={setSlot}>
            <Stack gap={6} mt={6}>
              {b.slots.map((s) => (
                <Radio key={s.id} value={s.id} label={span(s.startsAt, s.endsAt, b.timeZone)} />
              ))}
            </Stack>
          </Radio.Group>
          {book.isError && (
            <Alert color="red" role="alert">
              {problem(book.error)}
            </Alert>
          )}
          <Button onClick={() => book.mutate()} disabled={!slot} loading={book.isPending}>
            Book this time
          </Button>
        </Stack>
      )}
    </Frame>
  );
}

/** The quote link: the work, the price, approve or decline once. */
export function QuotePage() {
  const { token } = useParams<{ token: string }>();
  const qc = useQueryClient();
  const key = ["public-quote", token];
  const q = useQuery({
    queryKey: key,
    queryFn: () => get<PublicQuote>(`/public/quotes/${encodeURIComponent(token)}`),
    retry: false,
  });
  const [name, setName] = useState("");
  const [note, setNote] = useState("");
  const decide = useMutation({
    mutationFn: (decision: "approve" | "decline") =>
      api<PublicQuote>("POST", `/public/quotes/${encodeURIComponent(token)}`, {
        body: { decision, name, note },
      }),
    onSuccess: (r) => qc.setQueryData(key, r),
  });
  if (q.isError) {
    return (
      <Frame title="This link does not work">
        <Text>It may have been mistyped or replaced by a newer quote.</Text>
      </Frame>
    );
  }
  const p = q.data;
  if (!p) return null;
  return (
    <Frame title={`Quote: ${p.projectName}`} mspName={p.mspName}>
      <Text mb="sm">For {p.clientName}.</Text>
      {p.description && <Text mb="sm">{p.description}</Text>}
      <Table mb="sm">
        <Table.Tbody>
          {p.phases.flatMap((f) =>
            f.tasks.map((t) => (
              <Table.Tr key={`${f.name}-${t.title}`}>
                <Table.Td>{f.name}</Table.Td>
                <Table.Td>{t.title}</Table.Td>
                <Table.Td ta="right">{hm(t.estimateMinutes)}</Table.Td>
              </Table.Tr>
            )),
          )}
        </Table.Tbody>
      </Table>
      <Text fw={700} mb="md">
        Total: {money(p.quoteMinor, p.currency)}
      </Text>
      {p.status === "approved" && (
        <Alert color="green">Approved. Thank you; we will be in touch to plan the work.</Alert>
      )}
      {p.status === "declined" && <Alert color="gray">Declined.</Alert>}
      {p.status === "expired" && <Alert color="orange">This quote has expired. Ask us for a new one.</Alert>}
      {p.status === "sent" && (
        <Stack gap="sm">
          <TextInput
            label="Your name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
          />
          <Textarea label="Note (optional)" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
          {decide.isError && (
            <Alert color="red" role="alert">
              {problem(decide.error)}
            </Alert>
          )}
          <Button
            color="green"
            onClick={() => decide.mutate("approve")}
            disabled={!name}
            loading={decide.isPending}
          >
            Approve the quote
          </Button>
          <Button
            variant="default"
            onClick={() => decide.mutate("decline")}
            disabled={!name}
            loading={decide.isPending}
          >
            Decline
          </Button>
        </Stack>
      )}
    </Frame>
  );
}
