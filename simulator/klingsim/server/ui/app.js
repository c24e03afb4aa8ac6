// klingsim dashboard: reads the control plane (/_klingsim/...) once a second and drives it.
// Plain DOM, no framework and no build step; every value from the server is set as text, never as HTML.
"use strict";

const API = "/_klingsim";
const POLL_MS = 1000;
const JOURNAL_KEEP = 300;
const state = { providers: [], selected: null, journalSince: 0, journal: [], busy: false };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const answer = await fetch(API + path, options);
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || `${method} ${path}: ${answer.status}`);
  return data;
}

function say(text, isError) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "ok";
}

async function act(what, work) {
  try {
    await work();
    say(what);
  } catch (err) {
    say(err.message, true);
  }
  await refresh();
}

function shortTime(iso) {
  return iso ? iso.replace("T", " ").replace("Z", "") : "";
}

function statusPill(job) {
  const kind = { succeeded: "ok", failed: "bad", queued: "wait", running: "run" }[job.phase] || "";
  return el("span", { class: `pill ${kind}` }, job.status, job.stuck ? " (stuck)" : "");
}

// ------------------------------------------------------------------ clock
function renderClock(clock) {
  $("clock-now").textContent = shortTime(clock.now);
  $("clock-mode").textContent = clock.mode === "virtual" ? "virtual" : `real ×${clock.speed}`;
  for (const button of document.querySelectorAll("#advance-form button")) {
    button.disabled = clock.mode !== "virtual";
  }
}

// ------------------------------------------------------------------ jobs
function renderJobs(jobs) {
  const body = $("jobs").tBodies[0];
  body.replaceChildren(
    ...jobs.map((job) => {
      const row = el(
        "tr",
        { "data-job": job.id, "data-provider": job.provider },
        el("td", {}, job.provider),
        el("td", { class: "mono" }, job.id),
        el("td", {}, job.variant),
        el("td", { class: "status" }, statusPill(job)),
        el("td", {}, shortTime(job.created)),
        el("td", { class: "num" }, `${job.cost} ${job.unit}`),
      );
      if (state.selected && state.selected.id === job.id && state.selected.provider === job.provider) {
        row.classList.add("selected");
      }
      row.addEventListener("click", () => {
        state.selected = { provider: job.provider, id: job.id };
        refresh();
      });
      return row;
    }),
  );
  $("jobs-empty").hidden = jobs.length > 0;
}

function renderTimeline(job) {
  const items = job.transitions.map((t) =>
    el("li", { class: t.phase }, el("time", {}, shortTime(t.time)), " ", el("strong", {}, t.status), ` (${t.phase})`),
  );
  if (job.next) {
    const when = job.next.stuck ? "never (stuck)" : shortTime(job.next.time);
    items.push(el("li", { class: "next" }, el("time", {}, when), " next: ", job.next.phase));
  }
  if (job.error) items.push(el("li", { class: "failed" }, `error ${job.error.code}: ${job.error.message}`));
  $("job-timeline").replaceChildren(...items);
}

function renderLedger(entries, table, withJob) {
  table.tBodies[0].replaceChildren(
    ...entries.map((e) =>
      el(
        "tr",
        {},
        el("td", {}, e.kind),
        el("td", { class: "num" }, e.amount),
        el("td", { class: "num" }, `→ ${e.balance_after}`),
        withJob ? el("td", { class: "mono" }, e.job_id || "") : null,
        el("td", {}, shortTime(new Date(e.at * 1000).toISOString().replace(/\.\d+Z$/, "Z"))),
      ),
    ),
  );
}

function renderCallbacks(deliveries) {
  if (!deliveries.length) return [el("p", { class: "empty" }, "No callback for this job.")];
  return deliveries.map((d) =>
    el(
      "div",
      { class: "callback" },
      el("div", {}, el("strong", {}, d.state), " → ", el("span", { class: "mono" }, d.url)),
      el(
        "ol",
        {},
        ...d.attempts.map((a) =>
          el("li", {}, `attempt ${a.number} at ${shortTime(a.due)}: `, a.status !== null ? `HTTP ${a.status}` : a.error),
        ),
      ),
    ),
  );
}

let shownOutputs = "";

