// The published page: the sing widget's own code, hosted by a page instead of a notebook.
// `sounds-kit publish` writes index.html, site.json, this bundle and the instruments' files.
import { renderSing } from "../sing/index.js";
import { chooseBackend } from "../engine/backends.js";
import { conventions } from "../dsp/conventions.js";
import { PageModel } from "./model.js";
import { PageHost } from "./host.js";
import { insecureMessage, pagePhrase } from "./phrases.js";
import { wavBytes } from "./wav.js";

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "pg-button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function download(samples, name) {
  const url = URL.createObjectURL(new Blob([wavBytes(samples, conventions.sample_rate)], { type: "audio/wav" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function sameOriginResources() {
  const urls = performance.getEntriesByType("resource").map((e) => e.name);
  return [...new Set(urls.filter((u) => new URL(u).origin === location.origin))];
}

async function boot() {
  const app = document.getElementById("app");
  const site = await (await fetch("site.json")).json();
  const model = new PageModel(site.traits);
  model.phrase = pagePhrase;
  const bar = document.getElementById("downloads");
  const voiceBtn = button("Download my voice", () => download(host.voice, "my-voice.wav"));
  const outBtn = button("Download the instrument", () => download(host.output, `my-${host.outputInstrument || "take"}.wav`));
  const refresh = () => {
    voiceBtn.disabled = !host.voice;
    outBtn.disabled = !host.output;
  };
  const host = new PageHost(site, model, refresh);
  bar.replaceChildren(voiceBtn, outBtn);
  refresh();
  if (!globalThis.isSecureContext) {
    // Said at the top, where a phone's screen shows it, and not only in the widget's banners below.
    const note = document.createElement("p");
    note.className = "pg-warning";
    note.setAttribute("role", "alert");
    note.textContent = insecureMessage();
    app.before(note);
  }
  app.replaceChildren();
  renderSing({ model, el: app });
  // For tests and curious people: the page's state, read-only by convention.
  globalThis.soundsKitPage = { model, host, chooseBackend };
  if ("serviceWorker" in navigator && globalThis.isSecureContext) {
    const sw = navigator.serviceWorker;
    // What the first visit fetched before the worker took over is handed to it, so that the page
    // works offline without a second visit; later fetches pass through it and are kept anyway.
    const keep = () => sw.controller && sw.controller.postMessage({ type: "keep", urls: sameOriginResources() });
    sw.register("sw.js")
      .then(() => sw.ready)
      .then(() => (sw.controller ? keep() : sw.addEventListener("controllerchange", keep, { once: true })))
      .catch(() => {});
    model.on("change:model_state", (state) => state === "ready" && keep());
  }
}

boot().catch((err) => {
  document.getElementById("app").textContent = `This page could not start: ${err.message || err}`;
});
