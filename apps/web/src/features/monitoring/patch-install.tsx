import { Badge, Button, Group, Stack, Switch, Table, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { dateTime, relative } from "../../components/format.ts";
import {
  type InstallSelection,
  type PatchInstallRunDto,
  useDevicePatchInstalls,
  useInstallUpdates,
  usePatchSettings,
  useRetryInstall,
  useSetPatchSettings,
} from "./api.ts";

const RUN_COLOR: Record<PatchInstallRunDto["status"], string> = {
  queued: "gray",
  running: "blue",
  done: "green",
  partial: "orange",
  failed: "red",
};
const ITEM_COLOR: Record<PatchInstallRunDto["items"][number]["status"], string> = {
  pending: "gray",
  installed: "green",
  failed: "red",
  not_applicable: "gray",
};

/** Approve and install now: the updates ticked in the list, every security update, or all of them. */
export function InstallButtons({
  deviceId,
  selected,
  security,
  total,
  onStarted,
}: {
  deviceId: string;
  selected: string[];
  security: number;
  total: number;
  onStarted: () => void;
}) {
  const install = useInstallUpdates(deviceId);
  const runs = useDevicePatchInstalls(deviceId);
  const busy = (runs.data?.items ?? []).some((r) => r.status === "queued" || r.status === "running");
  const go = (s: InstallSelection) => install.mutate(s, { onSuccess: onStarted });
  return (
    <Stack gap={4}>
      <Group gap="xs">
        <Button
          size="xs"
          disabled={!selected.length || busy}
          loading={install.isPending}
          onClick={() => go({ select: "updates", updates: selected })}
        >
          Install selected ({selected.length})
        </Button>
        <Button
          size="xs"
          variant="light"
          disabled={!security || busy}
          onClick={() => go({ select: "security" })}
        >
          Install all security ({security})
        </Button>
        <Button size="xs" variant="default" disabled={!total || busy} onClick={() => go({ select: "all" })}>
          Install all ({total})
        </Button>
      </Group>
      {busy && (
        <Text fz="xs" c="dimmed">
          An install is under way on this device; its results appear below.
        </Text>
      )}
      {install.isError && (
        <Text fz="sm" c="red.8" role="alert">
          The install was not started: {install.error.message}
        </Text>
      )}
    </Stack>
  );
}

function RunItems({ run }: { run: PatchInstallRunDto }) {
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table verticalSpacing={4} fz="sm" aria-label={`Results of the install ${relative(run.createdAt)}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Update</Table.Th>
            <Table.Th w={140}>Result</Table.Th>
            <Table.Th>Version</Table.Th>
            <Table.Th>Reason</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {run.items.map((i) => (
            <Table.Tr key={i.target}>
              <Table.Td>{i.name}</Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>
                <Badge variant="light" size="sm" color={ITEM_COLOR[i.status]} style={{ overflow: "visible" }}>
                  {i.status.replace("_", " ")}
                </Badge>
              </Table.Td>
              <Table.Td ff="monospace">
                {i.versionFrom && i.versionTo && i.versionFrom !== i.versionTo
                  ? `${i.versionFrom} → ${i.versionTo}`
                  : (i.versionFrom ?? "—")}
              </Table.Td>
              <Table.Td>{i.error ?? ""}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** The device's latest installs: state, who asked, a result per update, and Retry for the failed. */
export function InstallRuns({ deviceId, canWrite }: { deviceId: string; canWrite: boolean }) {
  const q = useDevicePatchInstalls(deviceId);
  const retry = useRetryInstall();
  const runs = (q.data?.items ?? []).slice(0, 5);
  if (q.isError) return <Text fz="sm">Could not load the installs: {q.error.message}</Text>;
  if (!runs.length) return null;
  const anyOpen = runs.some((r) => r.status === "queued" || r.status === "running");
  return (
    <Stack gap="sm" aria-label="Update installs" component="section">
      <Text fw={600} fz="sm">
        Installs
      </Text>
      {runs.map((r) => {
        const failed = r.items.filter((i) => i.status === "failed").length;
        return (
          <Stack key={r.id} gap={4}>
            <Group gap="xs" wrap="wrap">
              <Badge color={RUN_COLOR[r.status]} variant="light" size="sm">
                {r.status}
              </Badge>
              <Text fz="sm" title={dateTime(r.createdAt)}>
                {r.trigger === "auto" ? "Auto-approved" : `Approved by ${r.requestedBy}`},{" "}
                {relative(r.createdAt)}
                {r.retryOf ? " (retry)" : ""}
              </Text>
              {r.rebootRequired && (
                <Badge color="orange" variant="light" size="sm">
                  reboot required
                </Badge>
              )}
              {canWrite && failed > 0 && (r.status === "failed" || r.status === "partial") && (
                <Button
                  size="compact-xs"
                  variant="light"
                  disabled={anyOpen}
                  loading={retry.isPending && retry.variables === r.id}
                  onClick={() => retry.mutate(r.id)}
                >
                  Retry failed ({failed})
                </Button>
              )}
            </Group>
            {r.error && (
              <Text fz="sm" c="red.8">
                {r.error}
              </Text>
            )}
            <RunItems run={r} />
          </Stack>
        );
      })}
      {retry.isError && (
        <Text fz="sm" c="red.8" role="alert">
          The retry was not started: {retry.error.message}
        </Text>
      )}
    </Stack>
  );
}

/**
 * The client's auto-approval: security updates approved as soon as a scan reports them, installed at
 * once or only inside a window of each device's site time zone.
 */
export function AutoApproval({ clientId, canEdit }: { clientId: string; canEdit: boolean }) {
  const q = usePatchSettings(clientId);
  const set = useSetPatchSettings(clientId);
  const [start, setStart] = useState<string | null>(null);
  const [end, setEnd] = useState<string | null>(null);
  if (!q.data) return null;
  const cur = q.data;
  const from = start ?? cur.installWindow?.start ?? "";
  const to = end ?? cur.installWindow?.end ?? "";
  const save = (auto: boolean, window: { start: string; end: string } | null) =>
    set.mutate(
      { autoInstallSecurity: auto, installWindow: window },
      {
        onSuccess: () => {
          setStart(null);
          setEnd(null);
        },
      },
    );
  const edited = start !== null || end !== null;
  return (
    <Stack gap={6}>
      <Switch
        size="sm"
        label="Approve and install security updates automatically"
        description={
          cur.installWindow
            ? `Installed between ${cur.installWindow.start} and ${cur.installWindow.end}, each device's site time.`
            : "Installed as soon as a device's scan reports them, or only inside a window below."
        }
        checked={cur.autoInstallSecurity}
        disabled={!canEdit || set.isPending}
        onChange={(e) => save(e.currentTarget.checked, cur.installWindow)}
      />
      {canEdit && cur.autoInstallSecurity && (
        <Group gap="xs" align="flex-end">
          <TextInput
            type="time"
            size="xs"
            label="Window from"
            value={from}
            onChange={(e) => setStart(e.currentTarget.value)}
          />
          <TextInput
            type="time"
            size="xs"
            label="to"
            value={to}
            onChange={(e) => setEnd(e.currentTarget.value)}
          />
          <Button
            size="xs"
            variant="light"
            disabled={!edited || !from || !to}
            loading={set.isPending}
            onClick={() => save(true, { start: from, end: to })}
          >
            Save window
          </Button>
          {cur.installWindow && (
            <Button size="xs" variant="subtle" onClick={() => save(true, null)}>
              Any time
            </Button>
          )}
        </Group>
      )}
      {set.isError && (
        <Text fz="sm" c="red.8" role="alert">
          Not saved: {set.error.message}
        </Text>
      )}
    </Stack>
  );
}
