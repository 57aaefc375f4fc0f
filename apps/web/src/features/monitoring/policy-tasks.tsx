import {
  Badge,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { type TaskDto, type TaskInput, useDeleteTask, usePolicyTasks, useSaveTask } from "./api.ts";

const INTERPRETERS = ["bash", "sh", "powershell", "cmd"] as const;
const blank = (): TaskInput => ({
  name: "",
  interpreter: "bash",
  script: "",
  cron: "0 3 * * *",
  timeoutSeconds: 300,
  severity: "medium",
  runMissed: false,
  enabled: true,
});

function TaskForm({ policyId, task, onDone }: { policyId: string; task?: TaskDto; onDone: () => void }) {
  const [draft, setDraft] = useState<TaskInput>(task ? { ...task } : blank());
  const save = useSaveTask(policyId);
  const errors = fieldErrors(save.error);
  const set = (patch: Partial<TaskInput>) => setDraft((d) => ({ ...d, ...patch }));
  return (
    <Paper p="xs" withBorder>
      <Stack
        component="form"
        gap={6}
        aria-label={task ? `Edit task ${task.name}` : "New scheduled task"}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({ ...draft, id: task?.id, version: task?.version }, { onSuccess: onDone });
        }}
      >
        <Group gap="xs" align="flex-end" wrap="wrap">
          <TextInput
            label="Task name"
            value={draft.name}
            onChange={(e) => set({ name: e.currentTarget.value })}
            error={errors.name}
            required
            w={220}
          />
          <TextInput
            label="Schedule (cron, site time)"
            description="minute hour day month weekday"
            value={draft.cron}
            onChange={(e) => set({ cron: e.currentTarget.value })}
            error={errors.cron}
            required
            ff="monospace"
            w={200}
          />
          <Select
            label="Shell"
            data={[...INTERPRETERS]}
            value={draft.interpreter}
            onChange={(v) => set({ interpreter: (v as TaskInput["interpreter"]) ?? "bash" })}
            allowDeselect={false}
            w={120}
          />
          <NumberInput
            label="Timeout (s)"
            value={draft.timeoutSeconds}
            min={1}
            max={86400}
            onChange={(v) => set({ timeoutSeconds: Number(v) || 300 })}
            error={errors.timeoutSeconds}
            w={110}
          />
          <Select
            label="Alert severity on failure"
            data={["critical", "high", "medium", "low"]}
            value={draft.severity}
            onChange={(v) => set({ severity: (v as TaskInput["severity"]) ?? "medium" })}
            allowDeselect={false}
            w={170}
          />
        </Group>
        <Textarea
          label="Script"
          value={draft.script}
          onChange={(e) => set({ script: e.currentTarget.value })}
          error={errors.script}
          required
          autosize
          minRows={3}
          ff="monospace"
        />
        <Group gap="md">
          <Checkbox
            label="Run missed runs when the device reconnects"
            checked={draft.runMissed ?? false}
            onChange={(e) => set({ runMissed: e.currentTarget.checked })}
          />
          <Checkbox
            label="Enabled"
            checked={draft.enabled ?? true}
            onChange={(e) => set({ enabled: e.currentTarget.checked })}
          />
        </Group>
        <Group gap="xs">
          <Button type="submit" size="xs" loading={save.isPending}>
            Save task
          </Button>
          <Button size="xs" variant="subtle" onClick={onDone}>
            Cancel
          </Button>
        </Group>
        {save.isError && (
          <Text fz="sm" c="red.8" role="alert">
            {save.error.message}
            {Object.entries(errors).map(([k, v]) => ` · ${k}: ${v}`)}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

/** A policy's scheduled tasks in its editor: each saved on its own, run on the policy's devices. */
export function PolicyTasks({ policyId }: { policyId: string }) {
  const q = usePolicyTasks(policyId);
  const remove = useDeleteTask();
  const [editing, setEditing] = useState<string | "new" | null>(null);
  return (
    <Stack gap={6} aria-label="Scheduled tasks">
      <Text fw={600} fz="sm">
        Scheduled tasks
      </Text>
      {q.isError && (
        <Text fz="sm" c="red.8" role="alert">
          Could not load the tasks: {q.error.message}
        </Text>
      )}
      {q.data?.items.length === 0 && editing !== "new" && (
        <Text fz="xs" c="dimmed">
          No scheduled tasks. A task runs its script on every device of this policy at each due time, in the
          device's site time zone; a failing run (non-zero exit or timeout) opens an alert.
        </Text>
      )}
      {q.data?.items.map((t) =>
        editing === t.id ? (
          <TaskForm key={t.id} policyId={policyId} task={t} onDone={() => setEditing(null)} />
        ) : (
          <Group key={t.id} gap="xs" wrap="wrap">
            <Text fz="sm">{t.name}</Text>
            <Badge variant="light" size="sm" ff="monospace">
              {t.cron}
            </Badge>
            <Text fz="xs" c="dimmed">
              {t.interpreter} · timeout {t.timeoutSeconds}s · {t.severity}
              {t.runMissed ? " · catches up missed runs" : ""}
              {t.enabled ? "" : " · disabled"}
            </Text>
            <Button size="compact-xs" variant="default" onClick={() => setEditing(t.id)}>
              Edit
            </Button>
            <Button
              size="compact-xs"
              variant="subtle"
              color="red"
              loading={remove.isPending && remove.variables === t.id}
              onClick={() => {
                if (window.confirm(`Delete the task "${t.name}"? Its open alerts resolve.`))
                  remove.mutate(t.id);
              }}
            >
              Delete
            </Button>
          </Group>
        ),
      )}
      {remove.isError && (
        <Text fz="sm" c="red.8" role="alert">
          Could not delete the task: {remove.error.message}
        </Text>
      )}
      {editing === "new" ? (
        <TaskForm policyId={policyId} onDone={() => setEditing(null)} />
      ) : (
        <Group>
          <Button size="xs" variant="default" onClick={() => setEditing("new")}>
            Add a scheduled task
          </Button>
        </Group>
      )}
    </Stack>
  );
}
