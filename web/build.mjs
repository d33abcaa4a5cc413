// Builds what the web server serves: dist/accueil-widget.js (one file, socket.io-client included) and its stylesheet.
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
await copyFile("src/widget.css", "dist/accueil-widget.css");
console.log("web/dist: accueil-widget.js, accueil-widget.css");