function renderJob(job) {
  const panel = $("job-detail");
  panel.hidden = false;
  panel.dataset.job = job.id;
  $("job-title").textContent = `${job.provider} / ${job.id}`;
  $("job-status").replaceWith(Object.assign(statusPill(job), { id: "job-status" }));
  renderTimeline(job);
  renderLedger(job.ledger, $("job-ledger"), false);
  const outputs = JSON.stringify(job.outputs);
  if (outputs !== shownOutputs) {
    // Rebuilt only when they change, so a playing video is not reset by the next poll.
    shownOutputs = outputs;
    const videos = job.outputs.map((url) =>
      el("div", {}, el("video", { src: url, controls: true, preload: "metadata" }), el("a", { href: url }, "download")),
    );
    $("job-outputs").replaceChildren(...(videos.length ? videos : [el("p", { class: "empty" }, "No output yet.")]));
  }
  $("job-callbacks").replaceChildren(...renderCallbacks(job.callbacks));
  $("job-request").textContent = JSON.stringify(job.request, null, 2);
  for (const id of ["outcome-succeeded", "outcome-failed", "outcome-stuck"]) {
    $(id).disabled = ["succeeded", "failed"].includes(job.phase);
  }
}

function forceOutcome(status) {
  const job = state.selected;
  if (!job) return;
  const body = { status };
  const code = $("outcome-error").value.trim();
  if (status === "failed" && code) body.error = code;
  act(`${job.id}: ${status}`, () => call("POST", `/jobs/${job.provider}/${encodeURIComponent(job.id)}/outcome`, body));
}

// ------------------------------------------------------------------ accounts
function renderAccounts(accounts) {
  const blocks = accounts.map((a) => {
    const table = el("table", {}, el("tbody"));
    renderLedger(a.entries, table, true);
    return el(
      "details",
      { class: "account", "data-key": a.api_key },
      el(
        "summary",
        {},
        el("span", {}, a.provider),
        el("span", { class: "mono" }, a.api_key),
        a.account !== a.api_key ? el("span", {}, `account ${a.account}`) : null,
        el("strong", { class: "balance" }, `${a.balance} ${a.unit}`),
      ),
      table,
      a.entry_count > a.entries.length
        ? el("p", { class: "empty" }, `the last ${a.entries.length} of ${a.entry_count} entries`)
        : null,
    );
  });
  const open = new Set([...document.querySelectorAll("#accounts details[open]")].map((d) => d.dataset.key));
  for (const block of blocks) block.open = open.has(block.dataset.key);
  $("accounts").replaceChildren(...blocks);
  $("accounts-empty").hidden = accounts.length > 0;
}

// ------------------------------------------------------------------ journal
function renderJournal(entries) {
  state.journal = state.journal.concat(entries).slice(-JOURNAL_KEEP);
  if (entries.length) state.journalSince = entries[entries.length - 1].seq;
  const rows = state.journal
    .slice()
    .reverse()
    .map((e) => {
      const query = new URLSearchParams(e.query || {}).toString();
      return el(
        "tr",
        { class: e.status >= 400 ? "bad" : "" },
        el("td", {}, e.seq),
        el("td", {}, shortTime(e.time)),
        el("td", {}, e.provider || "-"),
        el("td", { class: "mono" }, `${e.method} ${e.path}${query ? "?" + query : ""}`),
        el("td", {}, e.status, e.faults ? ` (fault ${e.faults.join(", ")})` : ""),
        el("td", { class: "hint" }, (e.hints || []).join("; ")),
      );
    });
  $("journal").tBodies[0].replaceChildren(...rows);
}

// ------------------------------------------------------------------ faults
function describeFault(f) {
  const parts = [];
  if (f.error) parts.push(`error ${f.error}`);
  if (f.rate !== null && f.rate !== undefined) parts.push(`rate ${f.rate}`);
  if (f.latency_ms !== null && f.latency_ms !== undefined) parts.push(`latency ${f.latency_ms} ms`);
  if (f.job_failure) parts.push(`jobs fail with ${f.job_failure}`);
  if (f.stuck) parts.push(`jobs stuck ${f.stuck}`);
  return parts.join(", ");
}

