import { Box, Group, Progress, SimpleGrid, Stack, Table, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { type ReactNode, useMemo, useState } from "react";
import type { Inventory } from "../../api/types.ts";
import { Empty, Section } from "../../components/section.tsx";

const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];
export function bytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

export function uptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return `${m}m`;
}

const row = { borderBottom: "1px solid var(--mantine-color-default-border)" };

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" px="sm" py={4} style={row} align="baseline">
      <Text fz="xs" c="dimmed" w={110} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text fz="sm" style={{ minWidth: 0, overflowWrap: "anywhere" }}>
        {children}
      </Text>
    </Group>
  );
}

/** OS, hardware, CPU and memory, users and uptime: the facts a technician asks first on the phone. */
export function SystemSection({ inv }: { inv: Inventory }) {
  const used = inv.memory.totalBytes - inv.memory.freeBytes;
  const hw = [inv.hardware.manufacturer, inv.hardware.model].filter(Boolean).join(" ");
  return (
    <Section id="device-system" title="System">
      <Fact label="OS">
        {inv.os.name} {inv.os.version} ({inv.os.arch})
      </Fact>
      {inv.os.kernel && <Fact label="Kernel">{inv.os.kernel}</Fact>}
      <Fact label="Hardware">{hw || "Unknown"}</Fact>
      {inv.hardware.serial && <Fact label="Serial">{inv.hardware.serial}</Fact>}
      <Fact label="CPU">
        {inv.cpu.model} · {inv.cpu.cores} cores
        {inv.cpu.speedMhz ? ` · ${(inv.cpu.speedMhz / 1000).toFixed(1)} GHz` : ""}
      </Fact>
      <Fact label="Memory">
        {bytes(used)} used of {bytes(inv.memory.totalBytes)}
      </Fact>
      <Fact label="Logged in">{inv.users.length ? inv.users.join(", ") : "Nobody"}</Fact>
      <Fact label="Uptime">{uptime(inv.uptimeSeconds)}</Fact>
    </Section>
  );
}

export function DisksSection({ inv }: { inv: Inventory }) {
  return (
    <Section id="device-disks" title="Disks" count={inv.disks.length}>
      {inv.disks.length === 0 && <Empty>No disks reported.</Empty>}
      <Stack gap={0}>
        {inv.disks.map((d) => {
          const usedPct = d.totalBytes ? Math.round(((d.totalBytes - d.freeBytes) / d.totalBytes) * 100) : 0;
          return (
            <Box key={d.mount} px="sm" py={5} style={row}>
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <Text fz="sm" ff="monospace" className="sb-ellipsis">
                  {d.mount}
                </Text>
                <Text fz="xs" c="dimmed" style={{ flexShrink: 0 }}>
                  {bytes(d.freeBytes)} free of {bytes(d.totalBytes)}
                  {d.fs ? ` · ${d.fs}` : ""}
                </Text>
              </Group>
              <Progress
                value={usedPct}
                size="sm"
                mt={4}
                color={usedPct >= 90 ? "red" : usedPct >= 75 ? "orange" : "blue"}
                aria-label={`${d.mount} ${usedPct}% used`}
              />
            </Box>
          );
        })}
      </Stack>
    </Section>
  );
}

export function NetworkSection({ inv }: { inv: Inventory }) {
  return (
    <Section id="device-network" title="Network" count={inv.network.length}>
      {inv.network.length === 0 && <Empty>No interfaces reported.</Empty>}
      <Stack gap={0}>
        {inv.network.map((n) => (
          <Box key={`${n.name}-${n.mac}`} px="sm" py={5} style={row}>
            <Group justify="space-between" wrap="nowrap" gap="xs">
              <Text fz="sm" fw={600}>
                {n.name}
              </Text>
              <Text fz="xs" c="dimmed" ff="monospace">
                {n.mac}
              </Text>
            </Group>
            <Text fz="xs" ff="monospace" style={{ overflowWrap: "anywhere" }}>
              {n.addresses.map((a) => a.cidr ?? a.address).join("  ") || "No addresses"}
            </Text>
          </Box>
        ))}
      </Stack>
    </Section>
  );
}

const SOFTWARE_SHOWN = 300;

/** Thousands of packages are common on Linux: filter first, and render only the first few hundred. */
export function SoftwareSection({ inv }: { inv: Inventory }) {
  const [q, setQ] = useState("");
  const [debounced] = useDebouncedValue(q.trim().toLowerCase(), 150);
  const matches = useMemo(
    () =>
      debounced
        ? inv.software.filter(
            (s) => s.name.toLowerCase().includes(debounced) || s.publisher?.toLowerCase().includes(debounced),
          )
        : inv.software,
    [inv.software, debounced],
  );
  return (
    <Section
      id="device-software"
      title="Installed software"
      count={debounced ? `${matches.length} / ${inv.software.length}` : inv.software.length}
      actions={
        <TextInput
          size="xs"
          aria-label="Filter installed software"
          placeholder="Filter software"
          value={q}
          onChange={(e) => setQ(e.currentTarget.value)}
          w={200}
        />
      }
    >
      {matches.length === 0 ? (
        <Empty>{inv.software.length ? "No software matches." : "No software reported."}</Empty>
      ) : (
        <Box mah={420} style={{ overflow: "auto" }} tabIndex={0} role="region" aria-label="Software list">
          <Table stickyHeader aria-label="Installed software">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Publisher</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {matches.slice(0, SOFTWARE_SHOWN).map((s) => (
                <Table.Tr key={`${s.name}@${s.version}`}>
                  <Table.Td>{s.name}</Table.Td>
                  <Table.Td ff="monospace" fz="xs">
                    {s.version}
                  </Table.Td>
                  <Table.Td c="dimmed">{s.publisher ?? ""}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {matches.length > SOFTWARE_SHOWN && (
            <Empty>
              Showing {SOFTWARE_SHOWN} of {matches.length}: filter to narrow down.
            </Empty>
          )}
        </Box>
      )}
    </Section>
  );
}

const UPDATE_SOURCES: Record<string, string> = {
  apt: "apt",
  dnf: "dnf",
  softwareupdate: "softwareupdate",
  windows_update: "Windows Update",
};

export function UpdatesSection({ inv }: { inv: Inventory }) {
  const u = inv.updates;
  return (
    <Section id="device-updates" title="Pending updates" count={u ? u.count : "?"}>
      {!u ? (
        <Empty>The operating system does not report pending updates here.</Empty>
      ) : u.count === 0 ? (
        <Empty>Up to date ({UPDATE_SOURCES[u.source]}).</Empty>
      ) : (
        <Box
          mah={260}
          style={{ overflow: "auto" }}
          tabIndex={0}
          role="region"
          aria-label="Pending update list"
        >
          <Text fz="xs" c="dimmed" px="sm" pt={4}>
            From {UPDATE_SOURCES[u.source]}
          </Text>
          {u.items.map((i) => (
            <Group key={`${i.name}@${i.version ?? ""}`} justify="space-between" px="sm" py={3} style={row}>
              <Text fz="sm">{i.name}</Text>
              <Text fz="xs" ff="monospace" c="dimmed">
                {i.version ?? ""}
              </Text>
            </Group>
          ))}
        </Box>
      )}
    </Section>
  );
}

export function InventoryGrid({ inv }: { inv: Inventory }) {
  return (
    <SimpleGrid cols={{ base: 1, lg: 3 }} spacing="md">
      <SystemSection inv={inv} />
      <DisksSection inv={inv} />
      <NetworkSection inv={inv} />
    </SimpleGrid>
  );
}
