//! The `didbill` binary: all logic lives in the library.

fn main() {
    std::process::exit(didbill::cli::main());
}
