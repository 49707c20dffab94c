//! `make install` / `make uninstall` into a staging folder, then what a C project does
//! with the result: find oxsock with pkg-config, link it dynamically and statically, run
//! a real loopback echo with each program, and check what each binary depends on.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PREFIX: &str = "/opt/oxsock-test";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAJOR: &str = env!("CARGO_PKG_VERSION_MAJOR");

/// One process, one thread: a listener on an ephemeral loopback port, a client dialled
/// to it (the connect completes through the backlog), the server's side accepted, and
/// a message that goes client -> server -> client.
const ECHO_C: &str = r#"#include <stdio.h>
#include <string.h>
#include <oxsock.h>

#define CHECK(call) do { oxs_status st_ = (call); if (st_ != OXS_OK) { \
    fprintf(stderr, "%s: %s (%s)\n", #call, oxs_strerror(st_), oxs_last_error()); return 1; } } while (0)

int main(void)
{
    oxs_socket listener, client, server;
    oxs_addr local;
    char endpoint[64], buf[64];
    const char msg[] = "hello through an installed liboxsock";
    size_t n;

    CHECK(oxs_listen_on("tcp://127.0.0.1:0", &listener));
    CHECK(oxs_local_addr(listener, &local));
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", (int)oxs_addr_port(&local));
    CHECK(oxs_dial(endpoint, 5000, &client));
    CHECK(oxs_accept(listener, &server, NULL));
    CHECK(oxs_write_all(client, msg, sizeof msg, &n));
    CHECK(oxs_read_exact(server, buf, sizeof msg, &n));
    CHECK(oxs_write_all(server, buf, n, &n));
    memset(buf, 0, sizeof buf);
    CHECK(oxs_read_exact(client, buf, sizeof msg, &n));
    if (memcmp(buf, msg, sizeof msg) != 0) { fprintf(stderr, "echo mismatch\n"); return 1; }
    CHECK(oxs_close(server));
    CHECK(oxs_close(client));
    CHECK(oxs_close(listener));
    printf("echo ok %s %d.%d.%d\n", oxs_version(), OXS_VERSION_MAJOR, OXS_VERSION_MINOR, OXS_VERSION_PATCH);
    return 0;
}
"#;

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    common::run_bounded(cmd, Duration::from_secs(600)).tap_ok(what)
}

trait TapOk {
    fn tap_ok(self, what: &str) -> Self;
}

