import sanitizeHtml from "sanitize-html";

// Rich text written in the console (knowledge-base articles, document notes) and shown in the console
// and the portal: sanitised when saved, so what is stored is safe wherever it is rendered. No script,
// no styles, no event handlers (no attribute but those listed), links only http(s)/mailto, images only
// our own files (`/api/v1/<area>/files/<uuid>`) or https.

const OWN_FILE = /^\/api\/v1\/(kb|documents)\/files\/[0-9a-f-]{36}$/i;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "br",
    "hr",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "div",
  ],
  allowedAttributes: {
    a: ["href", "title", "rel", "target"],
    img: ["src", "alt", "title", "width", "height"],
    code: ["class"],
    pre: ["class"],
    th: ["colspan", "rowspan"],
    td: ["colspan", "rowspan"],
  },
  allowedClasses: { code: [/^language-[a-z0-9+#-]{1,30}$/], pre: [/^language-[a-z0-9+#-]{1,30}$/] },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: { img: ["https"] },
  allowProtocolRelative: false,
  transformTags: {
    a: sanitizeHtml.simpleTransform("a", { rel: "noopener noreferrer nofollow", target: "_blank" }),
  },
  // An image is either one of our files or an https URL; anything else (a relative path elsewhere in the
  // API, a data: URL) is dropped.
  exclusiveFilter: (frame) =>
    frame.tag === "img" &&
    !(OWN_FILE.test(frame.attribs.src ?? "") || /^https:\/\//i.test(frame.attribs.src ?? "")),
};

export function sanitizeRichText(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: " " };

/** The text of sanitised HTML with its paragraph breaks: for search and for pasting into a reply. */
export function richTextToPlain(html: string): string {
  const marked = html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|pre|tr|blockquote|table)>/gi, "\n")
    .replace(/<li[^>]*>/gi, "- ");
  const text = sanitizeHtml(marked, { allowedTags: [], allowedAttributes: {} });
  return text
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_m, e: string) => ENTITIES[e] ?? "")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Plain text (a ticket's description) as HTML paragraphs, escaped. */
export function plainToRichText(text: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${esc(p).replace(/\n/g, "<br>")}</p>`)
    .join("\n");
}
