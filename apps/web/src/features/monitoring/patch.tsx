import { Badge, Checkbox, Group, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useMe } from "../../api/hooks.ts";
import { age, dateTime, relative } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";
import { SeverityBadge } from "./alert-parts.tsx";
import { type ClientHealthDto, useClientHealth, useDevicePatch } from "./api.ts";
import { AutoApproval, InstallButtons, InstallRuns } from "./patch-install.tsx";

type Counts = ClientHealthDto["patch"]["bySeverity"];
const SEVERITIES = ["critical", "important", "moderate", "low", "unrated"] as const;
const SEVERITY_COLOR: Record<string, string> = {
  critical: "red",
  important: "orange",
  moderate: "yellow",
  low: "gray",
  unrated: "grape",
};

/** "2 critical · 1 important · 4 unrated": missing security updates by the OS's rating. */
function SeverityCounts({ counts }: { counts: Counts }) {
  const shown = SEVERITIES.filter((s) => counts[s] > 0);
  if (!shown.length) return <Text fz="sm">No security updates missing</Text>;
  return (
    <Group gap={6} aria-label="Missing security updates by severity">
      {shown.map((s) => (
        <Badge key={s} variant="light" color={SEVERITY_COLOR[s]} size="sm">
          {counts[s]} {s}
        </Badge>
      ))}
    </Group>
  );
}

const Fact = ({ label, children }: { label: string; children: React.ReactNode }) => (
  <div>
    <Text fz="xs" c="dimmed">
      {label}
    </Text>
    <Text fz="sm" component="div">
      {children}
    </Text>
  </div>
);

