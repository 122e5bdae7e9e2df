// Bundle the widget (and the engine it uses) into the Python package.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "sounds_kit", "static");
const watch = process.argv.includes("--watch");

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
