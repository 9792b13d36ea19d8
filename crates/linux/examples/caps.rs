//! Prints what this kernel and process allow (`Capabilities::probe`), and
//! the hardware timestamping abilities of the interfaces named as
//! arguments.
fn main() {
    println!("{:#?}", sluice_linux::Capabilities::probe());
    for name in std::env::args().skip(1) {
        println!(
            "{name}: hardware timestamps: {}",
            sluice_linux::caps::hardware_timestamps(&name)
        );
    }
}
