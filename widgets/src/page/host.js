// The page host: plays Python's part for the sing widget on a static site. It reads site.json
// (written by `sounds-kit publish`), fetches an instrument's files from the site folder when the
// widget asks for one, and keeps the latest take and rendering for the download buttons.
export class PageHost {
  /** site: the parsed site.json; model: a PageModel; onTakes(): the downloads changed. */
  constructor(site, model, onTakes) {
    this.site = site;
    this.model = model;
    this.onTakes = onTakes;
    this.voice = null;
    this.output = null;
    this.outputInstrument = "";
    this.seq = 0;
    // When things happened (ms on the page's clock), for the benchmark: instrument ready, last render.
    this.timings = { ready: null, renderMs: null };
    this.takeAt = null;
    model.on("change:model_state", (state) => {
      if (state === "ready" && this.timings.ready === null) this.timings.ready = performance.now();
    });
    model.outbox = (content, buffers) => this.receive(content, buffers);
    model.on("change:instrument", () => this.sendInstrument());
  }

  entry(key) {
    return this.site.instruments.find((i) => i.key === key);
  }

  /** Fetch one instrument's files (metadata.json first, then each file it lists) and hand them over. */
  async sendInstrument() {
    const seq = ++this.seq;
    const key = this.model.get("instrument");
    const entry = this.entry(key);
    if (!entry) {
      this.model.deliver({ type: "model_error", key, message: `${key} is not on this page` });
      return;
    }
    try {
      const names = entry.files;
      const bodies = await Promise.all(names.map((name) => fetchBytes(`${entry.path}${name}`)));
      if (seq !== this.seq) return; // another instrument was chosen meanwhile
      this.model.deliver({ type: "model", key, name: entry.name, files: names }, bodies);
    } catch (err) {
      if (seq !== this.seq) return;
      this.model.deliver({ type: "model_error", key, message: `its files could not be fetched (${err.message || err})` });
    }
  }

  receive(content, buffers) {
    if (content.type === "ready") this.sendInstrument();
    else if (content.type === "take") {
      this.voice = new Float32Array(buffers[0]);
      this.output = null;
      this.takeAt = performance.now();
      this.onTakes();
    } else if (content.type === "output") {
      this.output = new Float32Array(buffers[0]);
      this.outputInstrument = content.instrument;
      // The widget sends the take just before it starts rendering it, and the output when done.
      if (this.takeAt !== null) this.timings.renderMs = performance.now() - this.takeAt;
      this.onTakes();
    }
  }
}

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
