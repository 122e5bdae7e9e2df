// Bundle the widget (and the engine it uses) into the Python package.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";
import fs from "node:fs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "sounds_kit", "static");
const watch = process.argv.includes("--watch");

// The live AudioWorklet runs in its own scope, which cannot import modules from the page: bundle
// its entry (and everything it imports) into one script and hand it to the widget as a string
// (`import WORKLET_SOURCE from "virtual:live-worklet"`), loaded from a blob: URL at run time.
const liveWorklet = {
  name: "live-worklet",
  setup(build) {
    build.onResolve({ filter: /^virtual:live-worklet$/ }, () => ({ path: "live-worklet", namespace: "live-worklet" }));
    build.onLoad({ filter: /.*/, namespace: "live-worklet" }, async () => {
      const result = await esbuild.build({
        entryPoints: [path.join(here, "src", "live", "worklet_processor.js")],
        bundle: true,
        write: false,
        metafile: true,
        format: "iife",
        minify: !watch,
        target: ["es2020"],
        legalComments: "none",
      });
      return {
        contents: `export default ${JSON.stringify(result.outputFiles[0].text)};`,
        loader: "js",
        watchFiles: Object.keys(result.metafile.inputs).map((f) => path.resolve(here, f)),
      };
    });
  },
};

const options = {
  entryPoints: { widget: path.join(here, "src", "widget.js") },
  outdir,
  bundle: true,
  format: "esm",
  minify: !watch,
  sourcemap: false,
  target: ["es2020"],
  // The wasm backend's binaries travel inside the bundle: the widget never fetches.
  loader: { ".wasm": "binary" },
  logLevel: "info",
  legalComments: "none",
  plugins: [liveWorklet],
};

// The published page (sounds-kit publish): the same sources from a page entry, split so that each
// TF.js backend is a chunk fetched only when it is tried; the wasm binaries stay separate files.
// page.json tells `sounds-kit publish` which files each backend's first play needs.
const pageDir = path.join(outdir, "page");
const pageOptions = {
  ...options,
  entryPoints: { page: path.join(here, "src", "page", "index.js") },
  outdir: pageDir,
  splitting: true,
  chunkNames: "chunk-[hash]",
  loader: { ".wasm": "file" },
  assetNames: "[name]-[hash]",
  metafile: true,
};

/** Every output file a set of outputs loads without a dynamic import, themselves included. */
function staticClosure(outputs, roots) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || !outputs[file]) return;
    seen.add(file);
    for (const imp of outputs[file].imports) if (imp.kind !== "dynamic-import") visit(imp.path);
  };
  roots.forEach(visit);
  return seen;
}

function pageManifest(meta) {
  const outputs = meta.outputs;
  const rel = (f) => path.relative(pageDir, f);
  const byEntry = (needle) => Object.keys(outputs).filter((f) => (outputs[f].entryPoint || "").includes(needle));
  const entry = byEntry("src/page/index.js");
  const always = staticClosure(outputs, entry);
  // The wasm binaries are fetched by the backend, not imported: listed apart below.
  const extra = (roots) => [...staticClosure(outputs, roots)].filter((f) => !always.has(f) && !f.endsWith(".wasm")).map(rel).sort();
  const wasmFiles = Object.keys(outputs).filter((f) => f.endsWith(".wasm")).map(rel);
  return {
    entry: entry.map(rel),
    always: [...always].map(rel).sort(),
    backends: {
      webgl: extra(byEntry("tfjs-backend-webgl")),
      // The wasm backend fetches the SIMD binary on every browser that has SIMD (all current ones).
      wasm: [...extra([...byEntry("tfjs-backend-wasm"), ...byEntry("engine/wasm_binaries.js")]), ...wasmFiles.filter((f) => f.includes("simd"))],
      cpu: extra(byEntry("tfjs-backend-cpu")),
    },
    files: Object.keys(outputs).map(rel).sort(),
  };
}

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
  fs.rmSync(pageDir, { recursive: true, force: true });
  const result = await esbuild.build(pageOptions);
  fs.writeFileSync(path.join(pageDir, "page.json"), JSON.stringify(pageManifest(result.metafile), null, 1));
}
