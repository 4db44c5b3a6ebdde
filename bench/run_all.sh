#!/usr/bin/env bash
# Runs every benchmark (about 7 minutes on the 2-core machine) and prints the figures.
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379; each script makes
# and drops its own database and cleans its own Redis key prefix.
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv/bin/python
echo "Tokowa benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
$PY webhook_latency.py
$PY purchase_throughput.py
# tokowa serve --workers 2 beside one worker (same run): purchases/s and CPU per purchase summed over the workers
$PY purchase_throughput.py --skip-raw --variant workers2
$PY browse_cache.py
$PY memory.py
$PY embedded.py
echo "Targets: ack p99 < 20 ms and p99 < 50 ms at 200 customers (a); purchases >= 1.0x raw and CPU per purchase <= raw's (b);"
echo "         --workers 2 >= 1.0x one worker, app CPU per purchase within 10% (b);"
echo "         browse hit rate >= 95% (c); < 150 MB per worker (d);"
echo "         embedded SQLite, no Redis: ack p99 < 100 ms and median < 10 ms at 20 and 64 customers buying, >= 100 purchases/s (e)."
