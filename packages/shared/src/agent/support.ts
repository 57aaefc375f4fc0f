import { z } from "zod";
import { EnrollRequest, EnrollResponse } from "./protocol.ts";

/**
 * `switchboard-agent support --server URL --code CODE`: the one-time support agent enrolls with the code
 * the caller got in an attended support session (instead of an enrollment token) as a temporary device
 * of the ticket's client, bound to that session.
 */
export const SUPPORT_CODE_PATTERN = /^[0-9A-HJKMNP-TV-Z]{5}-?[0-9A-HJKMNP-TV-Z]{5}$/;
export const SupportEnrollRequest = EnrollRequest.omit({ token: true }).extend({
  code: z
    .string()
    .trim()
    .toUpperCase()
    .regex(SUPPORT_CODE_PATTERN, { error: "must be the code shown on the support page (XXXXX-XXXXX)" }),
});
export type SupportEnrollRequest = z.infer<typeof SupportEnrollRequest>;
export const SupportEnrollResponse = EnrollResponse.extend({
  supportSessionId: z.uuid(),
  mspName: z.string(),
  technicianName: z.string(),
  ticketNumber: z.number().int(),
});
export type SupportEnrollResponse = z.infer<typeof SupportEnrollResponse>;
