"""A bounded load test of `maskdet serve` over loopback, from another process, as a client
program would use it: REQUESTS posts of one photo from CLIENTS concurrent keep-alive
connections; every answer must be 200 with JSON detections (the same count for every request:
same picture, same model). Prints the throughput and the p50/p99 latency seen by the clients.
  python3 tests/serve/load_test.py --maskdet build/apps/maskdet --make-voc build/apps/make_synthetic_voc
  python3 tests/serve/load_test.py --maskdet ... --snapshot S --photo P [--requests 2000 --clients 8 -- SERVE FLAGS]
Without --snapshot it trains the tiny snapshot (serve_util.py) and serves it at --score-threshold 0."""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_util  # noqa: E402


def client(url, body, count, latencies, problems, counts):
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    for _ in range(count):
        start = time.perf_counter()
        try:
            connection.request("POST", "/v1/detect", body, {"Content-Type": "image/jpeg"})
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            problems.append(f"no answer: {e!r}")
            connection.close()
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            continue
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            problems.append(f"status {response.status}: {data[:200]!r}")
            continue
        try:
            answer = json.loads(data)
            detections = answer["detections"]
            assert isinstance(detections, list) and all({"class", "score", "box"} <= d.keys() for d in detections)
            counts.add(len(detections))
        except (ValueError, KeyError, AssertionError) as e:
            problems.append(f"bad JSON ({e!r}): {data[:200]!r}")
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maskdet", required=True)
    parser.add_argument("--make-voc", help="make_synthetic_voc, to make the tiny snapshot")
    parser.add_argument("--snapshot")
    parser.add_argument("--photo")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("serve_flags", nargs="*", help="more flags for maskdet serve (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maskdet_load_") as workdir:
        snapshot, photo, flags = args.snapshot, args.photo, args.serve_flags
        if not snapshot:
            snapshot, photo = serve_util.tiny_snapshot(args.maskdet, args.make_voc, workdir)
            # The server's own throughput: the first pass only (--min-face 0; the small-face pass is on by default).
            flags = ["--score-threshold", "0", "--queue-size", str(2 * args.clients), "--min-face", "0"] + flags
        body = open(photo, "rb").read()
        with serve_util.Server(args.maskdet, snapshot, *flags) as server:
            latencies, problems, counts = [], [], set()
            per_client = [args.requests // args.clients + (i < args.requests % args.clients) for i in range(args.clients)]
            threads = [threading.Thread(target=client, args=(server.url, body, n, latencies, problems, counts))
                       for n in per_client]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - start
        latencies.sort()
        ms = [1000 * x for x in latencies]
        p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")  # noqa: E731
        print(f"maskdet serve load test: {args.requests} requests of {photo} ({len(body)} bytes) from {args.clients} "
              f"clients in {seconds:.1f} s: {args.requests / seconds:.1f} requests/s, latency p50 {p(0.5):.1f} ms, "
              f"p99 {p(0.99):.1f} ms, max {ms[-1] if ms else float('nan'):.1f} ms, mean "
              f"{statistics.fmean(ms) if ms else float('nan'):.1f} ms")
        if problems:
            print(f"FAILED: {len(problems)} of {args.requests} answers were wrong; the first: {problems[:5]}")
            return 1
        if len(counts) != 1:
            print(f"FAILED: the same picture got different detection counts: {sorted(counts)}")
            return 1
        print(f"every answer was 200 with {counts.pop()} detections")
        return 0


if __name__ == "__main__":
    sys.exit(main())
