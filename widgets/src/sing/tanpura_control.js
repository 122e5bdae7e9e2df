// The tanpura drone, following the tanpura, tanpura_gain_db and sa_hz traits.
import { Tanpura } from "./tanpura.js";

export class TanpuraControl {
  constructor(model, audio) {
    this.model = model;
    this.audio = audio;
    this.tanpura = null;
  }

  /** Start or stop it as the tanpura trait says (the first start needs the audio context). */
  async apply() {
    const m = this.model;
    if (!m.get("tanpura")) {
      if (this.tanpura) this.tanpura.stop();
      return;
    }
    const ctx = await this.audio.ensureContext();
    // A new context (the old one closed) needs a new drone: its buffers belong to a context.
    if (!this.tanpura || this.tanpura.ctx !== ctx) this.tanpura = new Tanpura(ctx);
    this.tanpura.setVolume(m.get("tanpura_gain_db"));
    if (m.get("tanpura")) this.tanpura.start(m.get("sa_hz")); // still on after the await
  }

  setSa(hz) {
    if (this.tanpura) this.tanpura.setSa(hz);
  }

  setVolume(db) {
    if (this.tanpura) this.tanpura.setVolume(db);
  }

  dispose() {
    if (this.tanpura) this.tanpura.dispose();
  }
}
