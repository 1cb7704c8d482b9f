// A CPU profile of the worker isolate of a running `wrangler dev`, taken
// through wrangler's inspector proxy (Chrome DevTools Protocol, V8
// `Profiler`), and where its time went, with the wasm functions named from
// the symbol map every `cargo xtask build` writes
// (worker/build/index_bg.symbols.txt).
//
//   node_modules/.bin/node bench/cpu-profile.mjs INSPECTOR_PORT SECONDS [OUT.cpuprofile]
//
// INSPECTOR_PORT is the `--inspector-port` of the `wrangler dev` (the tests'
// and the bench's servers pick a free one: `ps aux | grep inspector-port`).
// Prints the self time of the top functions and the time of each entry
// point (a request, a queue batch, a Durable Object, a spawned task).
// OUT (default /tmp/edgechat.cpuprofile) opens in Chrome DevTools.
import { readFileSync, writeFileSync } from "node:fs";

const [port, seconds, out = "/tmp/edgechat.cpuprofile"] = process.argv.slice(2);
if (!port || !seconds) {
  console.error("usage: cpu-profile.mjs INSPECTOR_PORT SECONDS [OUT]");
  process.exit(2);
}
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { origin: "http://localhost" } });
const fail = (why) => {
  console.error(`cpu-profile: ${why}`);
  process.exit(1);
};
ws.onerror = (event) => fail(`the inspector at port ${port} refused: ${event.message ?? event.type}`);
const deadline = setTimeout(() => fail("no profile within the time asked plus 30 s"), (Number(seconds) + 30) * 1000);
let nextId = 0;
const waiting = new Map();
const call = (method, params) =>
  new Promise((resolve) => {
    const id = ++nextId;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
ws.onmessage = ({ data }) => {
  const reply = JSON.parse(data);
  if (waiting.has(reply.id)) {
    waiting.get(reply.id)(reply);
    waiting.delete(reply.id);
  }
};
ws.onopen = async () => {
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  await new Promise((done) => setTimeout(done, Number(seconds) * 1000));
  const { result } = await call("Profiler.stop");
  writeFileSync(out, JSON.stringify(result.profile));
  report(result.profile);
  clearTimeout(deadline);
  ws.close();
};

function report(profile) {
  const symbols = new Map();
  try {
    for (const line of readFileSync("worker/build/index_bg.symbols.txt", "utf8").split("\n")) {
      const at = line.indexOf(":");
      if (at > 0) symbols.set(line.slice(0, at), line.slice(at + 1));
    }
  } catch {
    console.error("no worker/build/index_bg.symbols.txt: wasm functions stay numbered");
  }
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n) => {
    const f = n.callFrame.functionName || "(anonymous)";
    const wasm = /^wasm-function\[(\d+)\]$/.exec(f);
    return (wasm ? symbols.get(wasm[1]) ?? f : f).replace(/\[[0-9a-f]{10,}\]/g, "");
  };
  const self = new Map();
  const entries = new Map();
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  let total = 0;
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    add(self, name(nodes.get(sample)), us);
    let entry = "(JS only: runtime, glue, promise reactions)";
    for (let id = sample; id !== undefined; id = parent.get(id)) {
      const f = name(nodes.get(id));
      const root = /future_to_promise::<([^>]*?)(::\{closure|>)/.exec(f) ?? /edgechat_worker::(\w+::)*\w+::\{closure#0\}$/.exec(f);
      if (root) entry = root[1] ?? root[0];
      if (f === "(idle)") entry = "(idle)";
    }
    add(entries, entry, us);
  });
  const top = (map, n) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms  ${k.slice(0, 150)}`);
  console.log(`${(total / 1000).toFixed(0)} ms profiled; written to ${out}\n-- by entry point`);
  console.log(top(entries, 15).join("\n"));
  console.log("-- self time");
  console.log(top(self, 25).join("\n"));
}
