"""Serve the demo site until Ctrl-C: ``python -m demosite [--port N]``."""

from __future__ import annotations

import argparse
import contextlib

from demosite.content import DEFAULT_SEED
from demosite.server import DemoServer


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m demosite", description="Serve the relnews demo health-news site."
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="content seed")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    server = DemoServer(args.host, args.port, seed=args.seed, verbose=args.verbose)
    print(f"Serving the demo site at {server.url} (Ctrl-C to stop)", flush=True)
    # Ctrl-C is the normal way to stop: no traceback.
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
