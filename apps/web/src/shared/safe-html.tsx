import { Typography } from "@mantine/core";
import { useEffect, useRef } from "react";

// Rich text (knowledge-base articles, document notes) as the console and the portal show it. The server
// sanitised it when it was saved; this is the second wall, in the browser: the HTML is parsed inert
// (a <template> runs nothing) and only an allowlist of elements and attributes is copied into the page,
// with links and images limited to safe schemes. Used by both apps (it imports nothing of either).

const TAGS = new Set(
  "h1 h2 h3 h4 p br hr strong b em i u s code pre blockquote ul ol li a img table thead tbody tr th td span div".split(
    " ",
  ),
);
const ATTRS: Record<string, string[]> = {
  a: ["href", "title"],
  img: ["src", "alt", "title", "width", "height"],
  code: ["class"],
  pre: ["class"],
  th: ["colspan", "rowspan"],
  td: ["colspan", "rowspan"],
};
const SAFE_URL = /^(https?:|mailto:|\/api\/v1\/)/i;

function clean(node: Node, doc: Document): Node | null {
  if (node.nodeType === Node.TEXT_NODE) return doc.createTextNode(node.textContent ?? "");
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const el = node as Element;
  const tag = el.tagName.toLowerCase();
  if (!TAGS.has(tag)) {
    // Unknown wrappers keep their text; script, style and the like are dropped whole.
    if (["script", "style", "iframe", "object", "embed", "template", "svg", "math"].includes(tag))
      return null;
    const frag = doc.createDocumentFragment();
    for (const c of el.childNodes) {
      const k = clean(c, doc);
      if (k) frag.appendChild(k);
    }
    return frag;
  }
  const out = doc.createElement(tag);
  for (const name of ATTRS[tag] ?? []) {
    const v = el.getAttribute(name);
    if (v === null) continue;
    if ((name === "href" || name === "src") && !SAFE_URL.test(v.trim())) continue;
    out.setAttribute(name, v);
  }
  if (tag === "a") {
    out.setAttribute("rel", "noopener noreferrer nofollow");
    out.setAttribute("target", "_blank");
  }
  for (const c of el.childNodes) {
    const k = clean(c, doc);
    if (k) out.appendChild(k);
  }
  return out;
}

/** The allowed part of `html` as nodes of this document (parsed inert, nothing of it runs). */
export function safeNodes(html: string): Node[] {
  const t = document.createElement("template");
  t.innerHTML = html;
  return [...t.content.childNodes].map((n) => clean(n, document)).filter((n): n is Node => n !== null);
}

export function SafeHtml({ html }: { html: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(...safeNodes(html));
  }, [html]);
  return (
    <Typography>
      <div ref={ref} />
    </Typography>
  );
}
