//! The `dynamo-codegen` command line, built in this package so that the
//! migration tests can run it as processes (`CARGO_BIN_EXE_cli`).

fn main() -> std::process::ExitCode {
    dynamo_codegen::cli::main()
}
