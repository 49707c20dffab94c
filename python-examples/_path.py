"""Lets the examples run straight from a checkout: when ``oxsock`` is not importable
(not installed, no PYTHONPATH), use the checkout's ``python/`` folder."""

import os
import sys

try:
    import oxsock  # noqa: F401
except ImportError as e:
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.join(os.path.dirname(here), "python")
    if os.path.isdir(os.path.join(pkg, "oxsock")) and pkg not in sys.path:
        sys.path.insert(0, pkg)
    elif "liboxsock" in str(e):
        raise
