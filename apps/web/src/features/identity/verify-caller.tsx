import { Alert, Badge, Button, Group, Loader, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ChallengeDto, ContactIdentityDto, IdentityMethod, VerificationDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, isApiError } from "../../api/client.ts";
import { live } from "../../api/live.ts";
import { ContactDetails } from "./contact-details.tsx";
import { DirectoryActions } from "./directory-actions.tsx";

export const METHOD_LABEL: Record<IdentityMethod, string> = {
  sms: "SMS code",
  email: "Email code",
  totp: "Authenticator code",
  manager: "Manager's approval",
  reverse: "Reverse check",
};

const SEND_LABEL: Record<Exclude<IdentityMethod, "reverse">, string> = {
  sms: "Text a code",
  email: "Email a code",
  totp: "Ask for the authenticator code",
  manager: "Ask a manager to approve",
};

const STATUS_COLOR: Record<string, string> = {
  sent: "blue",
  passed: "green",
  verified: "green",
  pending: "blue",
  failed: "red",
  denied: "red",
  send_failed: "red",
  expired: "gray",
  cancelled: "gray",
};

export const identityKeys = {
  contact: (id: string) => ["identity", "contact", id] as const,
  verification: (id: string) => ["identity", "verification", id] as const,
};

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

interface TicketLike {
  id: string;
  number: number;
  contact: { id: string; name: string; vip: boolean } | null;
}

/** On a ticket with a contact: verify the caller, then reset their directory account. */
export function VerifyCallerButton({ ticket }: { ticket: TicketLike }) {
  if (!ticket.contact) return null;
  return <VerifyContactButton contactId={ticket.contact.id} ticketId={ticket.id} />;
}

/** Phone intake (no ticket yet) or a ticket: the same dialog. */
export function VerifyContactButton({
  contactId,
  ticketId,
  variant = "default",
}: {
  contactId: string;
  ticketId?: string;
  variant?: "default" | "light";
}) {
  const [opened, { open, close }] = useDisclosure(false);
  return (
    <>
      <Button variant={variant} onClick={open}>
        Verify caller
      </Button>
      {opened && <VerifyCallerModal ticketId={ticketId} contactId={contactId} onClose={close} />}
    </>
  );
}

