// Bundle the widget (and the engine it uses) into the Python package.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

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

// The published page (sounds-kit publish): the same sources from a page entry; the wasm binaries
// stay separate files, fetched only when the wasm backend is chosen.
const pageOptions = {
  ...options,
  entryPoints: { page: path.join(here, "src", "page", "index.js") },
  loader: { ".wasm": "file" },
  assetNames: "[name]-[hash]",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
  await esbuild.build(pageOptions);
}
