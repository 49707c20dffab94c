//! Header and ABI discipline: `include/oxsock.h` compiles cleanly as C99, C11 and C++17,
//! its version macros agree with Cargo.toml and `oxs_version()`, every function it
//! declares is documented, the library exports exactly the checked-in list of `oxs_`
//! functions, the committed header is what the build generates, and the contract
//! checker of `../shared/tools` accepts it.
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn header() -> PathBuf {
    common::root().join("include/oxsock.h")
}

fn header_text() -> String {
    common::lib_dir();
    std::fs::read_to_string(header()).expect("read include/oxsock.h")
}

fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = common::run_bounded(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A translation unit that uses the header's types, constants and a few functions, and
/// includes it twice (the include guard must hold).
const USE_HEADER: &str = r#"
#include "oxsock.h"
#include "oxsock.h"

int use_header(void);
int use_header(void)
{
    oxs_socket s = OXS_INVALID;
    oxs_addr a;
    oxs_pollitem item;
    oxs_event ev;
    oxs_status st = oxs_addr_parse("127.0.0.1:80", &a);
    item.socket = s;
    item.events = OXS_POLL_IN | OXS_POLL_OUT;
    item.revents = 0;
    ev.token = 0;
    ev.events = OXS_POLL_HUP;
    ev.reserved = 0;
    return (int)st + item.events + ev.events + OXS_ERR_PANIC + OXS_VERSION_MAJOR
        + (oxs_addr_port(&a) == 80) + (oxs_strerror(OXS_OK)[0] != '\0');
}
"#;

#[test]
fn header_compiles_as_c99_c11_and_cpp17_without_warnings() {
    common::lib_dir();
    let dir = common::scratch("header-compiles");
    let c_src = dir.join("use.c");
    let cpp_src = dir.join("use.cpp");
    std::fs::write(&c_src, USE_HEADER).unwrap();
    std::fs::write(&cpp_src, USE_HEADER).unwrap();
    let include = format!("-I{}", common::root().join("include").display());
    let strict = ["-Wall", "-Wextra", "-pedantic", "-Werror"];
    for (compiler, std, src) in
        [("gcc", "-std=c99", &c_src), ("gcc", "-std=c11", &c_src), ("g++", "-std=c++17", &cpp_src)]
    {
        let obj = dir.join(format!("use-{}.o", &std[5..]));
        run_ok(
            Command::new(compiler).arg(std).args(strict).arg(&include).arg("-c").arg(src).arg("-o").arg(&obj),
            &format!("{compiler} {std} -Wall -Wextra -pedantic -Werror on oxsock.h"),
        );
    }
}

#[test]
fn cpp_program_links_against_the_c_names() {
    // Proves the extern "C" guard: a C++ caller links to the unmangled functions.
    let lib = common::lib_dir();
    let dir = common::scratch("header-cpp-link");
    let src = dir.join("main.cpp");
    std::fs::write(
        &src,
        r#"#include "oxsock.h"
#include <cstdio>
#include <cstring>
int main() {
    oxs_addr a;
    if (oxs_addr_parse("[::1]:8080", &a) != OXS_OK) return 1;
    char buf[OXS_ADDR_STRLEN];
    size_t len = 0;
    if (oxs_addr_format(&a, buf, sizeof buf, &len) != OXS_OK) return 2;
    std::printf("%s %s\n", oxs_version(), buf);
    return std::strcmp(buf, "[::1]:8080") == 0 ? 0 : 3;
}
"#,
    )
    .unwrap();
    let exe = dir.join("main");
    run_ok(
        Command::new("g++")
            .args(["-std=c++17", "-Wall", "-Wextra", "-pedantic", "-Werror"])
            .arg(format!("-I{}", common::root().join("include").display()))
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .arg(format!("-L{}", lib.display()))
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-loxsock"),
        "g++ link against liboxsock",
    );
    let out = run_ok(&mut Command::new(&exe), "the C++ program");
    assert_eq!(out.trim(), format!("{} [::1]:8080", env!("CARGO_PKG_VERSION")), "C++ program output");
}

#[test]
fn version_macros_match_cargo_toml_and_oxs_version() {
    let dir = common::scratch("header-version");
    let src = dir.join("version.c");
    std::fs::write(
        &src,
        r#"#include <stdio.h>
#include "oxsock.h"
int main(void) {
    printf("%d.%d.%d\n%s\n", (int)OXS_VERSION_MAJOR, (int)OXS_VERSION_MINOR,
           (int)OXS_VERSION_PATCH, oxs_version());
    return 0;
}
"#,
    )
    .unwrap();
    let exe = dir.join("version");
    common::compile_c(&[&src], &exe, &[]);
    let out = run_ok(&mut Command::new(&exe), "version program");
    let lines: Vec<&str> = out.lines().collect();
    let cargo = env!("CARGO_PKG_VERSION");
    assert_eq!(
        lines,
        vec![cargo, cargo],
        "OXS_VERSION_MAJOR.MINOR.PATCH and oxs_version() must both equal Cargo.toml's {cargo}"
    );
}

/// The functions the header declares: every top-level line (column 0) that names an
/// `oxs_` identifier directly before its first `(`, with the line it starts on.
fn declared_functions(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let first = line.chars().next().unwrap_or(' ');
        if first.is_whitespace()
            || "#/*}{".contains(first)
            || line.starts_with("typedef")
            || line.starts_with("extern \"C\"")
        {
            continue;
        }
        let Some(paren) = line.find('(') else {
            continue;
        };
        let before = line[..paren].trim_end();
        let name: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.starts_with("oxs_") {
            found.push((i, name));
        }
    }
    found
}

