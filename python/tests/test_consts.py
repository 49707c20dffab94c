"""One source per table: every constant the Python package repeats from the C header
(``include/oxsock.h``, generated from the crate) has the header's value, and every
header constant of a table Python mirrors is there in Python -- status codes, options,
poll bits, domains, types, message flags, shutdown directions, the address text size,
the version -- and the library's own ``oxs_strerror`` knows each status Python names."""

from __future__ import annotations

import os
import re
import unittest
from typing import Dict

import oxsock
from oxsock import Option, Status, _lib

from .helpers import CHECKOUT

HEADER = os.path.join(CHECKOUT, "include", "oxsock.h")


def header_constants() -> Dict[str, int]:
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    found = {m.group(1): int(m.group(2)) for m in re.finditer(r"^#define (OXS_\w+) \(?(-?\d+)\)?\s*$", text, re.M)}
    # An enum-style table, should the header ever use one.
    for m in re.finditer(r"\b(OXS_[A-Z0-9_]+)\s*=\s*(-?\d+)", text):
        found.setdefault(m.group(1), int(m.group(2)))
    return found


def table(consts: Dict[str, int], prefix: str) -> Dict[str, int]:
    return {k[len(prefix):]: v for k, v in consts.items() if k.startswith(prefix)}


class OneSourcePerTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.h = header_constants()
        assert len(cls.h) > 60, f"too few constants parsed from {HEADER}: {cls.h}"

    def test_status_codes(self) -> None:
        codes = table(self.h, "OXS_ERR_")
        codes["OK"] = self.h["OXS_OK"]
        self.assertEqual({s.name: int(s) for s in Status}, codes, "oxsock.Status == the header's OXS_OK/OXS_ERR_*")
        for name, value in codes.items():
            text = oxsock.describe(value)
            self.assertNotEqual(text, "unknown status", f"oxs_strerror({name}) is not known to the library")
            self.assertEqual(Status[name].describe(), text)
            # Every status has its own exception class.
            if value:
                self.assertIs(oxsock.Error(value).status, Status[name])
        self.assertEqual(oxsock.describe(-12345), "unknown status")

    def test_options(self) -> None:
        self.assertEqual({o.name: int(o) for o in Option}, table(self.h, "OXS_OPT_"))

    def test_poll_bits(self) -> None:
        self.assertEqual({n: getattr(oxsock, "POLL_" + n) for n in table(self.h, "OXS_POLL_")},
                         table(self.h, "OXS_POLL_"))
        py = {n[5:]: getattr(oxsock, n) for n in oxsock.__all__ if n.startswith("POLL_")}
        self.assertEqual(py, table(self.h, "OXS_POLL_"))

    def test_domains_types_flags_shutdown(self) -> None:
        for prefix, py_prefix in (("OXS_DOMAIN_", ""), ("OXS_TYPE_", ""), ("OXS_MSG_", "MSG_"), ("OXS_SHUT_", "SHUT_")):
            c = table(self.h, prefix)
            self.assertTrue(c, prefix)
            py = {n: getattr(oxsock, py_prefix + n, None) for n in c}
            self.assertEqual(py, c, prefix)
        # And Python has no extra constant of those tables.
        for py_prefix, prefix in (("MSG_", "OXS_MSG_"), ("SHUT_", "OXS_SHUT_")):
            extra = {n for n in oxsock.__all__ if n.startswith(py_prefix)} - {py_prefix + n for n in table(self.h, prefix)}
            self.assertEqual(extra, set(), prefix)

    def test_sizes_and_version(self) -> None:
        self.assertEqual(_lib.ADDR_STRLEN, self.h["OXS_ADDR_STRLEN"])
        version = "%d.%d.%d" % (self.h["OXS_VERSION_MAJOR"], self.h["OXS_VERSION_MINOR"], self.h["OXS_VERSION_PATCH"])
        self.assertEqual(oxsock.library_version(), version)
        self.assertEqual(oxsock.__version__, version)
        for path in (os.path.join(CHECKOUT, "Cargo.toml"), os.path.join(CHECKOUT, "python", "pyproject.toml")):
            with open(path, encoding="utf-8") as f:
                m = re.search(r'^version = "([^"]+)"', f.read(), re.M)
            self.assertIsNotNone(m, path)
            self.assertEqual(m.group(1) if m else None, version, path)

    def test_every_declared_function_is_in_the_header(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        declared = set(re.findall(r"\b(oxs_\w+)\(", text))
        missing = sorted(set(_lib._PROTOTYPES) - declared)
        self.assertEqual(missing, [], "prototypes in _lib.py of functions the header does not declare")


if __name__ == "__main__":
    unittest.main()
