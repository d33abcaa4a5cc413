import "./dom.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accessibleColor, allowedUrl, characterCount, contrast, isTooLong, parseColor, renderText } from "../src/render.js";

const HOSTS = ["ch-valmont.fr"];

function html(text, hosts = HOSTS) {
  const div = document.createElement("div");
  div.appendChild(renderText(document, text, hosts));
  return div;
}

describe("escaping", () => {
  it("shows a <script> in a bot answer as text and never runs it", () => {
    window.__pwned = false;
    const div = html('Bonjour <script>window.__pwned = true</script> <img src=x onerror="window.__pwned=true">');
    document.body.appendChild(div);
    assert.equal(div.querySelector("script"), null);
    assert.equal(div.querySelector("img"), null);
    assert.ok(div.textContent.includes("<script>window.__pwned = true</script>"));
    assert.ok(div.textContent.includes('<img src=x onerror="window.__pwned=true">'));
    assert.equal(window.__pwned, false);
    div.remove();
  });

  it("keeps HTML entities as typed", () => {
    assert.equal(html("5 &lt; 6 &amp; co").textContent, "5 &lt; 6 &amp; co");
  });

  it("does not turn markdown link titles into markup", () => {
    const a = html("[<b>portail</b>](https://www.ch-valmont.fr/)").querySelector("a");
    assert.equal(a.textContent, "<b>portail</b>");
    assert.equal(a.querySelector("b"), null);
  });
});

describe("links", () => {
  it("makes allowed https links clickable, opening in a new tab without opener", () => {
    const a = html("Rendez-vous sur [Mon espace patient](https://patient.ch-valmont.fr/connexion).").querySelector("a");
    assert.equal(a.href, "https://patient.ch-valmont.fr/connexion");
    assert.equal(a.textContent, "Mon espace patient");
    assert.equal(a.rel, "noopener noreferrer");
    assert.equal(a.target, "_blank");
  });

  it("links bare addresses of allowed hosts and leaves trailing punctuation out", () => {
    const div = html("Voir https://www.ch-valmont.fr/acces.");
    assert.equal(div.querySelector("a").href, "https://www.ch-valmont.fr/acces");
    assert.equal(div.textContent, "Voir https://www.ch-valmont.fr/acces.");
  });

  it("keeps addresses outside the allow-list as plain text", () => {
    const div = html("Voir https://evil.example/phish et [ici](https://ch-valmont.fr.evil.example/)");
    assert.equal(div.querySelector("a"), null);
    assert.ok(div.textContent.includes("https://evil.example/phish"));
    assert.ok(div.textContent.includes("ici (https://ch-valmont.fr.evil.example/)"));
  });

  it("refuses every scheme but http(s), and credentials in the address", () => {
    assert.equal(allowedUrl("javascript:alert(1)", HOSTS), null);
    assert.equal(allowedUrl("data:text/html,<script>1</script>", HOSTS), null);
    assert.equal(allowedUrl("ftp://ch-valmont.fr/x", HOSTS), null);
    assert.equal(allowedUrl("https://user:pw@ch-valmont.fr/", HOSTS), null);
    assert.equal(html("[clic](javascript:alert(1))").querySelector("a"), null);
  });

  it("matches the host and its subdomains only", () => {
    assert.notEqual(allowedUrl("https://ch-valmont.fr/", HOSTS), null);
    assert.notEqual(allowedUrl("http://rdv.ch-valmont.fr/", HOSTS), null);
    assert.equal(allowedUrl("https://notch-valmont.fr/", HOSTS), null);
    assert.equal(allowedUrl("https://ch-valmont.fr/", []), null);
  });
});

describe("text layout", () => {
  it("turns dash lines into a list and other lines into paragraphs", () => {
    const div = html("Apportez :\n- la carte Vitale ;\n- une pièce d'identité.\nMerci.");
    assert.deepEqual([...div.querySelectorAll("li")].map((li) => li.textContent), ["la carte Vitale\u00a0;", "une pièce d'identité."]);
    assert.deepEqual([...div.querySelectorAll("p")].map((p) => p.textContent), ["Apportez\u00a0:", "Merci."]);
  });

  it("keeps French punctuation on the line of its word", () => {
    assert.equal(html("Cette réponse vous a-t-elle aidé ? « Mon espace patient »").textContent, "Cette réponse vous a-t-elle aidé\u00a0? «\u00a0Mon espace patient\u00a0»");
  });
});

describe("length limit", () => {
  it("counts characters, not UTF-16 units, and refuses over 1,000", () => {
    assert.equal(isTooLong("a".repeat(1000)), false);
    assert.equal(isTooLong("a".repeat(1001)), true);
    assert.equal(characterCount("😀é"), 2);
    assert.equal(isTooLong("😀".repeat(1000)), false);
  });
});

describe("colours", () => {
  it("keeps a readable colour and darkens a pale one until white text on it reaches 4.5:1", () => {
    assert.equal(accessibleColor("#00457c"), "#00457c");
    const fixed = accessibleColor("#7fd3ff");
    assert.ok(contrast(parseColor(fixed), [255, 255, 255]) >= 4.5);
    assert.equal(accessibleColor("not a colour"), "#00457c");
  });
});
