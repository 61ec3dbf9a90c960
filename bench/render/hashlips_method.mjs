// The HashLips Art Engine's per-token method, written for this benchmark: for each token, load
// every layer image from disk (node-canvas loadImage), draw it with the layer's blend and opacity
// (globalCompositeOperation / globalAlpha, drawImage at full size), encode the canvas as PNG
// (toBuffer("image/png")) and write the file. Tokens one after another, as HashLips does.
//
//   node bench/render/hashlips_method.mjs JOBS.json OUT_DIR
//
// node-canvas 2.x, as HashLips pins it (^2.8.0): 3.x never frees an image loaded from a path
// (its issue #2436), and a 1,000-token run grew until the kernel killed it.
//
// JOBS.json: {"width", "height", "tokens": [{"edition", "layers": [{"path", "blend", "opacity"}]}]}
// Prints one JSON line: wall time, per-token times, RSS samples, peak RSS, PNG sizes.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "..", "tools", "render-js", "package.json"));
const { createCanvas, loadImage } = require("canvas");

const [jobsPath, outDir] = process.argv.slice(2);
const jobs = JSON.parse(readFileSync(jobsPath, "utf8"));
mkdirSync(outDir, { recursive: true });

const canvas = createCanvas(jobs.width, jobs.height);
const ctx = canvas.getContext("2d");
const BLEND = { normal: "source-over", add: "lighter" };

const times = [];
const sizes = [];
const rss = [];
const started = process.hrtime.bigint();
for (const [index, token] of jobs.tokens.entries()) {
  const t0 = process.hrtime.bigint();
  const images = await Promise.all(token.layers.map((layer) => loadImage(layer.path)));
  ctx.clearRect(0, 0, jobs.width, jobs.height);
  token.layers.forEach((layer, i) => {
    ctx.globalAlpha = layer.opacity;
    ctx.globalCompositeOperation = BLEND[layer.blend] ?? layer.blend;
    ctx.drawImage(images[i], 0, 0, jobs.width, jobs.height);
  });
  const png = canvas.toBuffer("image/png");
  writeFileSync(join(outDir, `${token.edition}.png`), png);
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  sizes.push(png.length);
  if (index % jobs.sample_every === 0 || index === jobs.tokens.length - 1) {
    rss.push([index, process.memoryUsage().rss]);
  }
}
const wall = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    engine: "node-canvas",
    version: require("canvas/package.json").version,
    cairo: require("canvas").cairoVersion,
    wall,
    times,
    sizes,
    rss,
    peak_rss: process.resourceUsage().maxRSS * 1024,
  }),
);
