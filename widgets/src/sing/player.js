// Playback of a clip (your take or the instrument's): one at a time, a second press stops it.
export class Player {
  /** onChange(): what is playing changed (the play buttons follow). */
  constructor(audio, onChange) {
    this.audio = audio;
    this.onChange = onChange;
    this.playing = null; // "voice" | "instrument" | null
    this.stopClip = null;
  }

  async toggle(kind, clip) {
    if (this.playing === kind) return this.stop();
    this.stop();
    if (!clip) return;
    await this.audio.ensureContext();
    this.playing = kind;
    this.stopClip = this.audio.playClip(clip, () => {
      if (this.playing === kind) {
        this.playing = null;
        this.stopClip = null;
        this.onChange();
      }
    });
    this.onChange();
  }

  stop() {
    if (this.stopClip) this.stopClip();
    this.stopClip = null;
    this.playing = null;
    this.onChange();
  }
}
