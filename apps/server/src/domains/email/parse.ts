import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { type AddressObject, type HeaderValue, type ParsedMail, simpleParser } from "mailparser";
import sanitizeHtml from "sanitize-html";
import { safeFileName } from "../../lib/filename.ts";

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  /** SHA-256 of `content`, hex (computed by the parser as the bytes stream by). */
  sha256: string;
  /** Content-ID without brackets, for `cid:` links in the HTML. */
  cid: string | null;
  inline: boolean;
}

export interface ParsedEmail {
  /** Without angle brackets; null when the message has none. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: { address: string; name: string } | null;
  to: string[];
  cc: string[];
  date: Date | null;
  /** The plain-text body (the text part, or text derived from the HTML). Quoted history kept. */
  text: string;
  /** Sanitized HTML: no script, no remote loads (only cid: and data: images). */
  html: string | null;
  attachments: ParsedAttachment[];
  /** Why this is machine-sent (auto-reply, bounce, bulk), or null for a person's mail. */
  autoReply: string | null;
  /** Hash of what survives transport (not Received/Delivered-To), so SMTP and IMAP copies agree. */
  contentHash: string;
  /** A delivery failure notice (RFC 3464): which of our messages failed, for whom and why. */
  bounce: Bounce | null;
}

export interface Bounce {
  /** The Message-ID of the message that could not be delivered (from the returned headers). */
  messageId: string | null;
  recipient: string | null;
  /** RFC 3463 status, "5.1.1". */
  status: string | null;
  /** One line for the technician: the remote server's diagnostic, else the status. */
  reason: string;
}

export class UnparseableEmailError extends Error {}

const MAX_SUBJECT = 500;
const MAX_TEXT = 100_000;

/** Message-IDs compare without brackets or surrounding whitespace; they are case-sensitive by RFC 5322. */
export function normalizeMessageId(value: string | undefined | null): string | null {
  if (!value) return null;
  const m = /<([^<>\s]+)>/.exec(value);
  const id = (m?.[1] ?? value).trim();
  return id && id.length <= 998 && !/\s/.test(id) ? id : null;
}

function idList(value: HeaderValue | undefined): string[] {
  if (!value) return [];
  const raw = Array.isArray(value) ? value.join(" ") : String(value);
  const out: string[] = [];
  for (const m of raw.matchAll(/<([^<>\s]+)>/g)) if (m[1]) out.push(m[1]);
  if (out.length === 0) for (const part of raw.split(/\s+/)) if (part) out.push(part);
  return [...new Set(out)].slice(-50);
}

function addresses(
  value: AddressObject | AddressObject[] | undefined,
): Array<{ address: string; name: string }> {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: Array<{ address: string; name: string }> = [];
  const walk = (items: AddressObject["value"]) => {
    for (const a of items) {
      if (a.group) walk(a.group);
      else if (a.address?.includes("@")) out.push({ address: a.address.toLowerCase(), name: a.name ?? "" });
    }
  };
  for (const o of list) walk(o.value);
  return out;
}

const header = (mail: ParsedMail, name: string) => {
  const v = mail.headers.get(name);
  return v === undefined || v === null
    ? ""
    : typeof v === "object" && "value" in v
      ? String(v.value)
      : String(v);
};

const AUTO_SUBJECT =
  /^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheitsnotiz|r[ée]ponse automatique|autosvar|automatische antwort|away from (my|the) (desk|office)|on vacation|undeliverable|undelivered mail|delivery status notification|mail delivery (failed|subsystem)|returned mail)/i;

/**
 * Why a message was sent by a machine (RFC 3834 Auto-Submitted, the vendor headers, Precedence, bounce
 * reports, out-of-office subjects). Such mail is recorded but never answered: answering is how loops start.
 */
