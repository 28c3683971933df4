//! Link settings of the stub executable that depend on its target.

fn main() {
    // The packer adds two load commands to a macOS stub (the payload's
    // segment and, if Zig did not sign it, LC_CODE_SIGNATURE). Reserve the
    // header room for them at link time, as `ld` does for install names;
    // without it a signer may overwrite the start of `__text`.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("macos") {
        println!("cargo:rustc-link-arg-bins=-Wl,-headerpad_max_install_names");
    }
}
