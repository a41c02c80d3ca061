//! The `didbill` binary: all logic lives in the library.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(didbill::cli::main());
}
