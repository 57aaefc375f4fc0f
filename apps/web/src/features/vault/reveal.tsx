import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  PasswordInput,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { VaultEntryDto } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, get, isApiError } from "../../api/client.ts";
import type { TicketWithTimeline } from "../../api/types.ts";

type Field = "password" | "notes" | "totp";
const NAMES: Record<Field, string> = { password: "password", notes: "notes", totp: "one-time code" };

/**
 * Reveal one secret of a vault entry: the technician names the ticket it is for (the reason, in the
 * audit log and on the ticket) and, when the server asks for it, confirms their password (step-up).
 */
export function RevealButton({
  entry,
  field,
  ticketNumber,
}: {
  entry: VaultEntryDto;
  field: Field;
  ticketNumber?: string;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const [number, setNumber] = useState(ticketNumber ?? "");
  const [password, setPassword] = useState("");
  const [needStepUp, setNeedStepUp] = useState(false);
  const [value, setValue] = useState<{ value: string; secondsLeft: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const n = number.replace(/\D/g, "");
  const ticket = useQuery({
    queryKey: ["ticket-by-number", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: opened && n.length > 0,
    retry: false,
  });
  const reset = () => {
    setValue(null);
    setError(null);
    setPassword("");
    close();
  };
  const reveal = async () => {
    if (!ticket.data) return;
    setBusy(true);
    setError(null);
    try {
      if (needStepUp) {
        await api("POST", "/vault/step-up", { body: { password } });
        setNeedStepUp(false);
      }
      const r = await api<{ value: string; secondsLeft: number | null }>(
        "POST",
        `/vault/entries/${entry.id}/reveal`,
        {
          body: { field, ticketId: ticket.data.ticket.id, purpose: "reveal" },
        },
      );
      setValue(r);
    } catch (e) {
      const d = isApiError(e) ? (e.details as { stepUpRequired?: boolean } | undefined) : undefined;
      if (d?.stepUpRequired) setNeedStepUp(true);
      else setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button
        size="compact-xs"
        variant="light"
        onClick={open}
        aria-label={`Reveal the ${NAMES[field]} of ${entry.title}`}
      >
        {field === "totp" ? "Code" : field === "notes" ? "Notes" : "Password"}
      </Button>
      <Modal opened={opened} onClose={reset} title={`${entry.title}: ${NAMES[field]}`}>
        {value ? (
          <Stack>
            <TextInput
              label={`Revealed ${NAMES[field]}`}
              readOnly
              value={value.value}
              styles={{ input: { fontFamily: "monospace", fontSize: 18 } }}
              onFocus={(e) => e.currentTarget.select()}
            />
            {value.secondsLeft !== null && <Text fz="sm">Changes in {value.secondsLeft} s</Text>}
            <Group>
              <CopyButton value={value.value}>
                {({ copied, copy }) => <Button onClick={copy}>{copied ? "Copied" : "Copy"}</Button>}
              </CopyButton>
              <Button variant="default" onClick={reset}>
                Hide
              </Button>
            </Group>
          </Stack>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              reveal();
            }}
          >
            <Stack>
              <TextInput
                label="For ticket #"
                description="The reason: recorded in the audit log and on the ticket"
                value={number}
                onChange={(e) => setNumber(e.currentTarget.value)}
                required
                data-autofocus
                error={ticket.isError ? "No such ticket" : undefined}
              />
              {ticket.data && (
                <Text fz="sm">
                  #{ticket.data.ticket.number} {ticket.data.ticket.subject} ({ticket.data.ticket.client.name})
                </Text>
              )}
              {needStepUp && (
                <PasswordInput
                  label="Confirm your password"
                  description="Revealing secrets needs your password again"
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  required
                />
              )}
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <Button type="submit" loading={busy} disabled={!ticket.data}>
                Reveal
              </Button>
            </Stack>
          </form>
        )}
      </Modal>
    </>
  );
}
