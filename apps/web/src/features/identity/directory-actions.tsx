import {
  Alert,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  PasswordInput,
  Radio,
  Stack,
  Text,
} from "@mantine/core";
import type { ContactIdentityDto, IdentityActionDto, VerificationDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { useSaveContactIdentity } from "./contact-details.tsx";

type Action = "reset_password" | "unlock" | "force_change";
const ACTION_LABEL: Record<Action, string> = {
  reset_password: "Password reset",
  unlock: "Unlock",
  force_change: "Force change at next logon",
};

/** After a fresh verification: link the directory account, then reset, unlock or force a change. */
export function DirectoryActions({
  contact,
  verification,
  ticketId,
}: {
  contact: ContactIdentityDto;
  verification: VerificationDto;
  ticketId?: string;
}) {
  if (!contact.directoryAccount) return <LinkAccount contact={contact} />;
  return <Actions contact={contact} verification={verification} ticketId={ticketId} />;
}

function LinkAccount({ contact }: { contact: ContactIdentityDto }) {
  const save = useSaveContactIdentity(contact.contactId);
  const lookup = useMutation({
    mutationFn: () => api<IdentityActionDto>("POST", `/contacts/${contact.contactId}/directory-lookup`),
  });
  const link = (account: string) =>
    save.mutate({
      smsNumber: contact.smsNumber,
      email: contact.email,
      approver: contact.approver,
      adminAccount: contact.adminAccount,
      directoryAccount: account,
      version: contact.version,
    });
  const found = lookup.data;
  return (
    <Stack gap="xs">
      <Text size="sm">{contact.name} is not linked to a directory account yet.</Text>
      <Group>
        <Button
          size="xs"
          variant="light"
          onClick={() => lookup.mutate()}
          loading={lookup.isPending}
          disabled={!contact.email}
        >
          Find by email in the directory
        </Button>
      </Group>
      {lookup.error && <Alert color="red">{(lookup.error as Error).message}</Alert>}
      {found?.status === "failed" && (
        <Alert color="red" title="The lookup failed">
          <Group justify="space-between">
            <Text size="sm">{found.error}</Text>
            <Button size="xs" variant="light" onClick={() => lookup.mutate()}>
              Retry
            </Button>
          </Group>
        </Alert>
      )}
      {found?.status === "running" && <Text size="sm">Still waiting for the domain controller…</Text>}
      {found?.status === "succeeded" && (found.accounts ?? []).length === 0 && (
        <Text size="sm">No account in the directory has {contact.email}. Enter it under Edit details.</Text>
      )}
      {(found?.accounts ?? []).map((a) => {
        const name = a.samAccountName ?? a.userPrincipalName ?? a.dn;
        return (
          <Group key={a.dn} justify="space-between">
            <Text size="sm">
              {name}{" "}
              <Text span c="dimmed">
                ({a.userPrincipalName ?? a.dn})
              </Text>
            </Text>
            <Button size="xs" onClick={() => link(name)} loading={save.isPending}>
              Link
            </Button>
          </Group>
        );
      })}
      {save.error && (
        <Text c="red" size="sm">
          {(save.error as Error).message}
        </Text>
      )}
    </Stack>
  );
}

function Actions({
  contact,
  verification,
  ticketId,
}: {
  contact: ContactIdentityDto;
  verification: VerificationDto;
  ticketId?: string;
}) {
  const qc = useQueryClient();
  const [source, setSource] = useState<"generated" | "typed">("generated");
  const [typed, setTyped] = useState("");
  const [mustChange, setMustChange] = useState(true);
  const [unlock, setUnlock] = useState(true);
  const run = useMutation({
    mutationFn: (action: Action) =>
      api<{ action: IdentityActionDto; password: string | null }>("POST", "/identity/directory-actions", {
        body: {
          contactId: contact.contactId,
          verificationId: verification.id,
          ticketId,
          action,
          ...(action === "reset_password"
            ? { mustChange, unlock, ...(source === "typed" ? { password: typed } : {}) }
            : {}),
        },
      }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ["tickets"] }),
  });
  // A domain controller slower than the server waits: follow the action until the directory answers.
  const followed = useQuery({
    queryKey: ["identity", "action", run.data?.action.id],
    queryFn: () => api<IdentityActionDto>("GET", `/identity/directory-actions/${run.data?.action.id}`),
    enabled: run.data?.action.status === "running",
    refetchInterval: (q) =>
      q.state.data?.status === "succeeded" || q.state.data?.status === "failed" ? false : 2000,
  });
  const result = run.data
    ? {
        ...run.data,
        action: followed.data && followed.data.id === run.data.action.id ? followed.data : run.data.action,
      }
    : undefined;
  return (
    <Stack gap="sm">
      <Text fw={600}>Directory account {contact.directoryAccount}</Text>
      <Radio.Group
        label="New password"
        value={source}
        onChange={(v) => setSource(v as "generated" | "typed")}
      >
        <Group mt={4}>
          <Radio value="generated" label="Generate a passphrase" />
          <Radio value="typed" label="Type one" />
        </Group>
      </Radio.Group>
      {source === "typed" && (
        <PasswordInput
          label="Password"
          value={typed}
          onChange={(e) => setTyped(e.currentTarget.value)}
          autoComplete="new-password"
        />
      )}
      <Group>
        <Checkbox
          label="Must change at next logon"
          checked={mustChange}
          onChange={(e) => setMustChange(e.currentTarget.checked)}
        />
        <Checkbox label="Unlock too" checked={unlock} onChange={(e) => setUnlock(e.currentTarget.checked)} />
      </Group>
      <Group gap="xs">
        <Button
          onClick={() => run.mutate("reset_password")}
          loading={run.isPending && run.variables === "reset_password"}
          disabled={source === "typed" && typed.length < 8}
        >
          Reset password
        </Button>
        <Button
          variant="default"
          onClick={() => run.mutate("unlock")}
          loading={run.isPending && run.variables === "unlock"}
        >
          Unlock account
        </Button>
        <Button
          variant="default"
          onClick={() => run.mutate("force_change")}
          loading={run.isPending && run.variables === "force_change"}
        >
          Force change at next logon
        </Button>
      </Group>
      {run.error && (
        <Alert color="red" title="Refused">
          {(run.error as Error).message}
        </Alert>
      )}
      {result?.action.status === "running" && (
        <Alert color="blue">
          The domain controller has not answered yet; this updates when it does (the ticket records it too).
        </Alert>
      )}
      {result?.action.status === "failed" && (
        <Alert color="red" title={`${ACTION_LABEL[result.action.action as Action]} failed`}>
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm">{result.action.error}</Text>
            <Button size="xs" variant="light" onClick={() => run.variables && run.mutate(run.variables)}>
              Retry
            </Button>
          </Group>
        </Alert>
      )}
      {result?.action.status === "succeeded" && (
        <Alert color="green" title={`${ACTION_LABEL[result.action.action as Action]} done`}>
          {result.password ? (
            <Stack gap={4}>
              <Text size="sm">Read it to the caller now: it is shown once and not stored.</Text>
              <Group gap="xs">
                <Code fz="lg" data-testid="new-password">
                  {result.password}
                </Code>
                <CopyButton value={result.password}>
                  {({ copied, copy }) => (
                    <Button size="xs" variant="light" onClick={copy}>
                      {copied ? "Copied" : "Copy"}
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </Stack>
          ) : (
            <Text size="sm">{contact.directoryAccount} on the directory.</Text>
          )}
        </Alert>
      )}
    </Stack>
  );
}
