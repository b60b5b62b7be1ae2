//! The `dynamo-codegen` command line; see [`dynamo_codegen::cli`].

fn main() -> std::process::ExitCode {
    dynamo_codegen::cli::main()
}