export function detectAutoReply(mail: ParsedMail, envelopeFrom?: string | null): string | null {
  const auto = header(mail, "auto-submitted").toLowerCase();
  if (auto && auto !== "no") return `auto-submitted: ${auto}`;
  if (mail.headers.has("x-autoreply") || mail.headers.has("x-autorespond")) return "x-autoreply";
  const suppress = header(mail, "x-auto-response-suppress").toLowerCase();
  if (/\b(all|oof|autoreply)\b/.test(suppress)) return `x-auto-response-suppress: ${suppress}`;
  const precedence = header(mail, "precedence").toLowerCase();
  if (["bulk", "junk", "list", "auto_reply"].includes(precedence)) return `precedence: ${precedence}`;
  const ctype = header(mail, "content-type").toLowerCase();
  if (ctype.includes("multipart/report")) return "bounce: delivery report";
  const from = addresses(mail.from)[0]?.address ?? "";
  if (/^(mailer-daemon|postmaster)@/i.test(from)) return "bounce: mailer-daemon";
  if (envelopeFrom === "") return "bounce: null sender";
  if (AUTO_SUBJECT.test(mail.subject ?? "")) return "subject";
  return null;
}

/**
 * A strict allow-list: formatting, lists, tables, links and embedded raster images, nothing else. Tags
 * whose content a browser parses differently from htmlparser2 (noscript, style, svg, math, template,
 * textarea, iframe...) are dropped WITH their content: markup hidden there (or in an attribute) is how
 * mutation XSS turns live on a second parse. Any attribute value holding `<` or `>` is dropped for the
 * same reason. The console still renders the result only inside a sandboxed frame (no scripts, no
 * same-origin), so a sanitiser bug alone cannot run script in the console.
 */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    ...["p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small"],
    ...["font", "center", "blockquote", "pre", "code", "hr", "h1", "h2", "h3", "h4", "h5", "h6"],
    ...["ul", "ol", "li", "dl", "dt", "dd", "a", "img", "abbr", "address", "cite", "q"],
    ...["table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"],
  ],
  allowedAttributes: {
    a: ["href", "name", "title"],
    img: ["src", "alt", "width", "height", "title"],
    "*": ["style", "align", "dir", "lang", "title", "colspan", "rowspan"],
    font: ["color", "face", "size"],
  },
  nonTextTags: [
    ...["style", "script", "textarea", "option", "noscript", "title", "xmp", "iframe", "noembed"],
    ...["noframes", "template", "svg", "math", "object", "embed", "plaintext", "head"],
  ],
  // Remote images are tracking pixels until the technician consents; only embedded ones load.
  allowedSchemesByTag: { img: ["cid", "data"] },
  allowedSchemes: ["http", "https", "mailto", "tel"],
  allowedStyles: {
    "*": {
      color: [/^[#a-z0-9(),.\s%]+$/i],
      "background-color": [/^[#a-z0-9(),.\s%]+$/i],
      "text-align": [/^(left|right|center|justify)$/],
      "font-weight": [/^(bold|normal|\d{3})$/],
      "font-style": [/^(italic|normal)$/],
    },
  },
  transformTags: {
    "*": (tagName, attribs) => ({ tagName, attribs: withoutMarkup(attribs) }),
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...withoutMarkup(attribs), rel: "noopener noreferrer nofollow", target: "_blank" },
    }),
    img: (tagName, attribs) => {
      const a = withoutMarkup(attribs);
      // data: images only as raster types: an SVG is a document that can carry script.
      if (a.src?.trim().toLowerCase().startsWith("data:") && !SAFE_DATA_IMAGE.test(a.src.trim()))
        delete a.src;
      return { tagName, attribs: a };
    },
  },
};

const SAFE_DATA_IMAGE = /^data:image\/(png|jpeg|jpg|gif|webp|bmp);base64,[a-z0-9+/=\s]*$/i;

function withoutMarkup(attribs: Record<string, string>) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attribs)) if (!/[<>]/.test(v)) out[k] = v;
  return out;
}

export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}

