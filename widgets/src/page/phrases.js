// The page's words where the widget talks about Python or Jupyter: a page has neither.
const KERNEL_TALK = /Python|widget\.[a-z]|Jupyter|kernel/;

export function insecureMessage() {
  return `The microphone only works on a secure page (https, or http://localhost on this device), and this one is ${location.protocol}//${location.host}. ` +
    "Ask whoever shared this page for its https address.";
}

/** Drop the sentences and asides that tell a notebook user what to do in Python. */
function withoutKernelTalk(text) {
  const kept = text
    .replace(/\s*\([^()]*\)/g, (aside) => (KERNEL_TALK.test(aside) ? "" : aside))
    .split(/(?<=\.)\s+/)
    .filter((sentence) => !KERNEL_TALK.test(sentence));
  return kept.join(" ").replace(/this widget/g, "this page");
}

/** (topic, text) -> the text to show on the page. */
export function pagePhrase(topic, text) {
  if (topic === "mic" && !globalThis.isSecureContext) return insecureMessage();
  if (topic === "hint") {
    if (/No microphone here/.test(text)) return text.replace(/No microphone here:.*/, "No microphone here: this page needs one to sing into.");
    if (/^Got [\d.]+ s: it is in widget/.test(text)) return text.replace(/: it is in .*/, ".");
    if (/reaches Python/.test(text)) return "Press Record, sing a phrase, press Stop.";
    if (/^Done:/.test(text)) return `${withoutKernelTalk(text)} Download it below.`;
  }
  return KERNEL_TALK.test(text) || /this widget/.test(text) ? withoutKernelTalk(text) || text : text;
}
