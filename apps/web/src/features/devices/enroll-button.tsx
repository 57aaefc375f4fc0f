import {
  Alert,
  Button,
  Code,
  CopyButton,
  Divider,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients, useSites } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { CreatedEnrollmentToken, CreateEnrollmentTokenRequest } from "../../api/types.ts";
import { ActiveEnrollmentTokens } from "./enrollment-tokens.tsx";

const EXPIRY_OPTIONS = [
  { value: "24", label: "1 day" },
  { value: "168", label: "7 days" },
  { value: "720", label: "30 days" },
];
const PLATFORMS = [
  { key: "linux", label: "Linux", where: "in a shell (uses sudo)" },
  { key: "macos", label: "macOS", where: "in Terminal (uses sudo)" },
  // The command is written for cmd.exe: PowerShell would expand its $variables before passing it on.
  { key: "windows", label: "Windows", where: "in a Command Prompt run as administrator" },
] as const;

/** Admins only: makes an enrollment token and shows its install commands, once. */
export function EnrollButton({ defaultClientId }: { defaultClientId: string }) {
  const [opened, modal] = useDisclosure(false);
  const [clientId, setClientId] = useState<string | null>(null);
  const [siteId, setSiteId] = useState<string | null>(null);
  const [expiry, setExpiry] = useState("168");
  const [maxUses, setMaxUses] = useState<number | string>(1);
  const [label, setLabel] = useState("");
  const clients = useClients();
  const sites = useSites(clientId);
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => {
      const body: CreateEnrollmentTokenRequest = {
        clientId: clientId ?? "",
        siteId: siteId ?? null,
        label: label.trim(),
        expiresInHours: Number(expiry),
        maxUses: typeof maxUses === "number" ? maxUses : Number(maxUses),
      };
      return api<CreatedEnrollmentToken>("POST", "/enrollment-tokens", { body });
    },
    onSuccess: (t) => qc.invalidateQueries({ queryKey: keys.enrollmentTokens(t.clientId) }),
  });
  const errs = fieldErrors(create.error);
  const created = create.data;

  const open = () => {
    setClientId(defaultClientId || null);
    setSiteId(null);
    setLabel("");
    modal.open();
  };
  // The token must not outlive the dialog: closing forgets it.
  const close = () => {
    create.reset();
    modal.close();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <>
      <Button size="xs" onClick={open}>
        Enroll a device
      </Button>
      <Modal
        opened={opened}
        onClose={close}
        title="Enroll a device"
        size="lg"
        closeButtonProps={{ "aria-label": "Close" }}
      >
        {created ? (
          <Stack gap="sm">
            <Alert color="yellow" role="status" p="xs">
              Copy a command now: the token is not shown again. It works{" "}
              {created.maxUses === 1 ? "once" : `${created.maxUses} times`} until{" "}
              {new Date(created.expiresAt).toLocaleString()}.
            </Alert>
            {PLATFORMS.map((p) => {
              const info = created.platforms.find((x) => x.key === p.key);
              const command = info?.command ?? "";
              return (
                <Stack key={p.key} gap={4} data-testid={`platform-${p.key}`}>
                  <Group justify="space-between">
                    <Text fz="sm">
                      <Text span fw={600} inherit>
                        {p.label}
                      </Text>{" "}
                      {command && (
                        <Text span c="dimmed" fz="xs">
                          {p.where}
                        </Text>
                      )}
                    </Text>
                    {command && (
                      <CopyButton value={command}>
                        {({ copied, copy }) => (
                          <Button
                            size="compact-xs"
                            variant="default"
                            onClick={copy}
                            aria-label={`Copy ${p.label} command`}
                          >
                            {copied ? "Copied" : "Copy"}
                          </Button>
                        )}
                      </CopyButton>
                    )}
                  </Group>
                  {command ? (
                    <Code
                      block
                      data-testid={`install-${p.key}`}
                      style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}
                    >
                      {command}
                    </Code>
                  ) : null}
                  {info?.note && (
                    <Text fz="xs" c={command ? "dimmed" : "red.8"} data-testid={`note-${p.key}`}>
                      {info.note}
                    </Text>
                  )}
                </Stack>
              );
            })}
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={() => create.reset()}>
                Make another
              </Button>
              <Button size="xs" onClick={close}>
                Done
              </Button>
            </Group>
          </Stack>
        ) : (
          <form onSubmit={submit} aria-label="New enrollment token">
            <Stack gap="sm">
              <Select
                label="Client"
                data-testid="enroll-client"
                required
                searchable
                data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
                value={clientId}
                onChange={(v) => {
                  setClientId(v);
                  setSiteId(null);
                }}
                error={errs.clientId}
              />
              <Select
                label="Site (optional)"
                clearable
                disabled={!clientId}
                data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
                value={siteId}
                onChange={setSiteId}
                error={errs.siteId}
              />
              <Group grow align="flex-start">
                <Select
                  label="Expires after"
                  data={EXPIRY_OPTIONS}
                  value={expiry}
                  onChange={(v) => v && setExpiry(v)}
                  allowDeselect={false}
                  error={errs.expiresInHours}
                />
                <NumberInput
                  label="Number of uses"
                  min={1}
                  max={100_000}
                  allowDecimal={false}
                  value={maxUses}
                  onChange={setMaxUses}
                  error={errs.maxUses}
                />
              </Group>
              <TextInput
                label="Label"
                placeholder="e.g. Front desk PCs"
                maxLength={200}
                value={label}
                onChange={(e) => setLabel(e.currentTarget.value)}
                error={errs.label}
              />
              {create.isError && !Object.keys(errs).length && (
                <Alert color="red" role="alert" p="xs">
                  {create.error.message}
                </Alert>
              )}
              <Group justify="flex-end" gap="xs">
                <Button size="xs" variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button size="xs" type="submit" loading={create.isPending} disabled={!clientId}>
                  Create token
                </Button>
              </Group>
            </Stack>
          </form>
        )}
        {clientId && (
          <>
            <Divider my="md" />
            <Title order={2} fz="sm" mb="xs">
              Active tokens
            </Title>
            <ActiveEnrollmentTokens clientId={clientId} />
          </>
        )}
      </Modal>
    </>
  );
}
