/**
 * Rendering of message text into DOM nodes, safely.
 *
 * Bot and patient text is only ever inserted as text nodes, never as HTML.
 * A line starting with "- " or "* " becomes a list item; `[title](url)` and
 * bare http(s) addresses become links only when their host is in the
 * allow-list, and stay plain text otherwise.
 */

export const MAX_LENGTH = 1000;

const LINK = /\[([^\]\n]+)\]\((\S+?)\)|(https?:\/\/[^\s<>"'«»]+[^\s<>"'«».,;:!?)])/g;

/** The URL if it is http(s) and its host is an allowed host or one of its subdomains, else null. */
export function allowedUrl(href, allowedHosts) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password) return null;
  const host = url.hostname.toLowerCase();
  const ok = (allowedHosts || []).some((allowed) => {
    const a = String(allowed).toLowerCase().replace(/^\.+/, "");
    return a !== "" && (host === a || host.endsWith("." + a));
  });
  return ok ? url : null;
}

function appendInline(doc, parent, text, allowedHosts) {
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const [whole, title, markdownHref, bareHref] = match;
    if (match.index > last) parent.appendChild(doc.createTextNode(text.slice(last, match.index)));
    const url = allowedUrl(markdownHref || bareHref, allowedHosts);
    if (url) {
      const a = doc.createElement("a");
      a.href = url.href;
      a.textContent = title || bareHref;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.appendChild(a);
    } else {
      // Not allowed: the text stays readable, the address is shown but never clickable.
      parent.appendChild(doc.createTextNode(title ? `${title} (${markdownHref})` : whole));
    }
    last = match.index + whole.length;
  }
  if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)));
}

/** French typography: a no-break space before ? ! ; : and », so they never start a line. */
export function frenchSpacing(text) {
  return text.replace(/ ([?!;:»])/g, "\u00a0$1").replace(/« /g, "«\u00a0");
}

/** A fragment of paragraphs and lists for a message's text. */
export function renderText(doc, text, allowedHosts) {
  const fragment = doc.createDocumentFragment();
  let list = null;
  for (const raw of String(text ?? "").split("\n")) {
    const line = frenchSpacing(raw.trim());
    if (!line) {
      list = null;
      continue;
    }
    const item = /^[-*•]\s+(.*)$/.exec(line);
    if (item) {
      if (!list) {
        list = doc.createElement("ul");
        fragment.appendChild(list);
      }
      const li = doc.createElement("li");
      appendInline(doc, li, item[1], allowedHosts);
      list.appendChild(li);
    } else {
      list = null;
      const p = doc.createElement("p");
      appendInline(doc, p, line, allowedHosts);
      fragment.appendChild(p);
    }
  }
  return fragment;
}

/** Whether a patient's message is too long to be sent (counted in characters, not UTF-16 units). */
export function isTooLong(text, max = MAX_LENGTH) {
  return [...String(text)].length > max;
}

export function characterCount(text) {
  return [...String(text)].length;
}

// WCAG 2.1 relative luminance and contrast ratio.
function channel(c) {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

export function parseColor(value) {
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
  if (!hex) return null;
  let h = hex[1];
  if (h.length === 3) h = [...h].map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

export function toHex(rgb) {
  return "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

export function luminance(rgb) {
  const [r, g, b] = rgb.map(channel);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}

/**
 * The hospital's colour made usable on a white page: darkened until text in
 * it (and white text on it) reaches `ratio`; an unreadable colour falls back
 * to the default.
 */
export function accessibleColor(value, fallback = "#00457c", ratio = 4.5) {
  let rgb = parseColor(value) || parseColor(fallback);
  const white = [255, 255, 255];
  for (let i = 0; i < 40 && contrast(rgb, white) < ratio; i++) {
    rgb = rgb.map((c) => c * 0.92);
  }
  return toHex(rgb);
}

/** "22:05" in the patient's locale. */
export function clockTime(date, lang = "fr") {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "fr-FR", { hour: "2-digit", minute: "2-digit" }).format(date);
}
