import { useQuery } from "@tanstack/react-query";
import { get } from "./client.ts";
import { keys } from "./keys.ts";
import type {
  ClientDto,
  CommandHistory,
  ContactDto,
  DeviceDetail,
  DeviceDto,
  EnrollmentTokenDto,
  MeDto,
  Page,
  SavedViewDto,
  SiteDto,
  StatusDto,
  TeamDto,
  TicketListQuery,
  TicketSummaryDto,
  UserDto,
} from "./types.ts";

const HOUR = 3600_000;

export const useMe = () =>
  useQuery({ queryKey: keys.me, queryFn: () => get<MeDto>("/auth/me"), retry: false });

export const useStatuses = () =>
  useQuery({ queryKey: keys.statuses, queryFn: () => get<StatusDto[]>("/statuses"), staleTime: HOUR });

/** Directory lists may answer either a bare array or a page; the console only needs the items. */
const items = <T>(r: T[] | Page<T>): T[] => (Array.isArray(r) ? r : r.items);

export const useUsers = () =>
  useQuery({
    queryKey: keys.users,
    queryFn: async () => items(await get<UserDto[] | Page<UserDto>>("/users", { limit: 200 })),
    staleTime: 5 * 60_000,
  });

export const useTeams = () =>
  useQuery({
    queryKey: keys.teams,
    queryFn: async () => items(await get<TeamDto[] | Page<TeamDto>>("/teams", { limit: 200 })),
    staleTime: 5 * 60_000,
  });

export const useClients = (q = "") =>
  useQuery({
    queryKey: keys.clients(q),
    queryFn: async () => items(await get<ClientDto[] | Page<ClientDto>>("/clients", { q, limit: 100 })),
    staleTime: 60_000,
  });

export const useSites = (clientId: string | null) =>
  useQuery({
    queryKey: keys.sites(clientId ?? ""),
    queryFn: async () => items(await get<SiteDto[] | Page<SiteDto>>(`/clients/${clientId}/sites`)),
    enabled: !!clientId,
  });

export const useContacts = (q: string, extra: Record<string, string> = {}) =>
  useQuery({
    queryKey: [...keys.contacts(q), extra],
    queryFn: async () =>
      items(await get<ContactDto[] | Page<ContactDto>>("/contacts", { q, limit: 50, ...extra })),
    staleTime: 30_000,
  });

export const useViews = () =>
  useQuery({ queryKey: keys.views, queryFn: () => get<SavedViewDto[]>("/views"), staleTime: 60_000 });

export function useTicketList(q: TicketListQuery, opts: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: keys.ticketList(q),
    queryFn: ({ signal }) =>
      get<Page<TicketSummaryDto>>("/tickets", q as Record<string, string | string[] | undefined>, signal),
    enabled: opts.enabled ?? true,
    placeholderData: (prev) => prev,
  });
}

export interface DeviceListQuery {
  clientId?: string;
  siteId?: string;
  status?: "online" | "offline" | "retired";
  limit?: number;
  cursor?: string;
}

// Presence changes without a live event the console listens to, so device views refresh on a timer.
const DEVICE_REFRESH_MS = 30_000;

export const useDevices = (q: DeviceListQuery, opts: { enabled?: boolean } = {}) =>
  useQuery({
    queryKey: keys.deviceList(q),
    queryFn: ({ signal }) => get<Page<DeviceDto>>("/devices", { ...q }, signal),
    enabled: opts.enabled ?? true,
    placeholderData: (prev) => prev,
    refetchInterval: DEVICE_REFRESH_MS,
  });

export const useDevice = (id: string) =>
  useQuery({
    queryKey: keys.device(id),
    queryFn: ({ signal }) => get<DeviceDetail>(`/devices/${id}`, undefined, signal),
    refetchInterval: DEVICE_REFRESH_MS,
  });

const UNFINISHED = new Set(["queued", "sent", "running"]);
export const isUnfinished = (status: string) => UNFINISHED.has(status);

/** Command history; polled quickly while a command is on its way or running, slowly while one waits queued. */
export const useDeviceCommands = (id: string) =>
  useQuery({
    queryKey: keys.deviceCommands(id),
    queryFn: ({ signal }) => get<CommandHistory>(`/devices/${id}/commands`, { limit: 50 }, signal),
    refetchInterval: (query) => {
      const items = query.state.data?.items ?? [];
      if (items.some((c) => c.status === "sent" || c.status === "running")) return 1500;
      if (items.some((c) => c.status === "queued")) return 10_000;
      return false;
    },
  });

/** Enrollment tokens of one client (admins only); the list never carries the tokens themselves. */
export const useEnrollmentTokens = (clientId: string | null) =>
  useQuery({
    queryKey: keys.enrollmentTokens(clientId ?? ""),
    queryFn: ({ signal }) =>
      get<{ items: EnrollmentTokenDto[] }>("/enrollment-tokens", { clientId: clientId ?? undefined }, signal),
    enabled: !!clientId,
  });
