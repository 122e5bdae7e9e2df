// The microphone and takes. Microphone says whether this page can have one, opens it for whoever
// needs it (a take, Live) and closes it when nobody does; Recorder captures a take from its blocks.
// Reports through the mic_state and recording traits and the "mic" and "take" status topics.
import { RATE, microphoneAvailability, MicError } from "./audio_io.js";

const MAX_TAKE_S = 60;
const MIN_TAKE_S = 0.25;
const SILENT_DB = -90; // what the meter shows once the microphone is closed

export class Microphone {
  /** onProblem(): the microphone's state changed for the worse (the hint may need to change). */
  constructor({ audio, model, view, status, onProblem }) {
    this.audio = audio;
    this.model = model;
    this.view = view;
    this.status = status;
    this.onProblem = onProblem;
    this.users = new Set();
  }

  setState(state) {
    this.model.set("mic_state", state);
    this.model.save_changes();
  }

  /** Say before the first click whether this page can record at all. */
  check() {
    const av = microphoneAvailability();
    if (!av.ok) {
      this.setState(av.state);
      this.status.set("mic", "error", av.message);
      this.view.disableMicrophone();
      return;
    }
    this.setState("available");
    // Say so before the first click when the site is already blocked.
    if (navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "microphone" }).then(
        (p) => {
          const show = () => {
            if (p.state === "denied") this.failed(new MicError({ name: "NotAllowedError" }));
            else if (this.model.get("mic_state") === "denied") {
              this.setState("available");
              this.status.set("mic", null);
            }
          };
          show();
          p.onchange = show;
        },
        () => {},
      );
    }
  }

  failed(err) {
    this.setState(err.state || "error");
    this.status.set("mic", "error", err.message);
    this.onProblem();
  }

  /** Open the microphone for `user` ("take", "live"); false (and the reason shown) when it cannot. */
  async open(user) {
    try {
      await this.audio.openMic();
    } catch (err) {
      this.failed(err instanceof MicError ? err : new MicError(err));
      return false;
    }
    this.users.add(user);
    this.setState("on");
    this.status.set("mic", null);
    return true;
  }

  /** Whether a take or Live holds the microphone now. */
  get inUse() {
    return this.users.size > 0;
  }

  /** `user` is done; the microphone closes when nobody else needs it. */
  release(user) {
    this.users.delete(user);
    if (this.users.size) return;
    this.audio.setCapture(false);
    this.audio.closeMic();
    this.setState("available");
    this.view.setLevel(SILENT_DB);
  }
}

export class Recorder {
  /**
   * traceFeed: the pitch tracker the trace shows while recording (unless Live feeds it);
   * isLive(): whether Live is on; beforeStart(): stop what must not play over a take;
   * onTake(samples): a finished take (16 kHz float32).
   */
  constructor({ audio, mic, model, view, status, traceFeed, isLive, beforeStart, onTake }) {
    Object.assign(this, { audio, mic, model, view, status, traceFeed, isLive, beforeStart, onTake });
    this.recording = false;
    this.starting = false;
    this.chunks = [];
    this.recorded = 0;
  }

  setRecording(on) {
    this.recording = on;
    this.model.set("recording", on);
    this.model.save_changes();
    this.view.renderRecord(on);
  }

  async toggle() {
    if (this.recording) return this.stop();
    if (this.starting) return;
    this.starting = true;
    try {
      this.beforeStart();
      if (!(await this.mic.open("take"))) return;
      this.chunks = [];
      this.recorded = 0;
      this.recording = true;
      if (!this.isLive()) {
        this.view.trace.reset();
        this.traceFeed.start();
      }
      this.audio.setCapture(true);
      this.setRecording(true);
      this.status.set("take", null);
      this.status.hint("Recording… sing! Press Stop when you are done.");
    } finally {
      this.starting = false;
    }
  }

  /** A block from the microphone while recording. */
  capture(samples) {
    if (!this.recording) return;
    this.chunks.push(samples);
    this.recorded += samples.length;
    if (this.recorded >= MAX_TAKE_S * RATE) {
      this.stop();
      this.status.set("take", "info", `Takes stop at ${MAX_TAKE_S} s.`);
    }
  }

  /** Seconds recorded so far, or null when not recording (for the timer). */
  get seconds() {
    return this.recording ? this.recorded / RATE : null;
  }

  stop() {
    if (!this.recording) return;
    this.recording = false;
    const take = new Float32Array(this.recorded);
    let off = 0;
    for (const c of this.chunks) {
      take.set(c, off);
      off += c.length;
    }
    this.chunks = [];
    if (!this.isLive()) this.traceFeed.stop();
    this.mic.release("take");
    this.setRecording(false);
    if (take.length < RATE * MIN_TAKE_S) {
      this.status.set("take", "warning", "That take was too short: press Record, sing, then press Stop.");
      return;
    }
    this.onTake(take);
  }
}
