"""Where the library is looked for (contract §11), each case in a fresh interpreter:
$OXSOCK_LIBRARY only when set, else the checkout's target/release then target/debug,
else the package's own folder (where pip puts it), else the system library path; an
ImportError lists every place tried, and its advice fits what it found."""

from __future__ import annotations

import ctypes.util
import os
import shutil
import unittest

import oxsock

from .helpers import PYTHON_DIR, ScratchMixin, run_python

REAL_LIB = os.path.realpath(oxsock.library_path)
PROBE = "import oxsock; print(oxsock.library_path)"
FAIL_PROBE = (
    "try:\n"
    "    import oxsock\n"
    "    print('LOADED', oxsock.library_path)\n"
    "except ImportError as e:\n"
    "    print('IMPORTERROR'); print(e)\n"
)


class Loading(ScratchMixin):
    def copy_package(self, root: str) -> str:
        """Copies the package to ``root/python/oxsock``; returns ``root/python``."""
        dst = os.path.join(root, "python")
        shutil.copytree(os.path.join(PYTHON_DIR, "oxsock"), os.path.join(dst, "oxsock"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        return dst

    def env(self, pythonpath: str, **extra):
        e = {"PYTHONPATH": pythonpath, "OXSOCK_LIBRARY": None, "LD_LIBRARY_PATH": None}
        e.update(extra)
        return e

    def test_env_var_is_used(self) -> None:
        r = run_python(PROBE, env={"OXSOCK_LIBRARY": REAL_LIB})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), REAL_LIB)

    def test_env_var_naming_nothing_fails_with_its_path(self) -> None:
        missing = os.path.join(self.tmp, "nowhere", "liboxsock.so")
        r = run_python(FAIL_PROBE, env={"OXSOCK_LIBRARY": missing})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("IMPORTERROR"), r.stdout)
        self.assertIn(missing, r.stdout)

    def test_env_var_is_the_only_place_when_set(self) -> None:
        # Even in the checkout, where target/release has a library, a bad variable fails.
        junk = os.path.join(self.tmp, "liboxsock.so")
        with open(junk, "w") as f:
            f.write("not a shared object\n")
        r = run_python(FAIL_PROBE, env={"OXSOCK_LIBRARY": junk, "PYTHONPATH": PYTHON_DIR})
        self.assertTrue(r.stdout.startswith("IMPORTERROR"), r.stdout + r.stderr)
        self.assertIn(junk, r.stdout)

    def test_env_var_naming_another_library(self) -> None:
        libc = ctypes.util.find_library("c")
        r = run_python(FAIL_PROBE, env={"OXSOCK_LIBRARY": libc})
        self.assertTrue(r.stdout.startswith("IMPORTERROR"), r.stdout + r.stderr)
        self.assertIn("oxs_", r.stdout)

    def test_checkout_release_before_debug(self) -> None:
        root = os.path.join(self.tmp, "checkout")
        os.makedirs(os.path.join(root, "target", "debug"))
        with open(os.path.join(root, "Cargo.toml"), "w") as f:
            f.write('[package]\nname = "oxsock"\nversion = "0.1.0"\n')
        pp = self.copy_package(root)
        debug = os.path.join(root, "target", "debug", "liboxsock.so")
        os.symlink(REAL_LIB, debug)
        r = run_python(PROBE, env=self.env(pp), cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), debug, "target/debug when there is no release build")
        os.makedirs(os.path.join(root, "target", "release"))
        release = os.path.join(root, "target", "release", "liboxsock.so")
        os.symlink(REAL_LIB, release)
        r = run_python(PROBE, env=self.env(pp), cwd=self.tmp)
        self.assertEqual(r.stdout.strip(), release, r.stderr)

    def test_the_real_checkout_is_found_without_the_variable(self) -> None:
        r = run_python(PROBE, env=self.env(PYTHON_DIR), cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip().endswith(os.path.join("target", "release", "liboxsock.so"))
                        or r.stdout.strip().endswith(os.path.join("target", "debug", "liboxsock.so")), r.stdout)

    def test_system_library_path(self) -> None:
        libdir = os.path.join(self.tmp, "lib")
        os.makedirs(libdir)
        shutil.copy(REAL_LIB, os.path.join(libdir, "liboxsock.so"))
        pp = self.copy_package(os.path.join(self.tmp, "site"))  # no checkout above it
        r = run_python(PROBE, env=self.env(pp, LD_LIBRARY_PATH=libdir), cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("liboxsock.so", r.stdout)

    def test_nothing_found_lists_every_place(self) -> None:
        pp = self.copy_package(os.path.join(self.tmp, "site"))
        r = run_python(FAIL_PROBE, env=self.env(pp), cwd=self.tmp)
        if r.stdout.startswith("LOADED"):
            self.skipTest(f"a liboxsock is installed on this system ({r.stdout.strip()}): cannot test the failure")
        self.assertTrue(r.stdout.startswith("IMPORTERROR"), r.stdout + r.stderr)
        self.assertIn("no oxsock checkout", r.stdout)
        self.assertIn(os.path.join(pp, "oxsock", "liboxsock.abi3.so"), r.stdout, "the package folder was tried")
        self.assertIn("liboxsock.so", r.stdout)
        self.assertIn("OXSOCK_LIBRARY", r.stdout, "the message says how to fix it")
        # Outside a checkout there is nothing to `cargo build`: it says to install.
        self.assertIn("pip install", r.stdout)
        self.assertNotIn("cargo build", r.stdout)

    def fake_checkout(self) -> str:
        root = os.path.join(self.tmp, "checkout")
        os.makedirs(os.path.join(root, "target"))
        with open(os.path.join(root, "Cargo.toml"), "w") as f:
            f.write('[package]\nname = "oxsock"\nversion = "0.1.0"\n')
        return root

    def test_checkout_without_a_build_says_build_it(self) -> None:
        root = self.fake_checkout()
        pp = self.copy_package(root)
        r = run_python(FAIL_PROBE, env=self.env(pp), cwd=self.tmp)
        if r.stdout.startswith("LOADED"):
            self.skipTest(f"a liboxsock is installed on this system ({r.stdout.strip()})")
        self.assertIn("cargo build --release", r.stdout)
        self.assertIn(root, r.stdout)

    def test_a_build_that_does_not_load_is_not_told_to_build(self) -> None:
        root = self.fake_checkout()
        os.makedirs(os.path.join(root, "target", "release"))
        junk = os.path.join(root, "target", "release", "liboxsock.so")
        with open(junk, "w") as f:
            f.write("not a shared object\n")
        pp = self.copy_package(root)
        r = run_python(FAIL_PROBE, env=self.env(pp), cwd=self.tmp)
        if r.stdout.startswith("LOADED"):
            self.skipTest(f"a liboxsock is installed on this system ({r.stdout.strip()})")
        self.assertTrue(r.stdout.startswith("IMPORTERROR"), r.stdout + r.stderr)
        self.assertIn(f"{junk} exists but did not load", r.stdout)
        self.assertNotIn("cargo build", r.stdout, "the build is there: do not tell them to build it")

    def test_package_folder_after_the_checkout(self) -> None:
        # Installed (no checkout above): the copy inside the package is used.
        site = os.path.join(self.tmp, "site")
        pp = self.copy_package(site)
        packaged = os.path.join(pp, "oxsock", "liboxsock.abi3.so")
        shutil.copy(REAL_LIB, packaged)
        r = run_python(PROBE, env=self.env(pp), cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), packaged)
        # In a checkout, a fresh build wins over a copy in the package.
        root = self.fake_checkout()
        pp = self.copy_package(root)
        shutil.copy(REAL_LIB, os.path.join(pp, "oxsock", "liboxsock.abi3.so"))
        r = run_python(PROBE, env=self.env(pp), cwd=self.tmp)
        self.assertEqual(r.stdout.strip(), os.path.join(pp, "oxsock", "liboxsock.abi3.so"), "no build yet: the copy")
        os.makedirs(os.path.join(root, "target", "release"))
        release = os.path.join(root, "target", "release", "liboxsock.so")
        os.symlink(REAL_LIB, release)
        r = run_python(PROBE, env=self.env(pp), cwd=self.tmp)
        self.assertEqual(r.stdout.strip(), release, r.stderr)


if __name__ == "__main__":
    unittest.main()
