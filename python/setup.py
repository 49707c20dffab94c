"""Builds liboxsock with cargo and puts it inside the package (contract §11, Installing).

setuptools-rust does the cargo part: a ``Binding.NoBinding`` extension is a bare cdylib
(no Python API inside), copied to ``oxsock/liboxsock.abi3.so``. Because the distribution
then has an extension module, the wheel is a platform wheel; the library does not use
Python's C API at all, so it is tagged for the stable ABI (``cp38-abi3-<platform>``): one
wheel serves every CPython from 3.8.

The crate is the checkout's (``python/..``). An sdist carries a copy of it in ``crate/``
(see ``SdistWithCrate``), so that a wheel built from the sdist -- what ``python -m build``
does -- still finds it.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)

#: What of the crate an sdist needs to build the library (folders copied whole).
CRATE_FILES = ["Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "src", "include"]


def _is_oxsock_crate(folder):
    try:
        with open(os.path.join(folder, "Cargo.toml"), encoding="utf-8") as f:
            return 'name = "oxsock"' in f.read()
    except OSError:
        return False


def crate_dir():
    """The checkout when this is one, else the copy an sdist carries."""
    if _is_oxsock_crate(CHECKOUT):
        return CHECKOUT
    copy = os.path.join(HERE, "crate")
    if _is_oxsock_crate(copy):
        return copy
    raise SystemExit(
        f"oxsock: no crate to build: neither {CHECKOUT} nor {copy} holds oxsock's Cargo.toml"
    )


class SdistWithCrate(sdist):
    """An sdist that carries the crate in ``crate/``, beside the package."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        src = crate_dir()
        dst = os.path.join(base_dir, "crate")
        os.makedirs(dst, exist_ok=True)
        for name in CRATE_FILES:
            path = os.path.join(src, name)
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(dst, name),
                                ignore=shutil.ignore_patterns("target", "__pycache__"))
            elif os.path.exists(path):
                shutil.copy2(path, os.path.join(dst, name))


setup(
    rust_extensions=[
        RustExtension(
            "oxsock.liboxsock",
            path=os.path.relpath(os.path.join(crate_dir(), "Cargo.toml"), HERE),
            binding=Binding.NoBinding,
            py_limited_api=True,
        )
    ],
    cmdclass={"sdist": SdistWithCrate},
    options={"bdist_wheel": {"py_limited_api": "cp38"}},
)