/** A calendar invite reads as one line in the timeline rather than as an opaque .ics attachment. */
function describeCalendar(ics: string): string | null {
  const field = (name: string) => new RegExp(`^${name}[^:\\r\\n]*:(.*)$`, "mi").exec(ics)?.[1]?.trim() ?? "";
  const summary = field("SUMMARY");
  if (!summary && !field("DTSTART")) return null;
  const method = field("METHOD").toLowerCase();
  const what = method === "cancel" ? "Cancelled meeting" : "Meeting invitation";
  return `${what}: ${summary || "(no title)"} (${field("DTSTART") || "no start"})`;
}

/**
 * Text for an HTML part mailparser gave none for (HTML inside multipart/related without a text part):
 * block ends become line breaks so quoted history and signatures still sit on lines of their own.
 */
function htmlText(html: string) {
  const marked = html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|tr|table|blockquote|pre)\s*>/gi, "$&\n")
    .replace(/<blockquote[^>]*>/gi, "$&\n");
  return sanitizeHtml(marked, { allowedTags: [], allowedAttributes: {} })
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/[ \t]+\n/g, "\n");
}

function collapse(text: string) {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/\n{4,}/g, "\n\n\n")
    .trim();
}

const CHUNK = 64 * 1024;

/**
 * A large message fed to the parser in 64 KB pieces: given one big buffer, its base64 decoder makes
 * strings the size of the whole attachment, which V8 allocates straight into the old generation. In
 * pieces they die young: about 40 % fewer full garbage collections and 10 % less CPU per 1 MB
 * attachment (measured on the benchmark's corpus message).
 */
function chunked(raw: Buffer) {
  return Readable.from(
    (function* () {
      for (let i = 0; i < raw.length; i += CHUNK) yield raw.subarray(i, i + CHUNK);
    })(),
    { objectMode: false },
  );
}

export async function parseEmail(raw: Buffer, envelopeFrom?: string | null): Promise<ParsedEmail> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw.length > CHUNK ? chunked(raw) : raw, {
      keepCidLinks: true,
      // The attachment digests we need anyway (blob keys, the content hash), instead of an MD5 we don't.
      checksumAlgo: "sha256",
      skipTextToHtml: true,
      maxHtmlLengthToParse: 5_000_000,
    });
  } catch (err) {
    throw new UnparseableEmailError(`cannot parse: ${(err as Error).message}`);
  }
  if (mail.headerLines.length === 0) throw new UnparseableEmailError("no headers");
  const from = addresses(mail.from)[0] ?? addresses(mail.replyTo)[0] ?? null;
  if (!from) throw new UnparseableEmailError("no sender address in From");

  const html = mail.html ? sanitizeEmailHtml(mail.html).replace(/\0/g, "") : null;
  const notes: string[] = [];
  const attachments: ParsedAttachment[] = [];
  for (const a of mail.attachments) {
    const type = (a.contentType || "application/octet-stream").toLowerCase();
    if (type === "text/calendar") {
      const line = describeCalendar(a.content.toString("utf8"));
      if (line) notes.push(line);
    }
    if (type === "message/rfc822") notes.push(`Forwarded message attached: ${a.filename ?? "message.eml"}`);
    attachments.push({
      // Path parts, control, bidi and zero-width characters, overlong names: made harmless (the message
      // is processed either way; a NUL in a name once kept it from being stored at all).
      filename: safeFileName(a.filename, defaultName(type)),
      contentType: type,
      content: a.content,
      sha256: a.checksum || createHash("sha256").update(a.content).digest("hex"),
      cid: a.cid ?? null,
      inline: a.related === true || a.contentDisposition === "inline",
    });
  }
  const bodyText = collapse(mail.text ?? (html ? htmlText(html) : ""));
  // PostgreSQL text cannot hold NUL; a stray one in a body must not stop the message.
  const text = [notes.join("\n"), bodyText]
    .filter(Boolean)
    .join("\n\n")
    .replace(/\0/g, "")
    .slice(0, MAX_TEXT);

  const messageId = normalizeMessageId(mail.messageId);
  // mailparser substitutes "now" for a Date it cannot read; we want null, and a hash that is stable.
  const rawDate =
    mail.headerLines
      .find((l) => l.key === "date")
      ?.line.replace(/^date:\s*/i, "")
      .trim() ?? "";
  const dateMs = rawDate ? Date.parse(rawDate) : Number.NaN;
  const subject = (mail.subject ?? "")
    .replace(/[\s\0]+/g, " ")
    .trim()
    .slice(0, MAX_SUBJECT);
  const autoReply = detectAutoReply(mail, envelopeFrom);
  const hash = createHash("sha256");
  for (const part of [messageId ?? "", rawDate, from.address, subject, mail.text ?? "", mail.html || ""]) {
    hash.update(part).update("\0");
  }
  for (const a of attachments) hash.update(a.sha256);

  return {
    messageId,
    inReplyTo: normalizeMessageId(idList(mail.headers.get("in-reply-to"))[0]),
    references: idList(mail.headers.get("references")),
    subject,
    from,
    to: addresses(mail.to).map((a) => a.address),
    cc: addresses(mail.cc).map((a) => a.address),
    date: Number.isNaN(dateMs) ? null : new Date(dateMs),
    text,
    html,
    attachments,
    autoReply,
    contentHash: hash.digest("hex"),
    bounce: autoReply?.startsWith("bounce") ? parseBounce(raw) : null,
  };
}

