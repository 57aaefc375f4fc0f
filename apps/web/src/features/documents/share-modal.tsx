import {
  Alert,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Modal,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { DocumentDto } from "@switchboard/shared";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, get } from "../../api/client.ts";
import { useContacts } from "../../api/hooks.ts";
import type { TicketWithTimeline } from "../../api/types.ts";

/** Share a document with a contact by an expiring link, recorded on a ticket; the link is shown once. */
export function ShareButton({ doc }: { doc: DocumentDto }) {
  const [opened, { open, close }] = useDisclosure(false);
  const contacts = useContacts("", { clientId: doc.client.id });
  const [contactId, setContactId] = useState<string | null>(null);
  const [number, setNumber] = useState("");
  const [days, setDays] = useState<number>(7);
  const [email, setEmail] = useState(false);
  const n = number.replace(/\D/g, "");
  const ticket = useQuery({
    queryKey: ["ticket-by-number", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: opened && n.length > 0,
    retry: false,
  });
  const share = useMutation({
    mutationFn: () =>
      api<{ url: string; expiresAt: string }>("POST", "/document-shares", {
        body: {
          documentIds: [doc.id],
          contactId,
          ticketId: ticket.data?.ticket.id ?? null,
          expiresInDays: days,
          email,
        },
      }),
  });
  return (
    <>
      <Button variant="default" onClick={open}>
        Share
      </Button>
      <Modal
        opened={opened}
        onClose={() => {
          share.reset();
          close();
        }}
        title={`Share “${doc.title}”`}
      >
        {share.data ? (
          <Stack>
            <Text fz="sm">
              Anyone with this link can read the document until{" "}
              {new Date(share.data.expiresAt).toLocaleString()}. It is shown only now.
            </Text>
            <TextInput
              label="Share link"
              readOnly
              value={share.data.url}
              onFocus={(e) => e.currentTarget.select()}
            />
            <CopyButton value={share.data.url}>
              {({ copied, copy }) => <Button onClick={copy}>{copied ? "Copied" : "Copy link"}</Button>}
            </CopyButton>
          </Stack>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              share.mutate();
            }}
          >
            <Stack>
              <Select
                label="Contact"
                data={(contacts.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
                value={contactId}
                onChange={setContactId}
                searchable
                clearable
              />
              <TextInput
                label="Record on ticket #"
                value={number}
                onChange={(e) => setNumber(e.currentTarget.value)}
                error={ticket.isError ? "No such ticket" : undefined}
              />
              {ticket.data && (
                <Text fz="sm">
                  #{ticket.data.ticket.number} {ticket.data.ticket.subject}
                </Text>
              )}
              <NumberInput
                label="Expires after (days)"
                min={1}
                max={30}
                value={days}
                onChange={(v) => setDays(Number(v) || 7)}
              />
              <Checkbox
                label="Email the link to the contact"
                checked={email}
                disabled={!contactId}
                onChange={(e) => setEmail(e.currentTarget.checked)}
              />
              {share.isError && <Alert color="red">{share.error.message}</Alert>}
              <Button type="submit" loading={share.isPending}>
                Create link
              </Button>
            </Stack>
          </form>
        )}
      </Modal>
    </>
  );
}
