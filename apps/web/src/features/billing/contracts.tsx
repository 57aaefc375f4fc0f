import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useClients } from "../../api/hooks.ts";
import { type Contract, type ContractLine, hm, money, WORK_TYPES } from "../../api/work-types.ts";

const KINDS = [
  { value: "managed_device", label: "Managed, per device / month" },
  { value: "managed_user", label: "Managed, per user / month" },
  { value: "fixed", label: "Fixed / month" },
  { value: "hourly", label: "Hourly rate" },
  { value: "block", label: "Prepaid hours (block)" },
];
const kindLabel = (k: string) => KINDS.find((x) => x.value === k)?.label ?? k;
const blankLine = (): ContractLine => ({
  kind: "hourly",
  description: "Support",
  workType: null,
  rateMinor: 12_000,
  roundingMinimumMinutes: 15,
  roundingIncrementMinutes: 15,
  afterHoursMultiplierPct: 150,
});

/** Contracts per client: what is covered, the rates, the prepaid hours left. */
export function ContractsPanel({ admin }: { admin: boolean }) {
  const list = useQuery({ queryKey: ["contracts"], queryFn: () => get<Contract[]>("/contracts") });
  const [creating, setCreating] = useState(false);
  const [blockFor, setBlockFor] = useState<Contract | null>(null);
  return (
    <Stack gap="sm">
      {admin && (
        <Group>
          <Button onClick={() => setCreating(true)}>New contract</Button>
        </Group>
      )}
      {(list.data ?? []).map((c) => (
        <Paper key={c.id} withBorder p="sm">
          <Group justify="space-between">
            <Text fw={600}>
              {c.clientName}: {c.name}
            </Text>
            <Group gap="xs">
              <Badge variant="light" color={c.active ? "green" : "gray"}>
                {c.active ? "active" : "ended"}
              </Badge>
              <Text fz="xs" c="dimmed">
                from {c.startsOn}
                {c.endsOn ? ` to ${c.endsOn}` : ""} · {c.currency}
              </Text>
            </Group>
          </Group>
          <Table fz="xs" mt={4}>
            <Table.Tbody>
              {c.lines.map((l) => (
                <Table.Tr key={l.id}>
                  <Table.Td>{kindLabel(l.kind)}</Table.Td>
                  <Table.Td>{l.description}</Table.Td>
                  <Table.Td>
                    {l.workType ? WORK_TYPES.find((w) => w.value === l.workType)?.label : ""}
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {l.kind === "hourly"
                      ? `${money(l.rateMinor, c.currency)}/h`
                      : l.kind === "block"
                        ? ""
                        : money(l.unitPriceMinor, c.currency)}
                  </Table.Td>
                  <Table.Td>
                    {l.kind === "hourly" || l.kind === "block"
                      ? `rounded up to ${l.roundingIncrementMinutes} min, at least ${l.roundingMinimumMinutes}${l.afterHoursMultiplierPct !== 100 ? `; after hours ${l.afterHoursMultiplierPct}%` : ""}`
                      : ""}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {c.blocks.length > 0 && (
            <Stack gap={2} mt={6}>
              {c.blocks.map((b) => (
                <Text key={b.id} fz="xs" c={b.expired ? "dimmed" : undefined}>
                  Prepaid {hm(b.purchasedMinutes)}: {hm(b.remainingMinutes)} left,{" "}
                  {b.expired ? "expired" : "expires"} {b.expiresOn}
                </Text>
              ))}
            </Stack>
          )}
          {admin && (
            <Button size="compact-xs" variant="default" mt={6} onClick={() => setBlockFor(c)}>
              Add prepaid hours
            </Button>
          )}
        </Paper>
      ))}
      {list.isSuccess && !list.data.length && (
        <Text c="dimmed" fz="sm">
          No contracts yet.
        </Text>
      )}
      {creating && <ContractModal onClose={() => setCreating(false)} />}
      {blockFor && <BlockModal contract={blockFor} onClose={() => setBlockFor(null)} />}
    </Stack>
  );
}

/** Money typed as "120.00" into minor units. */
const toMinor = (v: number | string) => Math.round(Number(v || 0) * 100);

function ContractModal({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const clients = useClients();
  const [form, setForm] = useState({
    clientId: null as string | null,
    name: "Managed services",
    startsOn: new Date().toISOString().slice(0, 10),
    currency: "USD",
  });
  const [lines, setLines] = useState<ContractLine[]>([
    { kind: "managed_device", description: "Managed workstation", workType: null, unitPriceMinor: 5000 },
    blankLine(),
  ]);
  const save = useMutation({
    mutationFn: () => api<Contract>("POST", "/contracts", { body: { ...form, lines } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["contracts"] });
      notifications.show({ title: "Contract saved", message: form.name });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  const setLine = (i: number, patch: Partial<ContractLine>) =>
    setLines(lines.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  return (
    <Modal opened onClose={onClose} title="New contract" size="xl">
      <Stack gap="sm">
        <Group grow>
          <Select
            label="Client"
            searchable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={form.clientId}
            onChange={(v) => setForm({ ...form, clientId: v })}
            error={errors.clientId}
            required
          />
          <TextInput
            label="Name"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
            error={errors.name}
            required
          />
        </Group>
        <Group grow>
          <TextInput
            type="date"
            label="Starts"
            value={form.startsOn}
            onChange={(e) => setForm({ ...form, startsOn: e.currentTarget.value })}
            required
          />
          <TextInput
            label="Currency"
            value={form.currency}
            onChange={(e) => setForm({ ...form, currency: e.currentTarget.value.toUpperCase() })}
            error={errors.currency}
          />
        </Group>
        <Text fw={600} fz="sm">
          Lines
        </Text>
        {lines.map((l, i) => (
          <Paper key={`line-${i.toString()}`} withBorder p="xs">
            <Group align="flex-end" gap="xs" wrap="wrap">
              <Select
                label="Kind"
                data={KINDS}
                value={l.kind}
                onChange={(v) =>
                  setLine(i, { kind: (v ?? "hourly") as ContractLine["kind"], workType: null })
                }
                allowDeselect={false}
                w={220}
              />
              <TextInput
                label="Description"
                value={l.description}
                onChange={(e) => setLine(i, { description: e.currentTarget.value })}
                error={errors[`lines.${i}.description`]}
                w={200}
              />
              {(l.kind === "hourly" || l.kind === "block") && (
                <Select
                  label="Work type"
                  data={[{ value: "", label: "Any" }, ...WORK_TYPES]}
                  value={l.workType ?? ""}
                  onChange={(v) => setLine(i, { workType: (v || null) as ContractLine["workType"] })}
                  error={errors[`lines.${i}.workType`]}
                  w={130}
                />
              )}
              {l.kind === "hourly" && (
                <NumberInput
                  label="Rate per hour"
                  decimalScale={2}
                  min={0}
                  value={(l.rateMinor ?? 0) / 100}
                  onChange={(v) => setLine(i, { rateMinor: toMinor(v) })}
                  error={errors[`lines.${i}.rateMinor`]}
                  w={120}
                />
              )}
              {(l.kind === "managed_device" || l.kind === "managed_user" || l.kind === "fixed") && (
                <NumberInput
                  label="Price per month"
                  decimalScale={2}
                  min={0}
                  value={(l.unitPriceMinor ?? 0) / 100}
                  onChange={(v) => setLine(i, { unitPriceMinor: toMinor(v) })}
                  w={130}
                />
              )}
              {(l.kind === "hourly" || l.kind === "block") && (
                <>
                  <NumberInput
                    label="Minimum (min)"
                    min={0}
                    max={1440}
                    value={l.roundingMinimumMinutes ?? 0}
                    onChange={(v) => setLine(i, { roundingMinimumMinutes: Number(v) })}
                    w={110}
                  />
                  <NumberInput
                    label="Round up to (min)"
                    min={1}
                    max={240}
                    value={l.roundingIncrementMinutes ?? 1}
                    onChange={(v) => setLine(i, { roundingIncrementMinutes: Number(v) })}
                    w={120}
                  />
                </>
              )}
              {l.kind === "hourly" && (
                <NumberInput
                  label="After hours %"
                  min={100}
                  max={500}
                  value={l.afterHoursMultiplierPct ?? 100}
                  onChange={(v) => setLine(i, { afterHoursMultiplierPct: Number(v) })}
                  w={110}
                />
              )}
              <ActionIcon
                variant="subtle"
                color="red"
                aria-label={`Remove line ${i + 1}`}
                onClick={() => setLines(lines.filter((_, j) => j !== i))}
              >
                ×
              </ActionIcon>
            </Group>
          </Paper>
        ))}
        <Group>
          <Button variant="default" size="xs" onClick={() => setLines([...lines, blankLine()])}>
            Add a line
          </Button>
        </Group>
        {save.isError && (
          <Text c="red" fz="sm" role="alert">
            {save.error.message}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!form.clientId}>
            Save contract
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function BlockModal({ contract, onClose }: { contract: Contract; onClose: () => void }) {
  const qc = useQueryClient();
  const today = new Date().toISOString().slice(0, 10);
  const [form, setForm] = useState({
    hours: 10 as number | string,
    price: 1000 as number | string,
    purchasedOn: today,
    expiresOn: `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`,
  });
  const save = useMutation({
    mutationFn: () =>
      api("POST", `/contracts/${contract.id}/blocks`, {
        body: {
          purchasedMinutes: Math.round(Number(form.hours) * 60),
          priceMinor: toMinor(form.price),
          purchasedOn: form.purchasedOn,
          expiresOn: form.expiresOn,
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["contracts"] });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened onClose={onClose} title={`Prepaid hours for ${contract.clientName}`}>
      <Stack gap="sm">
        <NumberInput
          label="Hours"
          min={0.25}
          step={1}
          decimalScale={2}
          value={form.hours}
          onChange={(v) => setForm({ ...form, hours: v })}
          error={errors.purchasedMinutes}
        />
        <NumberInput
          label={`Price (${contract.currency})`}
          min={0}
          decimalScale={2}
          value={form.price}
          onChange={(v) => setForm({ ...form, price: v })}
        />
        <TextInput
          type="date"
          label="Purchased"
          value={form.purchasedOn}
          onChange={(e) => setForm({ ...form, purchasedOn: e.currentTarget.value })}
        />
        <TextInput
          type="date"
          label="Expires"
          value={form.expiresOn}
          onChange={(e) => setForm({ ...form, expiresOn: e.currentTarget.value })}
          error={errors.expiresOn}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending}>
            Add
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