impl TapOk for std::process::Output {
    fn tap_ok(self, what: &str) -> Self {
        assert!(
            self.status.success(),
            "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.status,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        );
        self
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn make(stage: &Path, target: &str) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(common::root())
        .arg(target)
        .arg(format!("DESTDIR={}", stage.display()))
        .arg(format!("PREFIX={PREFIX}"));
    cmd
}

/// Every file and link (not folder) under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// `pkg-config ARGS oxsock` seen from the staging folder, split into arguments.
fn pkg_config(stage: &Path, args: &[&str]) -> Vec<String> {
    let out = run(
        Command::new("pkg-config")
            .args(args)
            .arg("oxsock")
            .env("PKG_CONFIG_PATH", stage.join(&PREFIX[1..]).join("lib/pkgconfig"))
            .env("PKG_CONFIG_SYSROOT_DIR", stage),
        &format!("pkg-config {args:?} oxsock"),
    );
    stdout(&out).split_whitespace().map(str::to_string).collect()
}

fn readelf_dynamic(bin: &Path) -> String {
    let out = common::run_bounded(Command::new("readelf").arg("-d").arg(bin), Duration::from_secs(60));
    // A fully static program has no dynamic section: readelf says so and succeeds.
    stdout(&out) + &String::from_utf8_lossy(&out.stderr)
}

fn gcc(args: &[String], what: &str) {
    run(Command::new("gcc").args(args), what);
}

fn expect_echo(bin: &Path, libdir: Option<&Path>, what: &str) {
    let mut cmd = Command::new(bin);
    cmd.env_remove("LD_LIBRARY_PATH");
    if let Some(dir) = libdir {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let out = common::run_bounded(&mut cmd, Duration::from_secs(30)).tap_ok(what);
    let v = VERSION;
    assert_eq!(stdout(&out).trim(), format!("echo ok {v} {v}"), "{what}: output");
}

#[test]
fn install_link_dynamic_and_static_run_then_uninstall() {
    let lib = common::lib_dir();
    let stage = common::scratch("make-install-stage");
    let work = common::scratch("make-install-work");
    let libdir = stage.join(&PREFIX[1..]).join("lib");
    let incdir = stage.join(&PREFIX[1..]).join("include");
    let real = format!("liboxsock.so.{VERSION}");
    let soname = format!("liboxsock.so.{MAJOR}");

    run(&mut make(&stage, "install"), "make install");

    // What was installed, and only that.
    let expected: Vec<PathBuf> = [
        format!("lib/{real}"),
        format!("lib/{soname}"),
        "lib/liboxsock.so".into(),
        "lib/liboxsock.a".into(),
        "lib/pkgconfig/oxsock.pc".into(),
        "include/oxsock.h".into(),
    ]
    .iter()
    .map(|p| Path::new(&PREFIX[1..]).join(p))
    .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(files_under(&stage), sorted, "files installed by make install");
    assert_eq!(
        std::fs::read_link(libdir.join(&soname)).unwrap(),
        PathBuf::from(&real),
        "{soname} links to {real}"
    );
    assert_eq!(
        std::fs::read_link(libdir.join("liboxsock.so")).unwrap(),
        PathBuf::from(&soname),
        "liboxsock.so links to {soname}"
    );
    assert!(std::fs::symlink_metadata(libdir.join(&real)).unwrap().is_file());
    assert_eq!(
        std::fs::read(incdir.join("oxsock.h")).unwrap(),
        std::fs::read(common::root().join("include/oxsock.h")).unwrap(),
        "installed header equals include/oxsock.h"
    );
    assert_eq!(
        std::fs::read(libdir.join("liboxsock.a")).unwrap(),
        std::fs::read(lib.join("liboxsock.a")).unwrap(),
        "installed archive equals target/release/liboxsock.a"
    );
    let pc = std::fs::read_to_string(libdir.join("pkgconfig/oxsock.pc")).unwrap();
    assert!(pc.contains(&format!("\nVersion: {VERSION}\n")), "oxsock.pc version:\n{pc}");
    assert!(pc.contains(&format!("\nprefix={PREFIX}\n")), "oxsock.pc prefix:\n{pc}");
    let unfilled: Vec<&str> = pc.lines().filter(|l| !l.starts_with('#') && l.contains('@')).collect();
    assert!(unfilled.is_empty(), "oxsock.pc has unfilled @FIELD@s: {unfilled:?}");

    // The soname the lead sets in build.rs, so that programs record liboxsock.so.MAJOR.
    let dynamic = readelf_dynamic(&libdir.join(&real));
    assert!(
        dynamic.contains(&format!("Library soname: [{soname}]")),
        "liboxsock.so has no soname {soname} (build.rs should link with -Wl,-soname,{soname}):\n{dynamic}"
    );

    if !common::have_tool("pkg-config") {
        run(&mut make(&stage, "uninstall"), "make uninstall");
        return;
    }
    assert_eq!(pkg_config(&stage, &["--modversion"]), vec![VERSION.to_string()]);
    let cflags = pkg_config(&stage, &["--cflags"]);
    let libs = pkg_config(&stage, &["--libs"]);
    let static_flags = pkg_config(&stage, &["--static", "--cflags", "--libs"]);
    assert!(libs.contains(&"-loxsock".to_string()), "pkg-config --libs: {libs:?}");

    let src = work.join("echo.c");
    std::fs::write(&src, ECHO_C).unwrap();
    let strict = ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror"].map(String::from);
    let path = |p: &Path| p.display().to_string();

    // 1. Dynamic: `cc app.c $(pkg-config --cflags --libs oxsock)`.
    let dyn_bin = work.join("echo-dynamic");
    let mut args: Vec<String> = strict.to_vec();
    args.extend(cflags.iter().cloned());
    args.extend([path(&src), "-o".into(), path(&dyn_bin)]);
    args.extend(libs.iter().cloned());
    gcc(&args, "gcc (dynamic, pkg-config)");
    let d = readelf_dynamic(&dyn_bin);
    assert!(
        d.contains(&format!("Shared library: [{soname}]")),
        "the dynamic program should need {soname} (the soname), not the dev link:\n{d}"
    );
    expect_echo(&dyn_bin, Some(&libdir), "dynamic program");
    let ldd = stdout(&run(Command::new("ldd").arg(&dyn_bin).env("LD_LIBRARY_PATH", &libdir), "ldd"));
    assert!(
        ldd.contains(&format!("{soname} => {}", path(&libdir.join(&soname)))),
        "ldd should resolve {soname} in the installed lib folder:\n{ldd}"
    );

    // 2. Fully static: `cc -static app.c $(pkg-config --static --cflags --libs oxsock)`.
    let static_bin = work.join("echo-static");
    let mut args: Vec<String> = strict.to_vec();
    args.extend(["-static".into(), path(&src), "-o".into(), path(&static_bin)]);
    args.extend(static_flags.iter().cloned());
    gcc(&args, "gcc -static (pkg-config --static)");
    let d = readelf_dynamic(&static_bin);
    assert!(
        !d.contains("liboxsock") && !d.contains("NEEDED"),
        "the static program needs shared libraries:\n{d}"
    );
    expect_echo(&static_bin, None, "fully static program");

    // 3. The archive inside an otherwise dynamic program: name liboxsock.a instead of
    //    -loxsock, and take the rest of `pkg-config --static --libs` (Libs.private).
    let mixed_bin = work.join("echo-archive");
    let mut args: Vec<String> = strict.to_vec();
    args.extend(cflags.iter().cloned());
    args.extend([path(&src), "-o".into(), path(&mixed_bin)]);
    args.push(path(&libdir.join("liboxsock.a")));
    args.extend(pkg_config(&stage, &["--static", "--libs"]).into_iter().filter(|a| a != "-loxsock"));
    gcc(&args, "gcc (liboxsock.a in a dynamic program)");
    let d = readelf_dynamic(&mixed_bin);
    assert!(!d.contains("liboxsock"), "linked with liboxsock.a, the program still needs liboxsock.so:\n{d}");
    assert!(d.contains("NEEDED"), "the archive program should be dynamic (libc):\n{d}");
    expect_echo(&mixed_bin, None, "program with liboxsock.a");

    // Uninstall removes exactly what install put there.
    run(&mut make(&stage, "uninstall"), "make uninstall");
    assert_eq!(files_under(&stage), Vec::<PathBuf>::new(), "make uninstall left files behind");
}
