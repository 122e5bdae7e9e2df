// A stand-in for the anywidget model on a static page: the same get/set/on/off/save_changes/send
// the sing widget talks to, with no kernel behind it. The page host answers the widget's messages
// (it plays Python's part) and listens to its traits.
export class PageModel {
  constructor(traits) {
    this.traits = { ...traits };
    this.handlers = new Map();
    this.outbox = null; // the page host: receives what the widget sends "to Python"
    this.phrase = null; // optional (topic, text) -> text: the page's words for kernel-specific hints
  }

  get(name) {
    return this.traits[name];
  }

  /** Like a Backbone model: a changed value fires "change:NAME" at once. */
  set(name, value) {
    const old = this.traits[name];
    this.traits[name] = value;
    if (old !== value) this.emit(`change:${name}`, value);
  }

  save_changes() {
    // Nothing to sync: the page is the whole application.
  }

  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
  }

  off(event, fn) {
    const set = this.handlers.get(event);
    if (set) set.delete(fn);
  }

  emit(event, ...args) {
    for (const fn of [...(this.handlers.get(event) || [])]) fn(...args);
  }

  /** The widget -> "Python" direction. */
  send(content, _callbacks, buffers) {
    if (this.outbox) this.outbox(content, buffers || []);
  }

  /** The "Python" -> widget direction (anywidget's msg:custom). */
  deliver(content, buffers = []) {
    this.emit("msg:custom", content, buffers);
  }
}
