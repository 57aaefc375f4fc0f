import type {
  AlertDto,
  ClientHealthDto,
  CreateMaintenanceRequest,
  CreateMaintenanceSeries,
  CreatePolicyRequest,
  CreateTaskRequest,
  DeviceMonitoringDto,
  DevicePatchStatusDto,
  MaintenanceDto,
  MaintenanceSeriesDto,
  MetricPoint,
  PatchInstallRunDto,
  PatchSettingsDto,
  PolicyDto,
  TaskDto,
  TaskRunDto,
  TicketRuleDto,
} from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";
import { api, get } from "../../api/client.ts";

// Types only from @switchboard/shared (values would pull zod into the bundle).
export type {
  AlertDto,
  ClientHealthDto,
  DeviceMonitoringDto,
  DevicePatchStatusDto,
  MaintenanceDto,
  MaintenanceSeriesDto,
  MetricPoint,
  PatchInstallRunDto,
  PatchSettingsDto,
  PolicyDto,
  TicketRuleDto,
};
export type CreatePolicy = CreatePolicyRequest;
export type CreateMaintenance = z.input<typeof CreateMaintenanceRequest>;

/** Every monitoring query sits under this key: a monitoring event refetches them all. */
export const monitoringKeys = {
  all: ["monitoring"] as const,
  alerts: (q: object) => ["monitoring", "alerts", q] as const,
  alert: (id: string) => ["monitoring", "alert", id] as const,
  device: (id: string) => ["monitoring", "device", id] as const,
  metrics: (id: string) => ["monitoring", "metrics", id] as const,
  ticket: (id: string) => ["monitoring", "ticket", id] as const,
  policies: ["monitoring", "policies"] as const,
  maintenance: ["monitoring", "maintenance"] as const,
  rules: ["monitoring", "ticket-rules"] as const,
  tasks: (policyId: string) => ["monitoring", "tasks", policyId] as const,
  taskRuns: (deviceId: string) => ["monitoring", "task-runs", deviceId] as const,
};

export interface AlertQuery {
  state?: "open" | "resolved" | "all";
  clientId?: string;
  siteId?: string;
  severity?: string;
  deviceId?: string;
}

export const useAlerts = (q: AlertQuery) =>
  useQuery({
    queryKey: monitoringKeys.alerts(q),
    queryFn: ({ signal }) => get<{ items: AlertDto[] }>("/alerts", { ...q }, signal),
  });

export const useDeviceMonitoring = (deviceId: string) =>
  useQuery({
    queryKey: monitoringKeys.device(deviceId),
    queryFn: ({ signal }) => get<DeviceMonitoringDto>(`/devices/${deviceId}/monitoring`, undefined, signal),
  });

export const useTicketAlerts = (ticketId: string | undefined) =>
  useQuery({
    queryKey: monitoringKeys.ticket(ticketId ?? ""),
    queryFn: ({ signal }) => get<{ items: AlertDto[] }>(`/tickets/${ticketId}/alerts`, undefined, signal),
    enabled: !!ticketId,
  });

export const usePolicies = () =>
  useQuery({
    queryKey: monitoringKeys.policies,
    queryFn: ({ signal }) => get<{ items: PolicyDto[] }>("/monitoring/policies", undefined, signal),
  });

export const useMaintenance = () =>
  useQuery({
    queryKey: monitoringKeys.maintenance,
    queryFn: ({ signal }) =>
      get<{ items: MaintenanceDto[]; series: MaintenanceSeriesDto[] }>(
        "/monitoring/maintenance",
        undefined,
        signal,
      ),
  });

export type AlertAction =
  | { action: "acknowledge" }
  | { action: "snooze"; minutes: number }
  | { action: "resolve"; note?: string }
  | { action: "restart-service" }
  | { action: "remediate" };

