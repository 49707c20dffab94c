"""Type hints (contract §11, Installing): ``mypy --strict`` is clean on the package and
on a user program (``data/typed_user.py``), when mypy is installed here.
tests/python_package.rs runs the same check in a fresh venv with mypy from PyPI, against
the installed package, so CI always covers it."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest

import oxsock

from .helpers import PYTHON_DIR

try:
    import mypy  # noqa: F401

    HAVE_MYPY = True
except ImportError:
    HAVE_MYPY = False
    sys.stderr.write("\n*** NOT TESTED here: mypy is not installed (tests/python_package.rs checks it) ***\n")


@unittest.skipUnless(HAVE_MYPY, "mypy is not installed")
class MypyStrict(unittest.TestCase):
    def mypy(self, *args: str) -> None:
        env = dict(os.environ, MYPYPATH=PYTHON_DIR)
        r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", *args],
                           cwd=PYTHON_DIR, env=env, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_package(self) -> None:
        self.mypy("-p", "oxsock")

    def test_user_program(self) -> None:
        self.mypy(os.path.join("tests", "data", "typed_user.py"))



class AllIsLiteral(unittest.TestCase):
    def test_all_is_literal_and_complete(self) -> None:
        # Every public name is listed in __all__ literally (mypy reads only literals).
        import ast

        with open(os.path.join(PYTHON_DIR, "oxsock", "__init__.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        lists = [n.value for n in tree.body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
        self.assertEqual(len(lists), 1)
        value = lists[0]
        assert isinstance(value, ast.List)
        self.assertTrue(all(isinstance(e, ast.Constant) for e in value.elts), "no splat in __all__")
        names = [e.value for e in value.elts if isinstance(e, ast.Constant)]
        self.assertEqual(sorted(names), sorted(oxsock.__all__))
        public = {n for n in dir(oxsock) if not n.startswith("_") and not isinstance(getattr(oxsock, n), type(os))}
        self.assertEqual(public - set(names) - {"annotations"}, set(), "public names missing from __all__")


if __name__ == "__main__":
    unittest.main()
