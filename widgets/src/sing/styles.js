// The sing widget's look. Scoped under .sk-sing; follows JupyterLab's light/dark theme through its
// CSS variables (with fallbacks for Notebook 7, Colab and VS Code), large type for a classroom.
export const STYLES = `
.sk-sing {
  --sk-fg: var(--jp-ui-font-color0, #1f2330);
  --sk-fg2: var(--jp-ui-font-color2, #5d6478);
  --sk-bg: var(--jp-layout-color0, #ffffff);
  --sk-card: var(--jp-layout-color1, #f7f7fa);
  --sk-line: var(--jp-border-color2, #dfe1e8);
  --sk-accent: #e8772e;
  --sk-accent-soft: rgba(232, 119, 46, 0.14);
  --sk-rec: #d9363e;
  --sk-live: #1f9d63;
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: 14px;
  color: var(--sk-fg);
  background: var(--sk-bg);
  border: 1px solid var(--sk-line);
  border-radius: 14px;
  padding: 16px 18px 14px;
  max-width: 980px;
  box-sizing: border-box;
  line-height: 1.35;
}
.sk-sing * { box-sizing: border-box; }
.sk-row { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.sk-head { justify-content: space-between; margin-bottom: 12px; }
.sk-title { font-size: 19px; font-weight: 700; letter-spacing: 0.2px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.sk-title .sk-logo { color: var(--sk-accent); font-size: 22px; display: inline-flex; }
.sk-instruments { display: inline-flex; gap: 6px; flex-wrap: wrap; }
.sk-pill {
  border: 1.5px solid var(--sk-line); background: var(--sk-card); color: var(--sk-fg);
  border-radius: 999px; padding: 6px 14px; font-size: 14px; font-weight: 600; cursor: pointer;
}
.sk-pill:hover { border-color: var(--sk-accent); }
.sk-pill.sk-on { background: var(--sk-accent); border-color: var(--sk-accent); color: #fff; }
.sk-pill.sk-missing { opacity: 0.5; font-style: italic; }
.sk-chip { font-size: 12px; font-weight: 600; padding: 3px 10px; border-radius: 999px; background: var(--sk-card); color: var(--sk-fg2); border: 1px solid var(--sk-line); }
.sk-chip.sk-ready { color: var(--sk-live); border-color: rgba(31,157,99,0.4); background: rgba(31,157,99,0.08); }
.sk-chip.sk-busy { color: var(--sk-accent); border-color: rgba(232,119,46,0.4); background: var(--sk-accent-soft); }
.sk-chip.sk-bad { color: var(--sk-rec); border-color: rgba(217,54,62,0.4); background: rgba(217,54,62,0.08); }
.sk-main { gap: 16px; margin-bottom: 10px; }
.sk-btn {
  border: 1.5px solid var(--sk-line); background: var(--sk-card); color: var(--sk-fg);
  border-radius: 10px; padding: 8px 14px; font-size: 14px; font-weight: 600; cursor: pointer;
  display: inline-flex; align-items: center; gap: 8px;
}
.sk-btn:hover:not(:disabled) { border-color: var(--sk-accent); }
.sk-btn:disabled { opacity: 0.45; cursor: default; }
.sk-btn.sk-playing { border-color: var(--sk-accent); background: var(--sk-accent-soft); }
.sk-record {
  background: var(--sk-rec); border-color: var(--sk-rec); color: #fff; font-size: 16px;
  padding: 10px 22px; border-radius: 999px; min-width: 132px; justify-content: center;
}
.sk-record:hover:not(:disabled) { border-color: #a8232a; background: #c42d35; }
.sk-record .sk-dot { width: 12px; height: 12px; border-radius: 50%; background: #fff; display: inline-block; }
.sk-record.sk-recording .sk-dot { border-radius: 2px; animation: sk-pulse 1s ease-in-out infinite; }
@keyframes sk-pulse { 50% { opacity: 0.35; } }
.sk-timer { font-variant-numeric: tabular-nums; font-size: 18px; font-weight: 600; min-width: 58px; color: var(--sk-fg2); }
.sk-timer.sk-active { color: var(--sk-rec); }
.sk-meter { position: relative; width: 180px; height: 14px; border-radius: 7px; background: var(--sk-card); border: 1px solid var(--sk-line); overflow: hidden; }
.sk-meter-fill { position: absolute; inset: 0; background: linear-gradient(90deg, #3fb77a 0%, #3fb77a 62%, #f2c230 80%, #e5483f 96%); }
.sk-meter-cover { position: absolute; inset: 0; background: var(--sk-card); transform-origin: right center; will-change: transform; }
.sk-meter-peak { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--sk-fg); opacity: 0.6; left: 0; will-change: transform; }
.sk-meter-label { font-size: 12px; color: var(--sk-fg2); }
.sk-switch { display: inline-flex; align-items: center; gap: 8px; cursor: pointer; font-weight: 600; user-select: none; }
.sk-switch input { appearance: none; -webkit-appearance: none; width: 40px; height: 22px; border-radius: 11px; background: #c3c7d3; position: relative; cursor: pointer; margin: 0; transition: background 0.15s; }
.sk-switch input::after { content: ""; position: absolute; top: 3px; left: 3px; width: 16px; height: 16px; border-radius: 50%; background: #fff; transition: left 0.15s; box-shadow: 0 1px 2px rgba(0,0,0,0.3); }
.sk-switch input:checked { background: var(--sk-live); }
.sk-switch input:checked::after { left: 21px; }
.sk-switch input:disabled { opacity: 0.5; cursor: default; }
.sk-hint { font-size: 12.5px; color: var(--sk-fg2); }
.sk-live-box { display: inline-flex; flex-direction: column; gap: 2px; }
.sk-live-stats { font-size: 12px; color: var(--sk-fg2); font-variant-numeric: tabular-nums; min-height: 16px; }
.sk-spacer { flex: 1; }
.sk-trace-wrap { position: relative; margin: 6px 0 12px; }
.sk-trace { width: 100%; height: 280px; display: block; border-radius: 10px; }
.sk-trace-legend { position: absolute; left: 60px; top: 8px; font-size: 12.5px; color: #c5cbe0; pointer-events: none; }
.sk-panels { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 12px; }
.sk-panel { background: var(--sk-card); border: 1px solid var(--sk-line); border-radius: 10px; padding: 10px 12px; }
.sk-panel h4 { margin: 0 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.8px; color: var(--sk-fg2); font-weight: 700; }
.sk-field { display: inline-flex; align-items: center; gap: 8px; margin: 3px 14px 3px 0; }
.sk-field > span { font-weight: 600; }
.sk-sing select { font: inherit; font-size: 14px; padding: 4px 8px; border-radius: 8px; border: 1px solid var(--sk-line); background: var(--sk-bg); color: var(--sk-fg); }
.sk-sing input[type=range] { width: 120px; accent-color: var(--sk-accent); }
.sk-seg { display: inline-flex; border: 1px solid var(--sk-line); border-radius: 8px; overflow: hidden; }
.sk-seg button { border: 0; background: var(--sk-bg); color: var(--sk-fg); font: inherit; font-weight: 600; padding: 4px 10px; cursor: pointer; border-right: 1px solid var(--sk-line); }
.sk-seg button:last-child { border-right: 0; }
.sk-seg button.sk-on { background: var(--sk-accent); color: #fff; }
.sk-value { font-variant-numeric: tabular-nums; min-width: 52px; color: var(--sk-fg2); }
.sk-specs { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 10px; }
.sk-spec h4 { margin: 0 0 5px; font-size: 13px; font-weight: 700; }
.sk-spec canvas { width: 100%; height: 150px; display: block; border-radius: 8px; }
.sk-banner { border-radius: 10px; padding: 9px 12px; margin: 6px 0; font-size: 14px; display: flex; gap: 10px; align-items: flex-start; }
.sk-banner.sk-warning { background: rgba(242,194,48,0.16); border: 1px solid rgba(200,150,20,0.45); }
.sk-banner.sk-error { background: rgba(217,54,62,0.10); border: 1px solid rgba(217,54,62,0.45); }
.sk-icon { display: inline-flex; align-items: center; }
.sk-banner .sk-icon { font-size: 18px; line-height: 1.2; padding-top: 1px; }
.sk-banner.sk-error .sk-icon { color: var(--sk-rec); }
.sk-banner.sk-warning .sk-icon { color: #b7860b; }
.sk-hint .sk-icon { vertical-align: -2px; }
.sk-status { font-size: 14px; color: var(--sk-fg2); display: flex; gap: 8px; align-items: center; min-height: 22px; }
.sk-status .sk-icon { color: var(--sk-accent); }
@media (max-width: 700px) { .sk-panels, .sk-specs { grid-template-columns: 1fr; } }
`;