/** A header field of a delivery-status block, unfolded ("Diagnostic-Code: smtp; 550 5.1.1 ..."). */
function dsnField(block: string, name: string) {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t]+.*)*)`, "im").exec(block);
  return m?.[1]?.replace(/\s+/g, " ").trim() || null;
}

/**
 * Reads a bounce from the raw message rather than the parsed parts: the delivery-status fields and the
 * returned original's headers are plain text in every report we have seen (RFC 3464 requires 7-bit),
 * and the original's Message-ID is the first one after the report's own header.
 */
export function parseBounce(raw: Buffer): Bounce | null {
  const text = raw.toString("latin1");
  const bodyStart = text.search(/\r?\n\r?\n/);
  if (bodyStart < 0) return null;
  const body = text.slice(bodyStart);
  const messageId = normalizeMessageId(/^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(body)?.[1]);
  const recipient =
    dsnField(body, "Final-Recipient")
      ?.replace(/^rfc822;\s*/i, "")
      .toLowerCase() ?? null;
  const status = /^Status:[ \t]*(\d\.\d{1,3}\.\d{1,3})/im.exec(body)?.[1] ?? null;
  const diagnostic = dsnField(body, "Diagnostic-Code")?.replace(/^smtp;\s*/i, "") ?? null;
  if (!messageId && !recipient && !status) return null;
  const reason = (diagnostic ?? (status ? `delivery failed (status ${status})` : "delivery failed")).slice(
    0,
    500,
  );
  return { messageId, recipient, status, reason: recipient ? `${recipient}: ${reason}` : reason };
}

function defaultName(type: string) {
  if (type === "message/rfc822") return "forwarded.eml";
  if (type === "text/calendar") return "invite.ics";
  if (type === "text/rfc822-headers") return "returned-headers.txt";
  const sub = type.split("/")[1]?.replace(/[^a-z0-9]/g, "") ?? "";
  return `attachment.${sub && sub.length <= 5 ? sub : "bin"}`;
}

const QUOTE_START =
  /^(On .{4,200} wrote:|Am .{4,200} schrieb .{0,200}:|Le .{4,200} a écrit :|-{2,} ?Original Message ?-{2,}|-{5,} ?Forwarded message|From: .+|_{10,})\s*$/im;

/**
 * Splits a body into what the sender wrote and what they quoted or signed, so the view can fold the
 * rest; nothing is removed from storage.
 */
export function splitQuoted(text: string): { main: string; folded: string } {
  const lines = text.split("\n");
  let cut = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line === "-- " || line === "--" || QUOTE_START.test(line)) {
      cut = i;
      break;
    }
    if (line.startsWith(">") && lines.slice(i).every((l) => l.startsWith(">") || l.trim() === "")) {
      cut = i;
      break;
    }
  }
  return { main: lines.slice(0, cut).join("\n").trimEnd(), folded: lines.slice(cut).join("\n").trim() };
}
