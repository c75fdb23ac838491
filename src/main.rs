//! socklab: see the library's module map (`src/lib.rs`); the command line is `cli`.

fn main() -> std::process::ExitCode {
    socklab::cli::main()
}