/** The device page's Patch section: what its agent last reported missing, reboot, last install. */
export function DevicePatch({ deviceId }: { deviceId: string }) {
  const q = useDevicePatch(deviceId);
  const s = q.data?.status;
  const me = useMe();
  const canWrite = !!me.data && me.data.role !== "readonly";
  const [picked, setPicked] = useState<Set<string>>(new Set());
  // Only what the latest scan still lists can be installed: a ticked update that left the list is dropped.
  const selected = s ? s.updates.filter((u) => picked.has(u.name)).map((u) => u.name) : [];
  const toggle = (name: string, on: boolean) =>
    setPicked((prev) => {
      const next = new Set(prev);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });
  return (
    <Section id="device-patch" title="Patch" count={s ? s.missing : undefined}>
      {q.isError ? (
        <Empty>Could not load the patch status: {q.error.message}</Empty>
      ) : !q.data ? (
        <Empty>Loading…</Empty>
      ) : !s ? (
        <Empty>
          No patch scan received yet: the agent scans a few minutes after it connects, then every 6 hours.
        </Empty>
      ) : (
        <Stack gap="sm" p="sm">
          {s.scanError && (
            <Text fz="sm" c="red.8" role="alert">
              The last scan ({relative(s.collectedAt)}) failed: {s.scanError}. The list below is from the scan
              before; the agent tries again at its next scan.
            </Text>
          )}
          <Group gap="xl" align="flex-start" wrap="wrap">
            <Fact label="Missing">
              {s.missing} updates, {s.security} security
            </Fact>
            <Fact label="Security by severity">
              <SeverityCounts counts={s.bySeverity} />
            </Fact>
            <Fact label="Oldest missing security update">
              {s.oldestSecurityAt ? age(s.oldestSecurityAt) : "none"}
            </Fact>
            <Fact label="Reboot">
              {s.rebootPending ? (
                <Badge color="orange" variant="light" size="sm">
                  pending{s.rebootSince ? ` for ${age(s.rebootSince)}` : ""}
                </Badge>
              ) : (
                "not pending"
              )}
            </Fact>
            <Fact label="Last successful install">
              {s.lastInstallAt ? dateTime(s.lastInstallAt) : "unknown"}
            </Fact>
            <Fact label="Scanned">
              {relative(s.collectedAt)} ({s.source ?? "no package manager"})
            </Fact>
          </Group>
          {canWrite && s.source && s.updates.length > 0 && (
            <InstallButtons
              deviceId={deviceId}
              selected={selected}
              security={s.updates.filter((u) => u.security).length}
              total={s.updates.length}
              onStarted={() => setPicked(new Set())}
            />
          )}
          {s.updates.length > 0 && (
            <Table.ScrollContainer minWidth={560}>
              <Table verticalSpacing={4} fz="sm" aria-label="Missing updates">
                <Table.Thead>
                  <Table.Tr>
                    {canWrite && (
                      <Table.Th>
                        <VisuallyHidden>Select</VisuallyHidden>
                      </Table.Th>
                    )}
                    <Table.Th>Update</Table.Th>
                    <Table.Th>Installed</Table.Th>
                    <Table.Th>Available</Table.Th>
                    <Table.Th>Security</Table.Th>
                    <Table.Th>Missing for</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {s.updates.slice(0, 200).map((u) => (
                    <Table.Tr key={`${u.name}@${u.available ?? ""}`}>
                      {canWrite && (
                        <Table.Td>
                          <Checkbox
                            size="xs"
                            aria-label={`Select ${u.name}`}
                            checked={picked.has(u.name)}
                            onChange={(e) => toggle(u.name, e.currentTarget.checked)}
                          />
                        </Table.Td>
                      )}
                      <Table.Td>{u.name}</Table.Td>
                      <Table.Td ff="monospace">{u.current ?? "—"}</Table.Td>
                      <Table.Td ff="monospace">{u.available ?? "—"}</Table.Td>
                      <Table.Td>{u.security ? (u.severity ?? "yes") : "no"}</Table.Td>
                      <Table.Td>{age(u.releasedAt ?? u.firstSeenAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
          {s.updates.length > 200 && (
            <Text fz="xs" c="dimmed">
              The first 200 of {s.updates.length}, security first.
            </Text>
          )}
          <InstallRuns deviceId={deviceId} canWrite={canWrite} />
        </Stack>
      )}
    </Section>
  );
}

/** The client page's health summary: open alerts by severity, and the patch rollup of its devices. */
export function ClientHealth({ clientId }: { clientId: string }) {
  const q = useClientHealth(clientId);
  const me = useMe();
  const canEdit = me.data?.role === "admin" || me.data?.role === "dispatcher";
  const h = q.data;
  return (
    <Section id="client-health" title="Health">
      {q.isError ? (
        <Empty>Could not load the health summary: {q.error.message}</Empty>
      ) : !h ? (
        <Empty>Loading…</Empty>
      ) : (
        <Stack gap="sm" p="sm">
          <Fact label="Open alerts">
            {(["critical", "high", "medium", "low"] as const).every((s) => h.openAlerts[s] === 0) ? (
              "none"
            ) : (
              <Group gap={6}>
                {(["critical", "high", "medium", "low"] as const)
                  .filter((s) => h.openAlerts[s] > 0)
                  .map((s) => (
                    <Group key={s} gap={4}>
                      <SeverityBadge severity={s} />
                      <Text fz="sm">{h.openAlerts[s]}</Text>
                    </Group>
                  ))}
              </Group>
            )}
          </Fact>
          <Fact label="Patching">
            {h.patch.reporting} of {h.patch.devices} devices reporting; {h.patch.devicesMissingSecurity}{" "}
            missing security updates ({h.patch.security} in all, {h.patch.missing} updates of any kind)
          </Fact>
          <SeverityCounts counts={h.patch.bySeverity} />
          <Group gap="xl" wrap="wrap">
            <Fact label="Oldest missing security update">
              {h.patch.oldestSecurityAt ? age(h.patch.oldestSecurityAt) : "none"}
            </Fact>
            <Fact label="Reboot pending">{h.patch.rebootPending} devices</Fact>
            <Fact label="Last install">
              {h.patch.lastInstallAt ? relative(h.patch.lastInstallAt) : "unknown"}
              {h.patch.oldestLastInstallAt && h.patch.oldestLastInstallAt !== h.patch.lastInstallAt
                ? ` (longest without: ${age(h.patch.oldestLastInstallAt)})`
                : ""}
            </Fact>
          </Group>
          {h.patch.scanErrors > 0 && (
            <Text fz="sm" c="red.8">
              {h.patch.scanErrors} devices failed their last patch scan: the device's Patch section says why.
            </Text>
          )}
          <AutoApproval clientId={clientId} canEdit={canEdit} />
        </Stack>
      )}
    </Section>
  );
}
