// EmProps Studio: progressive enhancement for the server-rendered pages (they work without it).
// - forms with data-swap="#id" post in place and swap in the fragment the server answers;
// - elements with data-refresh-src reload themselves every data-refresh-ms;
// - [data-run-events] follows a generation run over server-sent events;
// - [data-add-row] adds editor rows from a <template>; [data-siwe] signs in with a wallet;
// - [data-theme-toggle] switches light and dark.
"use strict";

(function () {
  const FRAGMENT = { "X-Studio-Fragment": "1" };

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function follow(response) {
    const target = response.headers.get("X-Studio-Location");
    if (target) {
      window.location.assign(target);
      return true;
    }
    return false;
  }

  function swap(target, html) {
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const fresh = holder.firstElementChild;
    if (!fresh) return;
    target.replaceWith(fresh);
    const stage = fresh.dataset.publishStage;
    const chip = document.querySelector("[data-stage-chip]");
    if (stage && chip) chip.innerHTML = `<span class="chip ${stage}"><span class="dot"></span>stage: ${stage}</span>`;
    enhance(fresh);
  }

  // --- forms posted in place ---------------------------------------------------------------
  function enhanceForm(form) {
    if (form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { ...FRAGMENT, "Content-Type": "application/x-www-form-urlencoded" },
          credentials: "same-origin",
        });
        if (follow(response)) return;
        const target = document.querySelector(form.dataset.swap);
        if (target) swap(target, await response.text());
      } finally {
        if (button) button.disabled = false;
      }
    });
  }

  // --- panels that refresh themselves --------------------------------------------------------
  function enhanceRefresh(element) {
    if (element.dataset.enhanced) return;
    element.dataset.enhanced = "1";
    const every = parseInt(element.dataset.refreshMs || "2000", 10);
    const timer = setInterval(async () => {
      if (!document.body.contains(element)) return clearInterval(timer);
      if (document.hidden || element.contains(document.activeElement)) return;
      const response = await fetch(element.dataset.refreshSrc, { headers: FRAGMENT, credentials: "same-origin" });
      if (follow(response)) return;
      if (response.ok) {
        clearInterval(timer);
        swap(element, await response.text());
      }
    }, every);
  }

  // --- a generation run, live ------------------------------------------------------------------
  function enhanceRun(panel) {
    if (panel.dataset.enhanced || !panel.dataset.runEvents) return;
    panel.dataset.enhanced = "1";
    const log = document.querySelector("[data-event-log]");
    const bar = panel.querySelector("[data-progress-bar]");
    const stat = (name) => panel.querySelector(`[data-stat="${name}"]`);
    const tiles = panel.querySelector("[data-tiles]");
    const total = parseInt(panel.dataset.total || "0", 10);
    const done = new Set();
    const failed = new Set();

    function tile(generation) {
      let element = tiles.querySelector(`[data-tile="${generation}"]`);
      if (!element) {
        element = document.createElement("div");
        element.className = "tile queued";
        element.dataset.tile = generation;
        element.innerHTML = `<span class="tile-label">#${generation}</span><span data-tile-text>queued</span><div class="tile-bar"></div>`;
        tiles.appendChild(element);
      }
      return element;
    }
    for (let g = 0; g < total; g++) tile(g);

    function setState(element, state) {
      element.classList.remove("queued", "running", "done", "failed");
      element.classList.add(state);
    }

    function note(type, data, generation) {
      if (!log) return;
      const item = document.createElement("li");
      const detail = generation != null ? `#${generation}` : "";
      const extra = data.error ? ` ${data.error}` : (data.step_progress != null ? ` ${Math.round(data.step_progress)}%` : "");
      item.innerHTML = `<span class="ev ${type}"></span><span class="faint"></span>`;
      item.firstChild.textContent = type;
      item.lastChild.textContent = `${detail}${extra}  · run ${data.progress != null ? data.progress : "?"}%`;
      log.prepend(item);
      while (log.children.length > 40) log.lastChild.remove();
    }

    const source = new EventSource(panel.dataset.runEvents);
    const types = ["run_started", "node_started", "node_progress", "node_completed", "image_generated",
      "complete", "error", "run_completed", "run_failed", "run_cancelled"];
    for (const type of types) {
      source.addEventListener(type, (message) => {
        const event = JSON.parse(message.data);
        const data = event.data || {};
        const g = event.generation;
        if (data.progress != null) {
          bar.style.width = `${data.progress}%`;
          stat("progress").textContent = data.progress;
        }
        if (g != null) {
          const element = tile(g);
          if (type === "node_started") setState(element, "running");
          if (type === "node_progress" && data.step_progress != null) {
            element.querySelector(".tile-bar").style.width = `${data.step_progress}%`;
          }
          const output = data.output || {};
          if (type === "node_completed" && output.path && String(output.mimeType || "").startsWith("image/")) {
            const text = element.querySelector("[data-tile-text]");
            if (text) text.remove();
            let img = element.querySelector("img");
            if (!img) { img = document.createElement("img"); element.insertBefore(img, element.querySelector(".tile-bar")); }
            img.src = `/studio/blobs/${output.path}`;
            img.alt = `token ${g}`;
          }
          if (type === "complete") { done.add(g); setState(element, "done"); stat("completed").textContent = done.size; }
          if (type === "error") {
            failed.add(g);
            setState(element, "failed");
            stat("failed").textContent = failed.size;
            stat("failed").style.color = "var(--bad)";
          }
        }
        if (type !== "node_progress") note(type, data, g);
        if (type.startsWith("run_") && type !== "run_started") {
          source.close();
          const status = type.slice(4);
          panel.querySelector("[data-run-status]").innerHTML = `<span class="chip ${status}"><span class="dot"></span>${status}</span>`;
          const dot = panel.querySelector("[data-live-dot]");
          if (dot) dot.remove();
          const cancel = panel.querySelector("[data-cancel-run]");
          if (cancel) cancel.remove();
          const chipHtml = `<span class="chip ${status}"><span class="dot"></span>${status}</span>`;
          document.querySelectorAll(`[data-run-row="${panel.dataset.runId}"] [data-run-row-status]`)
            .forEach((cell) => { cell.innerHTML = chipHtml; });
          const charged = panel.querySelector("[data-credits-charged]");
          if (charged && data.credits_charged != null) charged.textContent = data.credits_charged;
          const finished = panel.querySelector("[data-run-done]");
          if (finished && status === "completed") finished.classList.remove("hidden");
          panel.dataset.finished = status;
        }
      });
    }
  }

  // --- editor rows ------------------------------------------------------------------------------
  function enhanceAddRow(button) {
    if (button.dataset.enhanced) return;
    button.dataset.enhanced = "1";
    button.addEventListener("click", () => {
      const template = document.getElementById(button.dataset.addRow);
      const into = document.querySelector(button.dataset.into);
      const index = parseInt(into.dataset.nextIndex || "0", 10);
      into.dataset.nextIndex = index + 1;
      const holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replaceAll("__i__", String(index));
      const row = holder.firstElementChild;
      into.appendChild(row);
      const first = row.querySelector("input[type=text], textarea");
      if (first) first.focus();
    });
  }

  // --- Sign-In with Ethereum ----------------------------------------------------------------
  function enhanceSiwe(button) {
    const box = document.getElementById("siwe-box");
    if (!window.ethereum || button.dataset.enhanced) return;
    button.dataset.enhanced = "1";
    if (box) box.classList.remove("hidden");
    const problem = document.querySelector("[data-siwe-error]");
    async function post(url, body) {
      const response = await fetch(url, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { ...FRAGMENT, "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        credentials: "same-origin",
      });
      if (!response.ok) {
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        throw new Error(holder.textContent.trim() || `HTTP ${response.status}`);
      }
      return response.json();
    }
    button.addEventListener("click", async () => {
      problem.classList.add("hidden");
      button.disabled = true;
      try {
        const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
        const { message } = await post("/studio/sign-in/siwe/message", { address });
        const signature = await window.ethereum.request({ method: "personal_sign", params: [message, address] });
        const { location } = await post("/studio/sign-in/siwe", { message, signature, next: button.dataset.next });
        window.location.assign(location);
      } catch (error) {
        problem.textContent = error.message || String(error);
        problem.classList.remove("hidden");
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- small things -----------------------------------------------------------------------------
  function enhanceConfirm(button) {
    if (button.dataset.enhanced) return;
    button.dataset.enhanced = "1";
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }

  function enhance(root) {
    root.querySelectorAll("form[data-swap]").forEach(enhanceForm);
    root.querySelectorAll("[data-refresh-src]").forEach(enhanceRefresh);
    if (root.matches && root.matches("[data-refresh-src]")) enhanceRefresh(root);
    root.querySelectorAll("[data-run-events]").forEach(enhanceRun);
    root.querySelectorAll("[data-add-row]").forEach(enhanceAddRow);
    root.querySelectorAll("[data-siwe]").forEach(enhanceSiwe);
    root.querySelectorAll("[data-confirm]").forEach(enhanceConfirm);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector("[data-theme-toggle]");
    if (toggle) {
      toggle.addEventListener("click", () => {
        const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
        document.documentElement.dataset.theme = next;
        localStorage.setItem("emprops-theme", next);
      });
    }
    enhance(document);
  });
})();
