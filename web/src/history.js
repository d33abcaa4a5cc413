/**
 * The conversation kept across reloads and page changes of the same site:
 * the session id (the sender id Rasa knows the patient by), whether the
 * panel was open, and the messages shown, in the tab's sessionStorage.
 */

const MAX_ENTRIES = 200;

function newSessionId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
}

export class History {
  /** `scope` keeps two assistants (two servers) embedded on one site apart. */
  constructor(storage, scope) {
    this.storage = storage;
    this.prefix = `accueil:${scope}:`;
  }

  read(key, fallback) {
    try {
      const value = this.storage.getItem(this.prefix + key);
      return value === null ? fallback : JSON.parse(value);
    } catch {
      return fallback;
    }
  }

  write(key, value) {
    try {
      this.storage.setItem(this.prefix + key, JSON.stringify(value));
    } catch {
      // Storage full or disabled (private browsing): the conversation still works, unsaved.
    }
  }

  sessionId() {
    let id = this.read("session", null);
    if (typeof id !== "string" || !/^[0-9a-f]{16,64}$/.test(id)) {
      id = newSessionId();
      this.write("session", id);
    }
    return id;
  }

  entries() {
    const entries = this.read("history", []);
    return Array.isArray(entries) ? entries : [];
  }

  add(entry) {
    const entries = this.entries();
    entries.push(entry);
    this.write("history", entries.slice(-MAX_ENTRIES));
  }

  newId() {
    const next = this.read("next", 1);
    this.write("next", next + 1);
    return next;
  }

  remove(id) {
    this.write("history", this.entries().filter((entry) => entry.id !== id));
  }

  /** Updates the last entry matching `predicate` (e.g. a feedback question once answered). */
  update(predicate, change) {
    const entries = this.entries();
    for (let i = entries.length - 1; i >= 0; i--) {
      if (predicate(entries[i])) {
        entries[i] = { ...entries[i], ...change };
        break;
      }
    }
    this.write("history", entries);
  }

  get isOpen() {
    return this.read("open", false) === true;
  }

  set isOpen(value) {
    this.write("open", Boolean(value));
  }
}
