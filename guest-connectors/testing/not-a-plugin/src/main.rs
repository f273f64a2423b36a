//! Test only: a WASI command component. It is valid WebAssembly but
//! implements none of the wasmconnect worlds, so uploads must refuse it.

fn main() {
    println!("not a plugin");
}
