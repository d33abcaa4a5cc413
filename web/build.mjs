// Builds what the web server serves: dist/accueil-widget.js (one file, socket.io-client included), its stylesheet
// and the audio call's capture worklet.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";

await mkdir("dist", { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "iife",
  target: ["es2019"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: "dist/accueil-widget.js",
  logLevel: "warning",
});
// The audio call's microphone capture runs in an AudioWorklet, a script file of its own (served from the
// widget's origin: a blob: worklet would need 'blob:' in the page's script-src).
await build({
  entryPoints: ["src/call-worklet.js"],
  bundle: true,
  format: "iife",
  target: ["es2019"],
  minify: true,
  legalComments: "none",
  outfile: "dist/accueil-call-worklet.js",
  logLevel: "warning",
});
await copyFile("src/widget.css", "dist/accueil-widget.css");
console.log("web/dist: accueil-widget.js, accueil-widget.css, accueil-call-worklet.js");
