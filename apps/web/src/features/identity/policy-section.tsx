import { Button, Checkbox, Group, Modal, NumberInput, Select, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { IdentityPolicyDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { useDevices } from "../../api/hooks.ts";
import { Section } from "../../components/section.tsx";
import { IdentityReportButton } from "./report-modal.tsx";
import { METHOD_LABEL } from "./verify-caller.tsx";

type Method = IdentityPolicyDto["methods"][number];
const METHODS: Method[] = ["sms", "email", "totp", "manager"];
const policyKey = (clientId: string) => ["identity", "policy", clientId] as const;

/** On the client's page: how its callers are verified, and which device runs its directory resets. */
export function IdentityPolicySection({ clientId, canEdit }: { clientId: string; canEdit: boolean }) {
  const policy = useQuery({
    queryKey: policyKey(clientId),
    queryFn: () => api<IdentityPolicyDto>("GET", `/clients/${clientId}/identity-policy`),
  });
  const devices = useDevices({ clientId, limit: 50 });
  const [opened, { open, close }] = useDisclosure(false);
  const p = policy.data;
  const dc = devices.data?.items.find((d) => d.id === p?.directoryDeviceId);
  return (
    <Section
      id="client-identity"
      title="Caller verification"
      actions={
        <Group gap={4}>
          <IdentityReportButton clientId={clientId} />
          {canEdit && p && (
            <Button size="compact-xs" variant="subtle" onClick={open}>
              Edit
            </Button>
          )}
        </Group>
      }
    >
      {p && (
        <Stack gap={2} px="sm" py={6}>
          <Text fz="sm">{p.methods.map((m) => METHOD_LABEL[m]).join(", ")}</Text>
          <Text fz="xs" c="dimmed">
            {p.factors} factor{p.factors > 1 ? "s" : ""}; VIP and admin accounts {p.privilegedFactors}
            {p.managerSatisfiesPrivileged ? " or a manager's approval" : ""}; good for {p.validityMinutes} min
          </Text>
          <Text fz="xs" c="dimmed">
            Directory:{" "}
            {dc
              ? `${dc.hostname} (${p.directoryKind === "samba" ? "Samba AD" : "Active Directory"})`
              : "not set"}
          </Text>
        </Stack>
      )}
      {opened && p && (
        <PolicyModal
          policy={p}
          devices={(devices.data?.items ?? []).map((d) => ({ value: d.id, label: d.hostname }))}
          onClose={close}
        />
      )}
    </Section>
  );
}

function PolicyModal({
  policy,
  devices,
  onClose,
}: {
  policy: IdentityPolicyDto;
  devices: Array<{ value: string; label: string }>;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [methods, setMethods] = useState<Method[]>(policy.methods);
  const [factors, setFactors] = useState(policy.factors);
  const [privileged, setPrivileged] = useState(policy.privilegedFactors);
  const [managerOk, setManagerOk] = useState(policy.managerSatisfiesPrivileged);
  const [validity, setValidity] = useState(policy.validityMinutes);
  const [device, setDevice] = useState<string | null>(policy.directoryDeviceId);
  const [kind, setKind] = useState<string | null>(policy.directoryKind ?? "active_directory");
  const save = useMutation({
    mutationFn: () =>
      api<IdentityPolicyDto>("PUT", `/clients/${policy.clientId}/identity-policy`, {
        body: {
          methods,
          factors,
          privilegedFactors: privileged,
          managerSatisfiesPrivileged: managerOk,
          validityMinutes: validity,
          directoryDeviceId: device,
          directoryKind: device ? kind : null,
          version: policy.version,
        },
      }),
    onSuccess: (p) => {
      qc.setQueryData(policyKey(policy.clientId), p);
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title="Caller verification policy">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // The dialog is rendered in a portal, but React bubbles its submit to forms around the button
          // that opened it (phone intake's): keep it here.
          e.stopPropagation();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <Checkbox.Group
            label="Accepted methods"
            value={methods}
            onChange={(v) => setMethods(v as Method[])}
          >
            <Group mt={4}>
              {METHODS.map((m) => (
                <Checkbox key={m} value={m} label={METHOD_LABEL[m]} />
              ))}
            </Group>
          </Checkbox.Group>
          <Group grow>
            <NumberInput
              label="Factors"
              min={1}
              max={3}
              value={factors}
              onChange={(v) => setFactors(Number(v) || 1)}
            />
            <NumberInput
              label="Factors for VIP / admin accounts"
              min={1}
              max={3}
              value={privileged}
              onChange={(v) => setPrivileged(Number(v) || 1)}
            />
          </Group>
          <Checkbox
            label="A manager's approval is enough for VIP / admin accounts"
            checked={managerOk}
            onChange={(e) => setManagerOk(e.currentTarget.checked)}
          />
          <NumberInput
            label="A verification is good for (minutes)"
            min={1}
            max={120}
            value={validity}
            onChange={(v) => setValidity(Number(v) || 10)}
          />
          <Select
            label="Domain controller (its agent runs resets)"
            data={devices}
            value={device}
            onChange={setDevice}
            clearable
          />
          <Select
            label="Directory"
            data={[
              { value: "active_directory", label: "Active Directory (PowerShell)" },
              { value: "samba", label: "Samba AD (ldb tools)" },
            ]}
            value={kind}
            onChange={setKind}
            disabled={!device}
          />
          {save.error && <Text c="red">{(save.error as Error).message}</Text>}
          <Group justify="flex-end">
            <Button type="submit" loading={save.isPending} disabled={methods.length === 0}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
