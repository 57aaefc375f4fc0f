import type {
  BulkUpdateRequest,
  CommandPage as CommandPageSchema,
  CreatedEnrollmentTokenDto as CreatedEnrollmentTokenSchema,
  DeviceDetailDto as DeviceDetailSchema,
  EnrollmentTokenDto as EnrollmentTokenSchema,
  SearchResultDto as SearchResultSchema,
  SetupStatus as SetupStatusSchema,
  TicketWithTimelineDto as TicketWithTimelineSchema,
} from "@switchboard/shared";
import type { z } from "zod";

// Types only: importing values from @switchboard/shared would pull zod into the bundle.
export type {
  ChangedTicketDto,
  ChangesDto,
  ClientDto,
  CommandDto,
  CommandStatus,
  ContactDto,
  CreateCommandRequest,
  CreateEnrollmentTokenRequest,
  CreateTicketRequest,
  DeviceDto,
  Inventory,
  LiveEvent,
  MeDto,
  NotificationPreferencesDto,
  PresenceSignal,
  PresenceState,
  ReplyRouteDto,
  SavedViewDto,
  SiteDto,
  SnippetDto,
  StatusCategory,
  StatusDto,
  TeamDto,
  TicketDto,
  TicketListQuery,
  TicketSummaryDto,
  TimelineEntryDto,
  UpdateTicketRequest,
  UserDto,
} from "@switchboard/shared";

export type SetupStatus = z.infer<typeof SetupStatusSchema>;
export type SearchResult = z.infer<typeof SearchResultSchema>;
export type TicketWithTimeline = z.infer<typeof TicketWithTimelineSchema>;
export type BulkUpdate = z.input<typeof BulkUpdateRequest>;
export type DeviceDetail = z.infer<typeof DeviceDetailSchema>;
export type CommandHistory = z.infer<typeof CommandPageSchema>;
export type EnrollmentTokenDto = z.infer<typeof EnrollmentTokenSchema>;
/** Carries the token itself: it exists only in this one reply. */
export type CreatedEnrollmentToken = z.infer<typeof CreatedEnrollmentTokenSchema>;
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
