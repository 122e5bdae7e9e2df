#!/usr/bin/env bash
# Rebuild a shipped instrument from nothing with the kit's own commands:
#   scripts/build_instruments.sh bansuri [MINUTES]      (or shehnai, sarangi; default 15 training minutes)
# render demo data (fluidsynth) -> prepare (Beam) -> train -> evaluate -> export (float16) into models/NAME.
# Intermediate files go to work/ (not committed). Rerunning resumes training from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?instrument: bansuri, shehnai or sarangi}
minutes=${2:-15}
kit=.venv/bin/sounds-kit
# The shipped model size: the sweep's choice, the smallest within 5% of the best (BENCHMARKS.md).
width=${WIDTH:-32} depth=${DEPTH:-4} harmonics=${HARMONICS:-48} bands=${NOISE_BANDS:-32}
model_flags=(--decoder cnn --width "$width" --depth "$depth" --harmonics "$harmonics" --noise-bands "$bands")
run="work/runs/$name-cnn-w$width-d$depth-h$harmonics-n$bands"

[ -f "work/data/$name/notes.json" ] || $kit render-demo-data --instrument "$name" -o "work/data/$name" --minutes 15 --seed 0
[ -f "work/datasets/$name/manifest.json" ] || $kit prepare "work/data/$name" -o "work/datasets/$name"
$kit train "work/datasets/$name" -o "$run" --minutes "$minutes" "${model_flags[@]}" --quiet
# Both merge into $run/eval.json, which the export puts in the model card.
$kit evaluate "$run" --dataset "work/datasets/$name" --json --quiet
$kit evaluate "$run" assets/singers/*.wav --voice --json --quiet
recipe=$(python3 -c "import json;d=json.load(open('work/data/$name/notes.json'));print(f\"{d['soundfont']} program {d['program']}\")")
$kit export "$run" -o "models/$name" --quantize float16 --name "$name" \
  --data-origin "15 min of General MIDI soundfont renders ($recipe) of raga phrases and Jana Gana Mana, rendered by \`sounds-kit render-demo-data --instrument $name --seed 0\` - sampled instruments, not recordings of a player"
echo "built models/$name"
