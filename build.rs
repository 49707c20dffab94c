//! Generates include/oxsock.h with cbindgen, and sets the shared library's soname.
//!
//! The header is committed; it is rewritten only when its text changes, so that a
//! build does not touch the source tree needlessly (cargo #5073), and CI fails when
//! the committed header differs from the generated one.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liboxsock.so.{major}");
    link_soname_in_target_dir(&major);

    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let config =
        cbindgen::Config::from_file(Path::new(&crate_dir).join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate() {
        Ok(b) => b,
        Err(e) => {
            // A half-edited source tree must not stop `cargo check`; the header test catches drift.
            println!("cargo:warning=cbindgen could not generate the header: {e}");
            return;
        }
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let path = Path::new(&crate_dir).join("include/oxsock.h");
    if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
        std::fs::create_dir_all(path.parent().expect("include/")).expect("create include/");
        std::fs::write(&path, &text).expect("write include/oxsock.h");
    }
}

/// Programs linked with `-L target/release -loxsock` record the soname `liboxsock.so.MAJOR`;
/// a link by that name beside the library lets them run from the build tree.
fn link_soname_in_target_dir(major: &str) {
    let Ok(out_dir) = std::env::var("OUT_DIR") else { return };
    // OUT_DIR is target/<profile>/build/oxsock-<hash>/out.
    let Some(profile_dir) = Path::new(&out_dir).ancestors().nth(3) else { return };
    let link = profile_dir.join(format!("liboxsock.so.{major}"));
    if std::fs::symlink_metadata(&link).is_err() {
        let _ = std::os::unix::fs::symlink("liboxsock.so", &link);
    }
}
