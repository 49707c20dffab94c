//! The core's structure stays auditable (issue 11): no two modules of `src/` depend on
//! each other, directly or through others (`scripts/modcycles.py` reads the `crate::`
//! paths of every file; the ffi layer counts as one module).

mod common;

#[test]
fn core_modules_have_no_dependency_cycles() {
    let out = std::process::Command::new("python3")
        .arg(common::root().join("scripts/modcycles.py"))
        .current_dir(common::root())
        .output()
        .expect("run scripts/modcycles.py");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(out.status.success(), "modcycles.py failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(": 0 two-module cycles []; cyclic groups: []"), "module cycles: {text}");
}
