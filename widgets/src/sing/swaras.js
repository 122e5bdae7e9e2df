// Swara names, note names and the raga guide lines for the pitch trace and the Sa picker. Pure data
// + maths; the ragas themselves (and the tuning) come from the kit's conventions.
import { RAGAS, midiToHz } from "../dsp/conventions.js";

// Semitones above Sa with the names a Hindustani class uses: komal (flat) swaras get a flat
// sign, tivra Ma a sharp, which reads unambiguously without Bhatkhande's underline/dash marks.
export const SWARAS = [
  { semi: 0, name: "Sa" },
  { semi: 1, name: "Re♭" },
  { semi: 2, name: "Re" },
  { semi: 3, name: "Ga♭" },
  { semi: 4, name: "Ga" },
  { semi: 5, name: "Ma" },
  { semi: 6, name: "Ma♯" },
  { semi: 7, name: "Pa" },
  { semi: 8, name: "Dha♭" },
  { semi: 9, name: "Dha" },
  { semi: 10, name: "Ni♭" },
  { semi: 11, name: "Ni" },
];

const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

export const centsAbove = (hz, refHz) => 1200 * Math.log2(hz / refHz);

export function noteName(midi) {
  const m = Math.round(midi);
  return `${NOTE_NAMES[((m % 12) + 12) % 12]}${Math.floor(m / 12) - 1}`;
}

/** Sa choices for the picker: A2..E4 covers low male to high female tonics. */
export function saChoices() {
  const out = [];
  for (let m = 45; m <= 64; m++) out.push({ midi: m, hz: midiToHz(m), label: `${noteName(m)}  ·  ${midiToHz(m).toFixed(1)} Hz` });
  return out;
}

/** The raga picker's entries, in the table's order: [{key, label}]. */
export function ragaChoices() {
  return Object.entries(RAGAS).map(([key, r]) => ({ key, label: r.label }));
}

/** A raga's table entry; an unknown key falls back to all twelve swaras. */
const ragaOf = (key) => RAGAS[key] || RAGAS.chromatic;

/** Guide lines for a raga between two cents values (relative to Sa): {cents, name, octave, isSa}. */
export function guideLines(ragaKey, loCents, hiCents) {
  const raga = ragaOf(ragaKey);
  const lines = [];
  for (let oct = Math.floor(loCents / 1200) - 1; oct <= Math.ceil(hiCents / 1200); oct++) {
    for (const semi of raga.scale) {
      const cents = oct * 1200 + semi * 100;
      if (cents < loCents || cents > hiCents) continue;
      lines.push({ cents, name: SWARAS[semi].name, octave: oct, isSa: semi === 0, isPa: semi === 7 });
    }
  }
  return lines;
}

/** The raga swara nearest a pitch: {name, octave, offsetCents}; null when unvoiced. */
export function nearestSwara(ragaKey, cents) {
  if (!Number.isFinite(cents)) return null;
  const raga = ragaOf(ragaKey);
  let best = null;
  const oct = Math.floor(cents / 1200);
  for (let o = oct - 1; o <= oct + 1; o++) {
    for (const semi of raga.scale) {
      const c = o * 1200 + semi * 100;
      if (!best || Math.abs(cents - c) < Math.abs(best.offsetCents)) {
        best = { name: SWARAS[semi].name, octave: o, offsetCents: cents - c };
      }
    }
  }
  return best;
}