function renderFaults(faults) {
  $("faults").tBodies[0].replaceChildren(
    ...faults.map((f) => {
      const remove = el("button", { type: "button", class: "quiet" }, "Remove");
      remove.addEventListener("click", () => act(`removed ${f.id}`, () => call("DELETE", `/faults/${f.id}`)));
      return el(
        "tr",
        { "data-fault": f.id },
        el("td", {}, f.id),
        el("td", {}, f.provider),
        el("td", {}, f.endpoint),
        el("td", {}, describeFault(f)),
        el("td", {}, f.remaining === null ? "∞" : f.remaining),
        el("td", {}, remove),
      );
    }),
  );
  $("faults-empty").hidden = faults.length > 0;
  $("faults-active").textContent = faults.length ? faults.length : "";
}

function fillFaultCodes() {
  const provider = state.providers.find((p) => p.id === $("fault-provider").value);
  $("fault-errors").replaceChildren(...(provider ? provider.errors : []).map((code) => el("option", { value: code })));
}

// ------------------------------------------------------------------ polling
async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    const provider = $("jobs-provider").value;
    const query = provider ? `?provider=${encodeURIComponent(provider)}` : "";
    const [clock, jobs, accounts, faults, journal] = await Promise.all([
      call("GET", "/clock"),
      call("GET", `/jobs${query}`),
      call("GET", "/accounts"),
      call("GET", "/faults"),
      call("GET", `/requests?since=${state.journalSince}`),
    ]);
    renderClock(clock);
    renderJobs(jobs.jobs);
    renderAccounts(accounts.accounts);
    renderFaults(faults.faults);
    renderJournal(journal.requests);
    if (state.selected) {
      try {
        renderJob(await call("GET", `/jobs/${state.selected.provider}/${encodeURIComponent(state.selected.id)}`));
      } catch (err) {
        state.selected = null;
        $("job-detail").hidden = true;
      }
    }
    document.body.dataset.ready = "true";
  } catch (err) {
    say(`cannot reach the simulator: ${err.message}`, true);
  } finally {
    state.busy = false;
  }
}

async function start() {
  const { providers } = await call("GET", "/providers");
  state.providers = providers;
  for (const id of ["jobs-provider", "fault-provider", "balance-provider"]) {
    $(id).append(...providers.map((p) => el("option", { value: p.id }, p.id)));
  }
  fillFaultCodes();

  for (const tab of document.querySelectorAll("nav button[data-tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("nav button[data-tab]")) other.classList.remove("active");
      tab.classList.add("active");
      for (const section of document.querySelectorAll("section.tab")) {
        section.hidden = section.id !== `tab-${tab.dataset.tab}`;
      }
    });
  }
  $("advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number($("advance-seconds").value);
    act(`advanced ${seconds} s`, () => call("POST", "/clock/advance", { seconds }));
  });
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => {
      const seconds = Number(button.dataset.advance);
      act(`advanced ${seconds} s`, () => call("POST", "/clock/advance", { seconds }));
    });
  }
  $("reset-btn").addEventListener("click", () => {
    state.selected = null;
    state.journal = [];
    state.journalSince = 0;
    $("job-detail").hidden = true;
    act("reset to the starting state", () => call("POST", "/reset"));
  });
  $("jobs-provider").addEventListener("change", refresh);
  $("outcome-succeeded").addEventListener("click", () => forceOutcome("succeeded"));
  $("outcome-failed").addEventListener("click", () => forceOutcome("failed"));
  $("outcome-stuck").addEventListener("click", () => forceOutcome("stuck"));
  $("fault-provider").addEventListener("change", fillFaultCodes);
  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      provider: $("fault-provider").value,
      endpoint: $("fault-endpoint").value,
      error: $("fault-error").value.trim(),
    };
    const count = Number($("fault-count").value);
    if (count >= 1) body.count = count;
    act(`fault added for ${body.provider}`, () => call("POST", "/faults", body));
  });
  $("fault-clear").addEventListener("click", () => act("faults cleared", () => call("DELETE", "/faults")));
  $("balance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const provider = $("balance-provider").value;
    const key = $("balance-key").value.trim();
    const balance = Number($("balance-amount").value);
    act(`balance of ${key} set`, () =>
      call("PUT", `/accounts/${provider}/${encodeURIComponent(key)}`, { balance }),
    );
  });

  await refresh();
  setInterval(refresh, POLL_MS);
}

start().catch((err) => say(`cannot start: ${err.message}`, true));
