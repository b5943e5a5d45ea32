import { test } from "node:test";
import assert from "node:assert/strict";
import { parseWrk } from "./wrk.ts";

// Printed by wrk 4.1.0 (Debian 12) against nginx on this host.
const sample = `Running 2s test @ http://127.0.0.1:18080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   809.01us  176.52us   3.79ms   93.23%
    Req/Sec    62.06k     4.21k   65.86k    85.00%
  Latency Distribution
     50%  763.00us
     75%  809.00us
     90%    0.90ms
     99%    1.58ms
  123191 requests in 2.00s, 99.86MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  61542.14
Transfer/sec:     49.89MB
`;

test("wrk's report is read: rate, latency percentiles in us, errors", () => {
  const r = parseWrk(sample);
  assert.equal(r.requests, 123191);
  assert.equal(r.seconds, 2);
  assert.equal(r.req_per_s, 61542.14);
  assert.deepEqual(r.latency_us, { mean: 809, p50: 763, p75: 809, p90: 900, p99: 1580 });
  assert.equal(r.errors, 7);
});

test("a wrk run that printed no report is an error showing its output", () => {
  assert.throws(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"), /wrk printed no report:\nunable to connect/);
  assert.throws(() => parseWrk(sample.replace(/ {5}99%.*\n/, "")), /no 99% latency/);
});