/** Acknowledge, snooze, resolve or restart the service from an alert; every monitoring view refreshes. */
export function useAlertAction(alert: AlertDto) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (a: AlertAction) => {
      const { action, ...rest } = a;
      const body =
        action === "restart-service" || action === "remediate" ? {} : { version: alert.version, ...rest };
      return api<AlertDto>("POST", `/alerts/${alert.id}/${action}`, { body });
    },
    onSettled: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

/** Creates a policy, or (with `id` and `version`) replaces an existing one's name, state and checks. */
export function useSavePolicy() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (p: CreatePolicy & { id?: string; version?: number }) => {
      const { id, version, clientId: _c, siteId: _s, deviceId: _d, tag: _t, ...rest } = p;
      return id
        ? api<PolicyDto>("PUT", `/monitoring/policies/${id}`, {
            body: { ...rest, enabled: rest.enabled ?? true, version },
          })
        : api<PolicyDto>("POST", "/monitoring/policies", { body: p });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useDeletePolicy() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>("DELETE", `/monitoring/policies/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useCreateMaintenance() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (m: CreateMaintenance) => api<MaintenanceDto>("POST", "/monitoring/maintenance", { body: m }),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useCreateMaintenanceSeries() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (m: CreateMaintenanceSeries) =>
      api<MaintenanceSeriesDto>("POST", "/monitoring/maintenance-series", { body: m }),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useDeleteMaintenanceSeries() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>("DELETE", `/monitoring/maintenance-series/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useDeleteMaintenance() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>("DELETE", `/monitoring/maintenance/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export const useTicketRules = () =>
  useQuery({
    queryKey: monitoringKeys.rules,
    queryFn: ({ signal }) => get<{ items: TicketRuleDto[] }>("/monitoring/ticket-rules", undefined, signal),
  });

/** A rule's conditions and actions as the editor sends them. */
export type TicketRuleInput = Omit<TicketRuleDto, "id" | "position" | "version" | "clientId">;

/** Adds a rule at the end of its list (`clientId`), or changes one (`id` and `version`). */
export function useSaveTicketRule() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (r: TicketRuleInput & { clientId: string | null; id?: string; version?: number }) => {
      const { id, version, clientId, ...fields } = r;
      return id
        ? api<TicketRuleDto>("PUT", `/monitoring/ticket-rules/${id}`, { body: { ...fields, version } })
        : api<TicketRuleDto>("POST", "/monitoring/ticket-rules", { body: { ...fields, clientId } });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useReorderTicketRules() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (o: { clientId: string | null; ids: string[] }) =>
      api<{ items: TicketRuleDto[] }>("POST", "/monitoring/ticket-rules/order", { body: o }),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

/** Tags in use on the devices the user sees (suggestions for tagging and for tag policies). */
export const useKnownTags = () =>
  useQuery({
    queryKey: ["monitoring", "device-tags"] as const,
    queryFn: ({ signal }) => get<{ items: string[] }>("/device-tags", undefined, signal),
  });

export function useSetDeviceTags(deviceId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (tags: string[]) =>
      api<{ deviceId: string; tags: string[] }>("PUT", `/devices/${deviceId}/tags`, { body: { tags } }),
    // The device (its tags), the lists showing them, and its checks (a tag policy may now reach it).
    onSuccess: () => qc.invalidateQueries(),
  });
}

export function useDeleteTicketRule() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>("DELETE", `/monitoring/ticket-rules/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export const useDeviceMetrics = (deviceId: string) =>
  useQuery({
    queryKey: monitoringKeys.metrics(deviceId),
    queryFn: ({ signal }) =>
      get<{ items: MetricPoint[] }>(`/devices/${deviceId}/metrics`, { hours: 48 }, signal),
  });

export type { TaskDto, TaskRunDto };
export type TaskInput = CreateTaskRequest;

export const usePolicyTasks = (policyId: string) =>
  useQuery({
    queryKey: monitoringKeys.tasks(policyId),
    queryFn: ({ signal }) =>
      get<{ items: TaskDto[] }>(`/monitoring/policies/${policyId}/tasks`, undefined, signal),
  });

/** Creates a task on the policy, or (with `id` and `version`) changes one. */
export function useSaveTask(policyId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (t: TaskInput & { id?: string; version?: number }) => {
      const { id, ...body } = t;
      return id
        ? api<TaskDto>("PUT", `/monitoring/tasks/${id}`, { body })
        : api<TaskDto>("POST", `/monitoring/policies/${policyId}/tasks`, { body });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useDeleteTask() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>("DELETE", `/monitoring/tasks/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export const useTaskRuns = (deviceId: string) =>
  useQuery({
    queryKey: monitoringKeys.taskRuns(deviceId),
    queryFn: ({ signal }) =>
      get<{ items: TaskRunDto[] }>(`/devices/${deviceId}/task-runs`, undefined, signal),
  });

/** The device's Patch section (under the monitoring key: a monitoring event refetches it too). */
export const useDevicePatch = (deviceId: string) =>
  useQuery({
    queryKey: ["monitoring", "patch", deviceId] as const,
    queryFn: ({ signal }) =>
      get<DevicePatchStatusDto>(`/devices/${deviceId}/patch-status`, undefined, signal),
  });

/** The client page's health summary: open alerts by severity and the patch rollup. */
export const useClientHealth = (clientId: string) =>
  useQuery({
    queryKey: ["monitoring", "client-health", clientId] as const,
    queryFn: ({ signal }) => get<ClientHealthDto>(`/clients/${clientId}/health`, undefined, signal),
  });

const openRun = (r: PatchInstallRunDto) => r.status === "queued" || r.status === "running";
/** A run finished this recently: its rescan is on its way, so the patch status is still polled. */
const SETTLING_MS = 30_000;
const settling = (runs: PatchInstallRunDto[] | undefined) =>
  (runs ?? []).some(
    (r) => openRun(r) || (r.finishedAt !== null && Date.now() - Date.parse(r.finishedAt) < SETTLING_MS),
  );

/**
 * The device's update installs. Live events refetch them; while one is open (and shortly after, for the
 * agent's rescan) they and the patch status are also polled, so a result never waits for a refresh.
 */
export function useDevicePatchInstalls(deviceId: string) {
  const qc = useQueryClient();
  return useQuery({
    queryKey: ["monitoring", "patch-installs", deviceId] as const,
    queryFn: async ({ signal }) => {
      const r = await get<{ items: PatchInstallRunDto[] }>(
        `/devices/${deviceId}/patch-installs`,
        undefined,
        signal,
      );
      if (settling(r.items)) void qc.invalidateQueries({ queryKey: ["monitoring", "patch", deviceId] });
      return r;
    },
    refetchInterval: (q) => (settling(q.state.data?.items) ? 3000 : false),
  });
}

export type InstallSelection = { select: "updates"; updates: string[] } | { select: "security" | "all" };

export function useInstallUpdates(deviceId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: InstallSelection) =>
      api<PatchInstallRunDto>("POST", `/devices/${deviceId}/patch-installs`, { body }),
    onSettled: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export function useRetryInstall() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) => api<PatchInstallRunDto>("POST", `/patch-installs/${runId}/retry`),
    onSettled: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}

export const usePatchSettings = (clientId: string) =>
  useQuery({
    queryKey: ["monitoring", "patch-settings", clientId] as const,
    queryFn: ({ signal }) => get<PatchSettingsDto>(`/clients/${clientId}/patch-settings`, undefined, signal),
  });

export function useSetPatchSettings(clientId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: {
      autoInstallSecurity: boolean;
      installWindow: { start: string; end: string } | null;
    }) => api<PatchSettingsDto>("PUT", `/clients/${clientId}/patch-settings`, { body }),
    onSettled: () => qc.invalidateQueries({ queryKey: monitoringKeys.all }),
  });
}
