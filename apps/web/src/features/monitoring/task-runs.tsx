import { Badge, Table, Text } from "@mantine/core";
import { relative } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";
import { type TaskRunDto, useTaskRuns } from "./api.ts";

const COLORS: Record<TaskRunDto["status"], string> = {
  queued: "gray",
  sent: "blue",
  succeeded: "green",
  failed: "red",
  timed_out: "red",
  missed: "yellow",
  skipped: "gray",
};

/** The device's scheduled task runs in its Monitoring section: when, how each ended, its output. */
export function DeviceTaskRuns({ deviceId }: { deviceId: string }) {
  const q = useTaskRuns(deviceId);
  const runs = q.data?.items ?? [];
  return (
    <Section id="device-task-runs" title="Scheduled tasks" count={runs.length || undefined}>
      {q.isError ? (
        <Empty>Could not load the task runs: {q.error.message}</Empty>
      ) : !q.data ? (
        <Empty>Loading…</Empty>
      ) : runs.length === 0 ? (
        <Empty>No scheduled task has run on this device. Tasks are added in a monitoring policy.</Empty>
      ) : (
        <Table.ScrollContainer minWidth={600}>
          <Table verticalSpacing={6} fz="sm" aria-label="Task runs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Task</Table.Th>
                <Table.Th>Due</Table.Th>
                <Table.Th>Result</Table.Th>
                <Table.Th>Output</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {runs.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{r.taskName}</Table.Td>
                  <Table.Td>
                    <Text fz="xs" title={r.dueAt}>
                      {relative(r.dueAt)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={COLORS[r.status]} variant="light" size="sm">
                      {r.status.replace("_", " ")}
                      {r.exitCode !== null && r.exitCode !== 0 ? ` (${r.exitCode})` : ""}
                    </Badge>
                  </Table.Td>
                  <Table.Td maw={420}>
                    <Text
                      fz="xs"
                      ff="monospace"
                      lineClamp={4}
                      title={r.output}
                      style={{ whiteSpace: "pre-wrap" }}
                    >
                      {r.output || "—"}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Section>
  );
}
