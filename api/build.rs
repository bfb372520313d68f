// The SPA is embedded from web/dist; rebuild when Trunk writes a new bundle.
fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
}
