// Persistent, ordered queue of trial submissions.
//
// Why: crowdsourced listeners lose their connection (trains, phones, flaky Wi-Fi). Their ratings
// must survive a failed request, a reload or a crashed tab, and reach the server exactly once.
// Each submission gets an idempotency key when it is queued and keeps it for every retry, so the
// server stores it once however often it arrives (also when two tabs send the same entry).

const MIN_DELAY = 1000; // ms; first retry
const MAX_DELAY = 30000; // ms; backoff ceiling
const TIMEOUT = 20000; // ms; a request hanging longer counts as failed

// crypto.randomUUID exists only in secure contexts; getRandomValues works everywhere.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
    .join("-");
}

export class SubmissionQueue {
  // storageKey: localStorage key (scoped by session); url: where to POST; headers(): extra
  // headers per request; callbacks: onChange(queue), onSent(entry), onRejected(entry, message),
  // onConflict(entry): a 409, the session is no longer at its trials (the entry stays queued).
  constructor({ storageKey, url, headers = () => ({}), onChange, onSent, onRejected, onConflict }) {
    Object.assign(this, { storageKey, url, headers, onChange, onSent, onRejected, onConflict });
    this.entries = this.#load();
    this.known = new Set(this.entries.map((e) => e.key)); // keys this page has held, ever
    this.failing = false; // the last attempt failed and something is still waiting
    this.sending = false;
    this.delay = MIN_DELAY;
    this.timer = null;
  }

  get size() {
    return this.entries.length;
  }

  has(trial) {
    return this.entries.some((e) => e.trial === trial);
  }

  #load() {
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey) || "[]");
      return Array.isArray(saved) ? saved.filter((e) => e && e.key && e.ratings) : [];
    } catch {
      return []; // storage disabled or corrupt: nothing we can resend
    }
  }

  // Another tab of the same session may have queued entries of its own since we loaded: keep
  // those (any key we never held), so one tab's save never drops the other's ratings.
  #save() {
    const all = [...this.#load().filter((e) => !this.known.has(e.key)), ...this.entries];
    try {
      if (all.length) localStorage.setItem(this.storageKey, JSON.stringify(all));
      else localStorage.removeItem(this.storageKey);
    } catch {
      // Private mode or quota: the queue still works for as long as the page stays open.
    }
  }

  // Sends whatever an earlier visit left behind, and retries at once when the network returns.
  start() {
    window.addEventListener("online", () => this.retryNow());
    this.#pump();
  }

  add(trial, ratings) {
    const entry = { trial, key: newKey(), ratings };
    this.entries.push(entry);
    this.known.add(entry.key);
    this.#save(); // before any request: a crash right now must not lose it
    this.onChange?.(this);
    this.#pump();
    return entry;
  }

  retryNow() {
    this.delay = MIN_DELAY;
    this.#pump();
  }

  // One request at a time, oldest first, so the server sees trials in the order they were done.
  async #pump() {
    if (this.sending) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.sending = true;
    try {
      while (this.entries.length) {
        const entry = this.entries[0];
        const result = await this.#send(entry);
        if (result?.conflict) return this.onConflict?.(entry);
        if (!result) return this.#retryLater();
        this.entries.shift();
        this.#save();
        this.failing = false;
        this.delay = MIN_DELAY;
        if (result.rejected) this.onRejected?.(entry, result.error);
        else this.onSent?.(entry);
        this.onChange?.(this);
      }
    } finally {
      this.sending = false;
    }
  }

  #retryLater() {
    this.failing = true;
    this.onChange?.(this);
    // Jitter spreads the retries of many listeners after an outage, so they don't all hit at once.
    const wait = this.delay * (0.8 + 0.4 * Math.random());
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.timer = setTimeout(() => this.#pump(), wait);
  }

  // Resolves to {saved: true}, {rejected: true, error: message} (a 400: the server refuses, so
  // retrying is useless), {conflict: true} (a 409: wrong stage) or null (network failure, timeout, any other status: try again later).
  async #send(entry) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT);
    try {
      const resp = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...this.headers() },
        body: JSON.stringify({ trial: entry.trial, key: entry.key, ratings: entry.ratings }),
        credentials: "same-origin",
        signal: abort.signal,
      });
      if (resp.ok) return { saved: true };
      if (resp.status === 409) return { conflict: true };
      if (resp.status !== 400) return null;
      const body = await resp.json().catch(() => ({}));
      return { rejected: true, error: typeof body.error === "string" ? body.error : "" };
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
