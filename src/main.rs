//! The `egressbench` binary: everything is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    egressbench::cli::main()
}
