"""How much a kiosk tablet downloads to start: the /kiosk page and everything it pulls in
(script, style, icon, web manifest) plus the service worker, as served and gzip-compressed.

Goal (issue 5): at most 50 KB in all, the service worker included. Results in docs/kiosk.md.

    .venv/bin/python bench/bench_kiosk_size.py
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey import create_app  # noqa: E402

GOAL = 50 * 1024
LINKS = re.compile(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"')
SERVICE_WORKER = re.compile(r'data-sw="([^"]+)"')


def main() -> None:
    app = create_app(
        {
            "CONFIG_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "bench-" + "x" * 32,
        }
    )
    client = app.test_client()
    page = client.get("/kiosk").get_data(as_text=True)
    urls = ["/kiosk", *LINKS.findall(page), SERVICE_WORKER.search(page).group(1)]
    rows = []
    for url in urls:
        with client.get(url) as response:
            assert response.status_code == 200, url
            body = response.get_data()
        rows.append((url, len(body), len(gzip.compress(body, compresslevel=6))))
    width = max(len(url) for url, _, _ in rows)
    print(f"{'file':<{width}}  {'bytes':>7}  {'gzip -6':>7}")
    for url, raw, packed in rows:
        print(f"{url:<{width}}  {raw:>7}  {packed:>7}")
    raw_total = sum(raw for _, raw, _ in rows)
    packed_total = sum(packed for _, _, packed in rows)
    print(f"{'total':<{width}}  {raw_total:>7}  {packed_total:>7}")
    verdict = "meets" if raw_total <= GOAL else "MISSES"
    print(f"{verdict} the goal of {GOAL} bytes (50 KB) uncompressed; {packed_total} bytes gzipped")
    if raw_total > GOAL:
        sys.exit(1)


if __name__ == "__main__":
    main()
