#!/usr/bin/env bash
# Debian packages the tests (and demo-data rendering) need: a browser, fluidsynth and soundfonts, and
# espeak-ng (consonants and whispers for the stand-in singers, sounds_kit/stand_in_effects.py), and g++
# (training compiles the harmonic synth kernel, sounds_kit/model/kernels).
# Idempotent: installs only what is missing. Never downloads a browser build of its own.
set -euo pipefail
pkgs=(chromium fluidsynth fluid-soundfont-gm musescore-general-soundfont espeak-ng g++)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${pkgs[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
