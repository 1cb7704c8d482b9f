// Steady load on one URL, to watch a `wrangler dev`'s workerd memory grow
// under plain requests (README, "Load and faults"):
//   node bench/health-load.mjs http://127.0.0.1:8787/health 150 4 GET
// while `grep VmRSS /proc/<workerd pid>/status` runs every 10 s.
// Arguments: URL, seconds, requests in flight, method (POST sends a small JSON body).
const [url, seconds, inFlight, method = "POST"] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const end = Date.now() + seconds * 1000;
let done = 0;
let failed = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (Date.now() < end) {
      const init = method === "GET" ? {} : { method, body: JSON.stringify({ text: "hello there", n: done }) };
      const response = await fetch(url, init);
      await response.arrayBuffer();
      if (!response.ok) failed++;
      done++;
    }
  }),
);
console.log(`requests ${done}, per second ${(done / seconds).toFixed(0)}, not 2xx ${failed}`);
