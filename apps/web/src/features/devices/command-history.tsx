import { Box, Group, Table, Text } from "@mantine/core";
import type { CommandDto } from "../../api/types.ts";
import { dateTime, relative } from "../../components/format.ts";
import { Empty } from "../../components/section.tsx";
import { CommandStatusBadge } from "./device-table.tsx";

const KIND_LABELS: Record<CommandDto["kind"], string> = {
  "script.run": "Script",
  "service.list": "List services",
  "service.restart": "Restart service",
  reboot: "Reboot",
  "directory.account": "Directory account",
  "updates.install": "Install updates",
};

export function commandSummary(c: CommandDto): string {
  const cmd = c.command;
  switch (cmd.kind) {
    case "script.run": {
      const first = cmd.script.split("\n").find((l) => l.trim()) ?? "";
      return `${cmd.interpreter}: ${first.length > 80 ? `${first.slice(0, 80)}…` : first}`;
    }
    case "service.restart":
      return cmd.name;
    case "reboot":
      return `in ${cmd.delaySeconds}s`;
    case "directory.account":
      return `${cmd.action.replace("_", " ")} ${cmd.account ?? cmd.email ?? ""}`;
    case "updates.install":
      return `${cmd.manager}: ${cmd.packages.slice(0, 5).join(", ")}${cmd.packages.length > 5 ? ` and ${cmd.packages.length - 5} more` : ""}`;
    default:
      return "";
  }
}

const scrollStyle = {
  maxHeight: 320,
  overflow: "auto",
  background: "var(--mantine-color-default-hover)",
  borderRadius: 4,
} as const;
const preStyle = {
  margin: 0,
  padding: "6px 8px",
  whiteSpace: "pre-wrap",
  overflowWrap: "anywhere",
  fontSize: 12,
  lineHeight: 1.45,
  fontFamily: "var(--mantine-font-family-monospace)",
} as const;

function Output({ label, text }: { label: string; text: string }) {
  return (
    <Box>
      <Text fz="xs" c="dimmed" mb={2}>
        {label}
      </Text>
      {/* A focusable region so a keyboard user can scroll long output. */}
      <Box role="region" aria-label={label} tabIndex={0} style={scrollStyle}>
        <pre style={preStyle}>{text}</pre>
      </Box>
    </Box>
  );
}

function CommandResult({ c }: { c: CommandDto }) {
  const nothing = !c.stdout && !c.stderr && !c.error && !c.services;
  return (
    <Box px="sm" pb="sm" pt={4}>
      {c.command.kind === "script.run" && <Output label="Script" text={c.command.script} />}
      {c.stdout && <Output label="Output" text={c.stdout} />}
      {c.stderr && <Output label="Errors (stderr)" text={c.stderr} />}
      {c.truncated && (
        <Text fz="xs" c="orange.8" mt={4}>
          Output was cut at the command's limit.
        </Text>
      )}
      {c.error && (
        <Text fz="sm" c="red.8" mt={4}>
          {c.error}
        </Text>
      )}
      {c.services && (
        <Box mah={320} mt={4} style={{ overflow: "auto" }} tabIndex={0} role="region" aria-label="Services">
          <Table aria-label="Services" verticalSpacing={2}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Service</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Description</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {c.services.map((s) => (
                <Table.Tr key={s.name}>
                  <Table.Td ff="monospace" fz="xs">
                    {s.name}
                  </Table.Td>
                  <Table.Td fz="xs">{s.state}</Table.Td>
                  <Table.Td fz="xs" c="dimmed">
                    {s.description ?? ""}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Box>
      )}
      {nothing && (
        <Text fz="xs" c="dimmed" mt={4}>
          {c.finishedAt ? "No output." : "Waiting for the device…"}
        </Text>
      )}
    </Box>
  );
}

/** Newest first; each command folds open (native details) to its script, output and exit code. */
export function CommandHistory({ items, openId }: { items: CommandDto[]; openId: string | null }) {
  if (items.length === 0) return <Empty>No commands yet.</Empty>;
  return (
    <Box>
      {items.map((c) => (
        <details
          key={c.id}
          open={c.id === openId || undefined}
          data-testid="command"
          style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
        >
          <summary style={{ cursor: "pointer", padding: "5px 12px" }}>
            <Group component="span" gap="xs" wrap="nowrap" display="inline-flex" w="calc(100% - 20px)">
              <CommandStatusBadge status={c.status} />
              <Text span fz="sm" fw={600} style={{ flexShrink: 0 }}>
                {KIND_LABELS[c.kind]}
              </Text>
              <Text span fz="sm" ff="monospace" className="sb-ellipsis" style={{ flex: 1 }}>
                {commandSummary(c)}
              </Text>
              {c.exitCode !== null && (
                <Text span fz="xs" ff="monospace" c={c.exitCode === 0 ? "dimmed" : "red.8"}>
                  exit {c.exitCode}
                </Text>
              )}
              <Text span fz="xs" c="dimmed" title={dateTime(c.createdAt)} style={{ flexShrink: 0 }}>
                {c.requestedBy.label} · {relative(c.createdAt)}
              </Text>
            </Group>
          </summary>
          <CommandResult c={c} />
        </details>
      ))}
    </Box>
  );
}
