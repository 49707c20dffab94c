//! The Python package as a user installs it (contract §11, Installing), from a clean copy
//! of the checkout, in a fresh virtual environment outside it:
//!
//! - `pip wheel ./python` and `python -m build ./python` (which builds an sdist, then the
//!   wheel from the sdist alone, with a cargo target folder of its own: so the sdist must
//!   carry the crate) give the same platform wheel: same name and tag (not
//!   `py3-none-any`), same files, the same bytes for every file but the library, and a
//!   library that exports the same `oxs_*` functions;
//! - `pip install ./python` into the venv, then `import oxsock` from a folder outside
//!   the checkout with no `OXSOCK_LIBRARY`, `PYTHONPATH` or `LD_LIBRARY_PATH`: the library
//!   loaded is the one inside the installed package, and a socket pair echoes;
//! - `mypy --strict` on a user program (`python/tests/data/typed_user.py`) that uses the
//!   installed package is clean.
//!
//! Needs PyPI (the build requirements, `build` and `mypy` are installed into the venv).
mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(900);

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd` to completion within `LONG`, its output in files (cargo and pip print far
/// more than a pipe holds, and `common::run_bounded` reads its pipes only at the end).
fn ok(cmd: &mut Command, what: &str) -> Output {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("oxsock-python-package-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = N.fetch_add(1, Ordering::SeqCst);
    let (out_path, err_path) = (dir.join(format!("{n}.out")), dir.join(format!("{n}.err")));
    let desc = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    let status = common::wait_bounded(child, LONG, &desc).status;
    let out = Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    };
    assert!(out.status.success(), "{what} failed ({}):\n{}", out.status, text(&out));
    out
}

/// A command with none of the variables that would point Python or the loader at the
/// checkout, and pip quiet about being root.
fn clean(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in ["OXSOCK_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH", "PYTHONHOME", "VIRTUAL_ENV"] {
        cmd.env_remove(var);
    }
    cmd.env("PIP_ROOT_USER_ACTION", "ignore").env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    cmd
}

/// Copies what a clean checkout holds (tracked and untracked-but-not-ignored files).
fn copy_checkout(to: &Path) {
    let root = common::root();
    let out = ok(
        Command::new("git")
            .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
            .current_dir(&root),
        "git ls-files",
    );
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let rel = Path::new(std::str::from_utf8(name).expect("utf-8 file name"));
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

/// The only `.whl` in `dir`.
fn the_wheel(dir: &Path) -> PathBuf {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "one wheel in {}: {wheels:?}", dir.display());
    wheels[0].clone()
}

/// Every member of a wheel with its bytes (read with the venv's Python: no zip crate).
fn wheel_members(python: &Path, wheel: &Path, into: &Path) -> BTreeMap<String, Vec<u8>> {
    ok(clean(python).args(["-m", "zipfile", "-e"]).arg(wheel).arg(into), "unzip the wheel");
    let mut out = BTreeMap::new();
    let mut stack = vec![into.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(into).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The `oxs_*` functions a shared object exports.
fn exports(lib: &Path) -> Vec<String> {
    let out = ok(Command::new("readelf").args(["--dyn-syms", "-W"]).arg(lib), "readelf --dyn-syms");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(" FUNC ") && !l.contains(" UND "))
        .filter_map(|l| l.split_whitespace().last())
        .filter(|n| n.starts_with("oxs_"))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

#[test]
fn wheel_sdist_venv_install_and_mypy() {
    let base = std::env::temp_dir().join(format!("oxsock-python-package-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let src = base.join("checkout");
    copy_checkout(&src);
    let pkg = src.join("python");

    // A fresh venv, outside any checkout, with the tools a user would install.
    let venv = base.join("venv");
    ok(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv), "python3 -m venv");
    let py = venv.join("bin/python");
    ok(
        clean(&py).args(["-m", "pip", "install", "-q", "build", "mypy"]),
        "pip install build mypy (from PyPI)",
    );

    // 1. pip wheel ./python
    let w1 = base.join("wheel-pip");
    ok(
        clean(&py)
            .args(["-m", "pip", "wheel", "--no-deps", "-w"])
            .arg(&w1)
            .arg(&pkg)
            .env("CARGO_TARGET_DIR", base.join("target-pip")),
        "pip wheel ./python",
    );
    // 2. python -m build ./python: sdist, then the wheel from the sdist alone.
    let w2 = base.join("wheel-build");
    ok(
        clean(&py)
            .args(["-m", "build", "-o"])
            .arg(&w2)
            .arg(&pkg)
            .env("CARGO_TARGET_DIR", base.join("target-sdist")),
        "python -m build ./python",
    );
    let (a, b) = (the_wheel(&w1), the_wheel(&w2));
    let name = a.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(name, b.file_name().unwrap().to_string_lossy(), "the two wheels have the same name");
    assert!(!name.ends_with("-none-any.whl"), "a platform wheel, not a pure one: {name}");
    assert!(name.contains("-linux_") || name.contains("macosx"), "a platform tag: {name}");
    let sdists: Vec<_> = std::fs::read_dir(&w2)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    assert_eq!(sdists.len(), 1, "python -m build made an sdist: {sdists:?}");

    let ma = wheel_members(&py, &a, &base.join("unzip-pip"));
    let mb = wheel_members(&py, &b, &base.join("unzip-build"));
    assert_eq!(ma.keys().collect::<Vec<_>>(), mb.keys().collect::<Vec<_>>(), "the same files in both wheels");
    let lib = ma
        .keys()
        .find(|k| k.starts_with("oxsock/liboxsock"))
        .expect("the library is inside the package")
        .clone();
    assert!(ma.contains_key("oxsock/py.typed"), "py.typed is in the wheel");
    for (k, v) in &ma {
        // The library's bytes differ by the build folder's path in its debug information;
        // RECORD holds its hash.
        if *k != lib && !k.ends_with("/RECORD") {
            assert!(v == &mb[k], "{k} differs between the two wheels");
        }
    }
    let (ea, eb) =
        (exports(&base.join("unzip-pip").join(&lib)), exports(&base.join("unzip-build").join(&lib)));
    assert!(ea.len() > 40, "the packaged library exports the oxs_* functions: {ea:?}");
    assert_eq!(ea, eb, "both libraries export the same functions");
    let built = exports(&common::lib_dir().join("liboxsock.so"));
    assert_eq!(ea, built, "the packaged library exports what target/release/liboxsock.so does");

    // 3. pip install ./python, then use it from elsewhere with no variable set.
    ok(
        clean(&py)
            .args(["-m", "pip", "install", "--no-deps"])
            .arg(&pkg)
            .env("CARGO_TARGET_DIR", base.join("target-pip")),
        "pip install ./python",
    );
    let elsewhere = base.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let code = "import oxsock, os, sys\n\
                pkg = os.path.dirname(oxsock.__file__)\n\
                assert pkg.startswith(sys.prefix), (pkg, sys.prefix)\n\
                assert os.path.dirname(oxsock.library_path) == pkg, oxsock.library_path\n\
                a, b = oxsock.socketpair()\n\
                a.sendall(b'installed')\n\
                assert b.recv_exact(9) == b'installed'\n\
                with oxsock.listen('tcp://127.0.0.1:0') as srv, oxsock.dial('tcp://' + srv.local_addr, 5) as c:\n\
                \x20   conn, peer = srv.accept()\n\
                \x20   c.sendall(b'tcp'); assert conn.recv_exact(3) == b'tcp'; conn.close()\n\
                a.close(); b.close()\n\
                print('ok', oxsock.library_path, oxsock.library_version())\n\
                print(pkg)";
    let out = ok(clean(&py).args(["-c", code]).current_dir(&elsewhere), "import the installed package");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ok "), "{}", text(&out));
    eprintln!("{}", stdout.trim());
    // What pip install put in the venv is the wheel's package, file for file.
    let installed = PathBuf::from(stdout.lines().last().unwrap().trim());
    let mut files: Vec<String> = std::fs::read_dir(&installed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "__pycache__")
        .collect();
    files.sort();
    let mut in_wheel: Vec<String> =
        ma.keys().filter_map(|k| k.strip_prefix("oxsock/")).map(str::to_string).collect();
    in_wheel.sort();
    assert_eq!(files, in_wheel, "pip install ./python installs what the wheel holds");
    for f in files.iter().filter(|f| f.ends_with(".py")) {
        assert!(
            std::fs::read(installed.join(f)).unwrap() == ma[&format!("oxsock/{f}")],
            "{f} as in the wheel"
        );
    }

    // 4. mypy --strict on a user program, against the installed package.
    let prog = elsewhere.join("typed_user.py");
    std::fs::copy(common::root().join("python/tests/data/typed_user.py"), &prog).unwrap();
    ok(
        clean(&py)
            .args(["-m", "mypy", "--strict", "--no-incremental", "typed_user.py"])
            .current_dir(&elsewhere),
        "mypy --strict on a user program",
    );
    // And the program runs.
    ok(clean(&py).arg("typed_user.py").current_dir(&elsewhere), "the typed user program");

    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("oxsock-python-package-logs-{}", std::process::id())),
    );
}