export function VerifyCallerModal({
  ticketId,
  contactId,
  onClose,
}: {
  ticketId?: string;
  contactId: string;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [verificationId, setVerificationId] = useState<string | null>(null);
  const contact = useQuery({
    queryKey: identityKeys.contact(contactId),
    queryFn: () => api<ContactIdentityDto>("GET", `/contacts/${contactId}/identity`),
  });
  const verification = useQuery({
    queryKey: identityKeys.verification(verificationId ?? ""),
    queryFn: () => api<VerificationDto>("GET", `/identity/verifications/${verificationId}`),
    enabled: !!verificationId,
    // A manager answers from their mailbox: the event stream brings it, this is the fallback.
    refetchInterval: (q) => (q.state.data?.status === "pending" ? 5000 : false),
  });
  useEffect(() => {
    const off = live.onTicketEvent((e) => {
      if (e.type === "identity.verification_updated" && e.payload.verificationId === verificationId)
        void qc.invalidateQueries({ queryKey: identityKeys.verification(verificationId ?? "") });
    });
    return () => {
      off();
    };
  }, [qc, verificationId]);
  const start = useMutation({
    mutationFn: () =>
      api<VerificationDto>("POST", "/identity/verifications", { body: { contactId, ticketId } }),
    onSuccess: (v) => {
      qc.setQueryData(identityKeys.verification(v.id), v);
      setVerificationId(v.id);
    },
  });
  const c = contact.data;
  const v = verification.data;
  return (
    <Modal opened onClose={onClose} title="Verify the caller" size="lg">
      {contact.isLoading && <Loader size="sm" />}
      {contact.error && <Alert color="red">{(contact.error as Error).message}</Alert>}
      {c && (
        <Stack gap="md">
          <Group gap="xs">
            <Text fw={600}>{c.name}</Text>
            {c.vip && <Badge color="yellow">VIP</Badge>}
            {c.adminAccount && <Badge color="orange">Admin account</Badge>}
          </Group>
          <ContactDetails contact={c} />
          {!v && (
            <Group>
              <Button onClick={() => start.mutate()} loading={start.isPending}>
                Start verification
              </Button>
              {start.error && <Text c="red">{(start.error as Error).message}</Text>}
            </Group>
          )}
          {v && <VerificationPanel v={v} onRestart={() => start.mutate()} restarting={start.isPending} />}
          {v?.status === "verified" && <DirectoryActions contact={c} verification={v} ticketId={ticketId} />}
        </Stack>
      )}
    </Modal>
  );
}

function VerificationPanel({
  v,
  onRestart,
  restarting,
}: {
  v: VerificationDto;
  onRestart: () => void;
  restarting: boolean;
}) {
  const qc = useQueryClient();
  const [readOut, setReadOut] = useState<{ challengeId: string; code: string } | null>(null);
  const send = useMutation({
    mutationFn: (method: IdentityMethod) =>
      api<{ verification: VerificationDto; readOut: string | null }>(
        "POST",
        `/identity/verifications/${v.id}/challenges`,
        { body: { method } },
      ),
    onSuccess: (r) => {
      qc.setQueryData(identityKeys.verification(v.id), r.verification);
      const last = r.verification.challenges.at(-1);
      if (r.readOut && last) setReadOut({ challengeId: last.id, code: r.readOut });
    },
  });
  const needed =
    v.factorsRequired > 1
      ? `${v.factorsRequired} factors${v.managerSatisfies ? ", or a manager's approval" : ""}`
      : "1 factor";
  const factorMethods = v.availableMethods.filter(
    (m): m is Exclude<IdentityMethod, "reverse"> => m !== "reverse",
  );
  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Badge color={STATUS_COLOR[v.status]} aria-label={`Verification ${v.status}`}>
          {v.status}
        </Badge>
        <Text size="sm">
          Needs {needed}
          {v.factorsPassed.length > 0 &&
            ` · passed: ${v.factorsPassed.map((m) => METHOD_LABEL[m]).join(", ")}`}
        </Text>
      </Group>
      {v.status === "verified" && v.validUntil && (
        <Alert color="green" title="Caller verified">
          Verified by {v.factorsPassed.map((m) => METHOD_LABEL[m]).join(" + ")}; good until{" "}
          {time(v.validUntil)}.
        </Alert>
      )}
      {(v.status === "failed" || v.status === "expired" || v.status === "cancelled") && (
        <Alert color="red" title={`Verification ${v.status}`}>
          <Stack gap="xs">
            <Text size="sm">{v.reason ?? "Not completed in time."}</Text>
            <Group>
              <Button size="xs" variant="light" onClick={onRestart} loading={restarting}>
                Start again
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {v.status === "pending" && (
        <Group gap="xs">
          {factorMethods.length === 0 && (
            <Text c="red" size="sm">
              No verification method is available for this contact: add a mobile number or email above.
            </Text>
          )}
          {factorMethods.map((m) => (
            <Button
              key={m}
              size="xs"
              variant="light"
              loading={send.isPending && send.variables === m}
              onClick={() => send.mutate(m)}
            >
              {SEND_LABEL[m]}
            </Button>
          ))}
          {v.availableMethods.includes("reverse") && (
            <Button size="xs" variant="subtle" onClick={() => send.mutate("reverse")}>
              Reverse check (caller verifies you)
            </Button>
          )}
        </Group>
      )}
      {send.error && (
        <Text c="red" size="sm">
          {(send.error as Error).message}
        </Text>
      )}
      {v.challenges.map((ch) => (
        <ChallengeRow
          key={ch.id}
          v={v}
          ch={ch}
          readOut={readOut?.challengeId === ch.id ? readOut.code : null}
        />
      ))}
    </Stack>
  );
}

function ChallengeRow({ v, ch, readOut }: { v: VerificationDto; ch: ChallengeDto; readOut: string | null }) {
  const qc = useQueryClient();
  const [code, setCode] = useState("");
  const check = useMutation({
    mutationFn: () =>
      api<VerificationDto>("POST", `/identity/verifications/${v.id}/check`, {
        body: { challengeId: ch.id, code },
      }),
    onSuccess: (next) => {
      setCode("");
      qc.setQueryData(identityKeys.verification(v.id), next);
    },
    onError: () => void qc.invalidateQueries({ queryKey: identityKeys.verification(v.id) }),
  });
  const confirm = useMutation({
    mutationFn: (confirmed: boolean) =>
      api<VerificationDto>("POST", `/identity/verifications/${v.id}/reverse`, {
        body: { challengeId: ch.id, confirmed },
      }),
    onSuccess: (next) => qc.setQueryData(identityKeys.verification(v.id), next),
  });
  const open = ch.status === "sent" && v.status === "pending";
  const takesCode = ch.method === "sms" || ch.method === "email" || ch.method === "totp";
  const rejection = check.error && isApiError(check.error) ? check.error : null;
  return (
    <Stack
      gap={4}
      p="xs"
      style={{ border: "1px solid var(--mantine-color-default-border)", borderRadius: 4 }}
    >
      <Group gap="xs" justify="space-between">
        <Text size="sm" fw={500}>
          {METHOD_LABEL[ch.method]} · {ch.destination}
        </Text>
        <Badge size="sm" color={STATUS_COLOR[ch.status]}>
          {ch.status.replace("_", " ")}
        </Badge>
      </Group>
      {ch.lastError && (
        <Text size="sm" c="red">
          {ch.lastError}
        </Text>
      )}
      {open && takesCode && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            // The dialog is rendered in a portal, but React bubbles its submit to forms around the button
            // that opened it (phone intake's): keep it here.
            e.stopPropagation();
            check.mutate();
          }}
        >
          <Group gap="xs" align="flex-end">
            <TextInput
              label="Code the caller reads back"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={7}
              w={180}
              error={rejection?.message}
            />
            <Button type="submit" loading={check.isPending} disabled={!/^\d{3}\s?\d{3}$/.test(code.trim())}>
              Check
            </Button>
          </Group>
          <Text size="xs" c="dimmed" mt={4}>
            {ch.attemptsLeft} tries left · expires {time(ch.expiresAt)}
          </Text>
        </form>
      )}
      {open && ch.method === "manager" && (
        <Text size="sm" c="dimmed">
          Waiting for the approver (link valid until {time(ch.expiresAt)}).
        </Text>
      )}
      {open && ch.method === "reverse" && (
        <Stack gap={4}>
          {readOut ? (
            <Text size="sm">
              Read this code to the caller:{" "}
              <b data-testid="reverse-code">{readOut.replace(/(\d{3})(\d{3})/, "$1 $2")}</b>
            </Text>
          ) : (
            <Text size="sm" c="dimmed">
              The code was shown when it was sent.
            </Text>
          )}
          <Group gap="xs">
            <Button size="xs" variant="light" onClick={() => confirm.mutate(true)}>
              Caller confirmed
            </Button>
            <Button size="xs" color="red" variant="light" onClick={() => confirm.mutate(false)}>
              Caller heard another code
            </Button>
          </Group>
        </Stack>
      )}
    </Stack>
  );
}