/// The declared functions whose line above is not the end of a comment.
fn undocumented_functions(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut undocumented = Vec::new();
    for (i, name) in declared_functions(text) {
        let above = if i == 0 { "" } else { lines[i - 1].trim() };
        let documented = above.ends_with("*/") || above.starts_with("//");
        if !documented {
            undocumented.push(format!("  line {}: {name} (line above: {above:?})", i + 1));
        }
    }
    undocumented
}

#[test]
fn doc_comment_check_finds_what_it_should() {
    let text = "/** Documented. */\noxs_status oxs_a(int32_t x);\n\
                \n\
                oxs_status oxs_b(oxs_socket s,\n    int32_t y);\n\
                // Also documented.\nconst char *oxs_c(void);\n\
                typedef void (*oxs_cb)(int);\n#define OXS_X(a) (a)\n  OXS_OK = 0,\n";
    let names: Vec<String> = declared_functions(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["oxs_a", "oxs_b", "oxs_c"]);
    let missing = undocumented_functions(text);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(missing[0].contains("oxs_b"), "{missing:?}");
}

#[test]
fn every_declared_function_has_a_doc_comment_directly_above() {
    let text = header_text();
    let funcs = declared_functions(&text);
    assert!(
        funcs.len() >= 40,
        "found only {} function declarations in oxsock.h; the parser in this test or the header is off",
        funcs.len()
    );
    let undocumented = undocumented_functions(&text);
    assert!(
        undocumented.is_empty(),
        "functions in include/oxsock.h without a doc comment directly above them \
         (write a /// comment on the extern \"C\" fn; cbindgen copies it):\n{}",
        undocumented.join("\n")
    );
}

/// The defined dynamic function symbols of a shared library (names without version tags).
fn exported_functions(so: &Path) -> BTreeSet<String> {
    let out = run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(so), "nm -D --defined-only");
    out.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (_addr, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
            // T/W: (weak) text symbols; i: an indirect function. Data symbols are not functions.
            matches!(kind, "T" | "W" | "i").then(|| name.split('@').next().unwrap().to_string())
        })
        .collect()
}

fn abi_list_path() -> PathBuf {
    common::root().join("abi/exported-symbols.txt")
}

const REGENERATE: &str = "cargo build --release && nm -D --defined-only target/release/liboxsock.so \
     | awk '$2 ~ /^[TWi]$/ {sub(/@.*/, \"\", $3); print $3}' | LC_ALL=C sort > abi/exported-symbols.txt";

#[test]
fn exported_symbols_are_oxs_functions_and_match_abi_list() {
    let so = common::lib_dir().join("liboxsock.so");
    let exported = exported_functions(&so);
    let foreign: Vec<&String> = exported.iter().filter(|n| !n.starts_with("oxs_")).collect();
    assert!(foreign.is_empty(), "liboxsock.so exports functions outside the oxs_ prefix: {foreign:?}");

    let listed_text = std::fs::read_to_string(abi_list_path()).expect("read abi/exported-symbols.txt");
    let listed_lines: Vec<&str> = listed_text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut sorted = listed_lines.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(listed_lines, sorted, "abi/exported-symbols.txt must be sorted (LC_ALL=C) without duplicates");
    let listed: BTreeSet<String> = listed_lines.iter().map(|s| s.trim().to_string()).collect();

    let added: Vec<&String> = exported.difference(&listed).collect();
    let removed: Vec<&String> = listed.difference(&exported).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "the library's exported functions differ from abi/exported-symbols.txt\n  \
         exported but not listed (new ABI: list them if intended): {added:?}\n  \
         listed but not exported (an ABI break: programs linked to them fail): {removed:?}\n\
         To accept the library's current list, run from the repository root:\n  {REGENERATE}"
    );
}

#[test]
fn every_declared_function_is_exported() {
    let so = common::lib_dir().join("liboxsock.so");
    let exported = exported_functions(&so);
    let missing: Vec<String> = declared_functions(&header_text())
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| !exported.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "oxsock.h declares functions that liboxsock.so does not export (a C program calling them fails to link): {missing:?}"
    );
}

#[test]
fn committed_header_equals_generated_header() {
    common::lib_dir(); // build.rs regenerates include/oxsock.h
    let root = common::root();
    let in_git = Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .current_dir(&root)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !in_git {
        eprintln!(
            "*** NOT TESTED: not a git checkout, cannot compare include/oxsock.h with the committed one ***"
        );
        return;
    }
    let tracked = Command::new("git")
        .args(["ls-files", "--error-unmatch", "include/oxsock.h"])
        .current_dir(&root)
        .output()
        .expect("run git ls-files");
    assert!(
        tracked.status.success(),
        "include/oxsock.h is not committed: the generated header is part of the ABI, commit it"
    );
    let diff = Command::new("git")
        .args(["diff", "--exit-code", "--", "include/oxsock.h"])
        .current_dir(&root)
        .output()
        .expect("run git diff");
    assert!(
        diff.status.success(),
        "include/oxsock.h as generated by the build differs from the committed one; \
         review and commit it:\n{}",
        String::from_utf8_lossy(&diff.stdout)
    );
}

#[test]
fn contract_check_accepts_the_header() {
    common::lib_dir();
    let root = common::root();
    let tool = root.join("../shared/tools/contract-check");
    if !tool.exists() {
        eprintln!(
            "*** NOT TESTED: {} is absent, the header was not checked against the contract ***",
            tool.display()
        );
        return;
    }
    run_ok(
        Command::new("bash").arg(&tool).arg("include/oxsock.h").current_dir(&root),
        "../shared/tools/contract-check include/oxsock.h",
    );
}
