# The host platforms scripts/dist.sh builds wpack for, by wpack's target
# names, and their Rust triples. Sourced by dist.sh and dist/check.sh.
all_hosts=x86_64-linux,aarch64-linux,x86_64-windows,aarch64-macos,x86_64-macos

triple_of() {
  case $1 in
    x86_64-linux) echo x86_64-unknown-linux-musl ;;
    aarch64-linux) echo aarch64-unknown-linux-musl ;;
    x86_64-windows) echo x86_64-pc-windows-gnu ;;
    aarch64-macos) echo aarch64-apple-darwin ;;
    x86_64-macos) echo x86_64-apple-darwin ;;
    *) echo "dist.sh: unknown host $1; hosts: $all_hosts" >&2; return 1 ;;
  esac
}
