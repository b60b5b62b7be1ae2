//! The `dynamo-codegen` command line.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// Typed DynamoDB clients from TOML schemas.
#[derive(Debug, Parser)]
#[command(name = "dynamo-codegen", version, about)]
struct Cli {
    /// The schema folder.
    #[arg(long, global = true, default_value = "schemas")]
    schemas: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the schemas and print every problem found.
    Check,
    /// Write the generated code to a folder, e.g. to check it in for review.
    Generate {
        /// The folder to write `mod.rs` and one file per table into.
        #[arg(long)]
        out: PathBuf,
        /// Write nothing; fail when the folder is not up to date.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check => match dynamo_codegen::check(&cli.schemas) {
            Ok(checked) => {
                eprint!("{}", checked.warnings.render());
                let tables = &checked.schema.tables;
                let items: usize = tables.iter().map(|t| t.items.len()).sum();
                eprintln!(
                    "{}: ok ({} table{}, {items} item type{}, {} migration{})",
                    cli.schemas.display(),
                    tables.len(),
                    plural(tables.len()),
                    plural(items),
                    checked.schema.migrations.len(),
                    plural(checked.schema.migrations.len()),
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::Generate { out, check } => match dynamo_codegen::generate(&cli.schemas) {
            Ok(generated) => {
                eprint!("{}", generated.warnings.render());
                generate(&out, check, &generated)
            }
            Err(e) => fail(&e),
        },
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn fail(e: &dynamo_codegen::Error) -> ExitCode {
    eprint!("{e:?}");
    if !matches!(e, dynamo_codegen::Error::Schema(_)) {
        eprintln!();
    }
    ExitCode::FAILURE
}

fn generate(out: &std::path::Path, check: bool, generated: &dynamo_codegen::Generated) -> ExitCode {
    if check {
        let stale: Vec<&str> = generated
            .files
            .iter()
            .filter(|f| {
                std::fs::read_to_string(out.join(&f.name)).ok().as_deref()
                    != Some(f.contents.as_str())
            })
            .map(|f| f.name.as_str())
            .collect();
        if stale.is_empty() {
            eprintln!("{}: up to date", out.display());
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "{}: stale files: {} (run `dynamo-codegen generate --out {}`)",
            out.display(),
            stale.join(", "),
            out.display()
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for file in &generated.files {
        match dynamo_codegen::write::write_if_changed(&out.join(&file.name), &file.contents) {
            Ok(true) => eprintln!("wrote {}", out.join(&file.name).display()),
            Ok(false) => {}
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
