// The anywidget front end. Each Python widget class names its view in `_view`;
// all views share this one bundle so the browser downloads it once.
import { probeEnvironment, describeEnvironment } from "./environment.js";
import { conventions } from "./dsp/conventions.js";
import { renderSing } from "./sing/index.js";

function renderEnvironmentCheck({ model, el }) {
  const info = probeEnvironment();
  const box = document.createElement("div");
  box.className = "sounds-kit sounds-kit-env";
  const title = document.createElement("strong");
  title.textContent = `sounds-kit ${model.get("kit_version")} - this browser`;
  box.appendChild(title);
  const list = document.createElement("ul");
  for (const line of describeEnvironment(info)) {
    const li = document.createElement("li");
    li.textContent = line;
    list.appendChild(li);
  }
  box.appendChild(list);
  el.appendChild(box);
  // Report back to the kernel: proves the bundle loaded and the comm round trip works.
  model.set("frontend_info", { ...info, sampleRate: conventions.sample_rate, frameRate: conventions.frame_rate });
  model.set("frontend_ready", true);
  model.save_changes();
}

const VIEWS = { environment: renderEnvironmentCheck, sing: renderSing };

export default {
  render(ctx) {
    const view = VIEWS[ctx.model.get("_view")];
    if (!view) {
      ctx.el.textContent = `sounds-kit: unknown view ${ctx.model.get("_view")}`;
      return;
    }
    return view(ctx);
  },
};

// The engine, for pages and tests that drive it without a widget (same bundle, same code).
export * as engine from "./engine/index.js";
export * as live from "./live/index.js";
