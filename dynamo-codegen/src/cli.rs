//! The `dynamo-codegen` command line: clap commands calling library
//! functions (`main.rs` only calls [`main`]).

use std::{
    io::{IsTerminal as _, Write as _},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use clap::{Args, Parser, Subcommand};
use dynamo_runtime::{
    Db,
    migrate::{Event, LiveProjection, LiveTable, Migrator, WaitPolicy},
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    Error, Generated, ir,
    migrate::plan::{self, Change},
};

/// Typed DynamoDB clients from TOML schemas, and the migrations that keep
/// tables in step with them.
#[derive(Debug, Parser)]
#[command(name = "dynamo-codegen", version, about)]
struct Cli {
    /// The schema folder (table files and `migrations/`).
    #[arg(long, global = true, default_value = "schemas")]
    schemas: PathBuf,
    /// DynamoDB endpoint, e.g. DynamoDB Local's `http://127.0.0.1:8000`
    /// (default: `AWS_ENDPOINT_URL`, then AWS).
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// AWS region (default: `AWS_REGION` or the profile's).
    #[arg(long, global = true)]
    region: Option<String>,
    /// Prefix of every table name, e.g. `dev` for `dev_shop`.
    #[arg(long, global = true, env = "DYNAMO_NAMESPACE")]
    namespace: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the schemas and check that the migrations build exactly the
    /// tables they describe.
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
    /// Apply pending migrations (or show them with `--dry-run`, or their
    /// state with `migrate status`).
    Migrate(MigrateArgs),
    /// Write migration files.
    #[command(subcommand)]
    Migration(MigrationCommand),
    /// Table tasks: create, list, describe, delete.
    #[command(subcommand)]
    Table(TableCommand),
    /// Write the tables of the schemas as infrastructure code, as
    /// `migrate` creates them, with the namespace as a parameter.
    Export {
        /// `cloudformation` or `terraform`.
        #[arg(value_enum)]
        format: ExportFormat,
        /// CloudFormation as YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
        /// Where to write it (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Set up the cargo project in the current folder: an example schema
    /// and its first migration, `build.rs`, the `include_schema!` line, a
    /// `main` using the client (when `main.rs` is cargo's hello world),
    /// and the dependencies (with `cargo add`).
    Init {
        /// The example table's name (default: the package's name).
        #[arg(long)]
        table: Option<String>,
        /// A checkout of the dynamo-codegen repository to depend on
        /// (default: the one this binary was built from).
        #[arg(long, conflicts_with = "git")]
        path: Option<PathBuf>,
        /// The dynamo-codegen repository's git URL to depend on.
        #[arg(long)]
        git: Option<String>,
        /// With `--git`: a commit, tag or branch.
        #[arg(long, requires = "git")]
        rev: Option<String>,
    },
    /// Write a schema file for an existing table, from DescribeTable: a
    /// starting point with its keys, indexes, billing, ttl and stream;
    /// with `--sample N`, also item types, fields and key templates
    /// inferred from N stored items.
    Pull {
        /// The table's logical name (the namespace is added).
        table: String,
        /// Where to write it (default: `<schemas>/<table>.toml`; `-` for stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Read this many items (a scan) and propose `[item.X]` sections
        /// from them.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        sample: Option<u32>,
    },
}

/// The formats of `export`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// An AWS CloudFormation template (`AWS::DynamoDB::Table` resources).
    Cloudformation,
    /// Terraform `aws_dynamodb_table` resources (HCL).
    Terraform,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct MigrateArgs {
    #[command(subcommand)]
    command: Option<MigrateCommand>,
    /// Apply migrations up to and including this number only.
    #[arg(long)]
    to: Option<u32>,
    /// Print the API calls the run would make, and make none.
    #[arg(long)]
    dry_run: bool,
    /// Run the data steps only: the tables belong to infrastructure code
    /// (`dynamo-codegen export`). Table steps are checked against the live
    /// tables, never made; any difference stops the run before it applies
    /// anything.
    #[arg(long)]
    data_only: bool,
    #[command(flatten)]
    options: RunOptions,
}

#[derive(Debug, Args)]
struct RunOptions {
    /// The tracking table's logical name.
    #[arg(long, default_value = dynamo_runtime::migrate::TRACKING_TABLE)]
    tracking_table: String,
    /// Seconds the lock stays valid without renewal (a crashed run blocks
    /// others this long).
    #[arg(long, default_value_t = 60)]
    lease_seconds: u64,
    /// Seconds to wait for another run's lock.
    #[arg(long, default_value_t = 900)]
    lock_timeout_seconds: u64,
    /// At most this many item writes per second in a data step, for all
    /// its workers together (0: no limit).
    #[arg(long, default_value_t = 100)]
    backfill_rate: u32,
    /// Split each data step into this many parallel-scan segments (default:
    /// one per 25,000 items or 25 MB of the table).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    segments: Option<u32>,
    /// Segments this process works at once (each a worker with one request
    /// in flight).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    concurrency: u32,
    /// Pace data steps to this percentage of the table's read and write
    /// capacity, for all workers together (provisioned capacity, or the
    /// on-demand maximum throughput, or `--max-capacity`).
    #[arg(long, value_name = "PERCENT", value_parser = percent)]
    capacity_percent: Option<f64>,
    /// `READ,WRITE`: the units per second an on-demand table's capacity
    /// percentage is taken of, when the table sets no maximum throughput.
    #[arg(long, value_name = "READ,WRITE", value_parser = capacity_arg)]
    max_capacity: Option<dynamo_runtime::Throughput>,
    /// First pause, in milliseconds, while waiting for a table or index.
    #[arg(long, default_value_t = 200)]
    wait_initial_ms: u64,
    /// Each pause is the previous one times this (at least 1; `inf` goes
    /// straight to the longest pause).
    #[arg(long, default_value_t = 2.0, value_parser = wait_factor)]
    wait_factor: f64,
    /// Longest pause, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    wait_max_ms: u64,
    /// Give up waiting for one change after this many seconds.
    #[arg(long, default_value_t = 6 * 3600)]
    wait_timeout_seconds: u64,
}

/// Parses `--capacity-percent`: more than 0, at most 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 100.0 => Ok(p / 100.0),
        Ok(_) => Err("a percentage above 0 and at most 100".into()),
        Err(e) => Err(format!("{e}")),
    }
}

/// Parses `--max-capacity READ,WRITE`.
fn capacity_arg(text: &str) -> Result<dynamo_runtime::Throughput, String> {
    let parse = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|e| format!("`{part}`: {e}"))
    };
    match text.split_once(',') {
        Some((read, write)) => Ok(dynamo_runtime::Throughput {
            read: parse(read)?,
            write: parse(write)?,
        }),
        None => Err(format!(
            "`{text}`: write READ,WRITE units per second, e.g. 4000,1000"
        )),
    }
}

/// Parses `--wait-factor`: a number of at least 1, `inf` included.
fn wait_factor(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(factor) if factor >= 1.0 => Ok(factor),
        Ok(_) => Err("the factor must be at least 1 (1 keeps every pause the same)".into()),
        Err(e) => Err(format!("{e}")),
    }
}

#[derive(Debug, Subcommand)]
enum MigrateCommand {
    /// Show each migration's state: pending, running, applied or failed,
    /// and every segment of a running data step.
    Status {
        /// The tracking table's logical name.
        #[arg(long, default_value = dynamo_runtime::migrate::TRACKING_TABLE)]
        tracking_table: String,
    },
    /// Join the data steps other `migrate` runs (or apps) start, without
    /// applying migrations: claim segments, work them, repeat. Run as many
    /// as the table's capacity allows, on any hosts.
    Worker {
        /// The tracking table's logical name.
        #[arg(long, default_value = dynamo_runtime::migrate::TRACKING_TABLE)]
        tracking_table: String,
        /// Seconds a segment lease stays valid without renewal (a crashed
        /// worker's segments wait this long for another).
        #[arg(long, default_value_t = 60)]
        lease_seconds: u64,
        /// Seconds to wait for a data step to join when none runs and no
        /// run holds the lock; then exit.
        #[arg(long, default_value_t = 60)]
        idle_seconds: u64,
        /// Segments this process works at once (each a worker with one
        /// request in flight).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
        concurrency: u32,
    },
}

#[derive(Debug, Subcommand)]
enum MigrationCommand {
    /// Write the next migration from the difference between the schemas and
    /// what the migrations build.
    New {
        /// What it does, e.g. `orders by status` (becomes the file name and
        /// the description).
        name: String,
        /// Also write the literal default of each new field to the stored
        /// items (`write_default` steps); without it they read the default.
        #[arg(long)]
        write_defaults: bool,
        /// Also remove the attribute of each removed field from the stored
        /// items (`remove_attribute` steps); without it they are left alone.
        #[arg(long)]
        remove_attributes: bool,
        /// `ITEM=PATH`: change item type ITEM with one `transform` step
        /// calling the app's function PATH (e.g.
        /// `Order=crate::upgrades::order_v2`), for changes no declarative
        /// step can make. Repeat for several item types.
        #[arg(long = "transform", value_name = "ITEM=PATH", value_parser = transform_arg)]
        transforms: Vec<(String, String)>,
    },
}

fn transform_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((item, path)) if !item.is_empty() && !path.is_empty() => {
            Ok((item.trim().to_owned(), path.trim().to_owned()))
        }
        _ => Err(format!(
            "`{text}`: write ITEM=PATH, e.g. Order=crate::upgrades::order_v2"
        )),
    }
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create a table as its schema file describes it (without migrations:
    /// for scratch environments).
    Create {
        /// The table's logical name.
        table: String,
    },
    /// List the tables (of the namespace, when one is set).
    List,
    /// Show a table's keys, indexes, billing, stream, ttl and status.
    Describe {
        /// The table's logical name.
        table: String,
    },
    /// Delete a table and every item in it.
    Delete {
        /// The table's logical name.
        table: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the command line with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprint!("{e:?}");
            if !matches!(e, Error::Schema(_)) {
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, Error> {
    match &cli.command {
        Command::Check => check(cli),
        Command::Generate { out, check } => {
            let generated = crate::generate(&cli.schemas)?;
            eprint!("{}", generated.warnings.render());
            Ok(generate(out, *check, &generated))
        }
        Command::Migration(MigrationCommand::New {
            name,
            write_defaults,
            remove_attributes,
            transforms,
        }) => migration_new(
            cli,
            name,
            &plan::Options {
                write_defaults: *write_defaults,
                remove_attributes: *remove_attributes,
                transforms: transforms.iter().cloned().collect(),
            },
        ),
        Command::Migrate(args) => block_on(migrate(cli, args)),
        Command::Table(command) => block_on(table(cli, command)),
        Command::Pull { table, out, sample } => block_on(pull(cli, table, out.as_deref(), *sample)),
        Command::Init {
            table,
            path,
            git,
            rev,
        } => init(cli, table.as_deref(), path, git, rev),
        Command::Export { format, yaml, out } => {
            use crate::export::Format;
            let format = match (format, yaml) {
                (ExportFormat::Cloudformation, false) => Format::CloudFormationJson,
                (ExportFormat::Cloudformation, true) => Format::CloudFormationYaml,
                (ExportFormat::Terraform, _) => Format::Terraform,
            };
            let text = crate::export::export_schemas(&cli.schemas, format)?;
            match out {
                None => print!("{text}"),
                Some(path) => std::fs::write(path, &text).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init(
    cli: &Cli,
    table: Option<&str>,
    path: &Option<PathBuf>,
    git: &Option<String>,
    rev: &Option<String>,
) -> Result<ExitCode, Error> {
    use crate::init::Source;
    let source = match (path, git) {
        (Some(path), _) => Source::Path(path.clone()),
        (None, Some(url)) => Source::Git {
            url: url.clone(),
            rev: rev.clone(),
        },
        (None, None) => Source::built_from().ok_or_else(|| {
            Error::Config(
                "the checkout this binary was built from is gone: pass `--path` (a checkout \
                 of dynamo-codegen) or `--git URL`"
                    .into(),
            )
        })?,
    };
    let dir = std::env::current_dir().map_err(|source| Error::Io {
        path: ".".into(),
        source,
    })?;
    let report = crate::init::init(&dir, &cli.schemas, table, &source)?;
    for path in &report.written {
        eprintln!("wrote {}", path.display());
    }
    eprintln!("added dynamo-runtime, tokio and (for build.rs) dynamo-codegen to Cargo.toml");
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "\nnext: `cargo build`, then with DynamoDB Local (or AWS) configured, e.g.\n  \
         AWS_ENDPOINT_URL=http://localhost:8000 AWS_REGION=us-east-1 \
         AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local cargo run\n\
         edit {}/{}.toml, then `dynamo-codegen migration new \"what changed\"`",
        cli.schemas.display(),
        report.table
    );
    Ok(ExitCode::SUCCESS)
}

fn block_on<F: std::future::Future<Output = Result<ExitCode, Error>>>(
    future: F,
) -> Result<ExitCode, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn has_migrations_dir(schemas: &Path) -> bool {
    schemas.join("migrations").is_dir()
}

fn check(cli: &Cli) -> Result<ExitCode, Error> {
    let checked = crate::check(&cli.schemas)?;
    eprint!("{}", checked.warnings.render());
    let schema = &checked.schema;
    if has_migrations_dir(&cli.schemas) {
        let differences = plan::diff(schema);
        if !differences.is_empty() {
            eprint!("{}", plan::drift(&differences).render());
            eprintln!(
                "{}: the migrations do not build the tables and item types the schemas describe:",
                cli.schemas.display()
            );
            for d in &differences {
                eprintln!("  - {}", d.what);
                if let Change::Refused(why) = &d.change {
                    eprintln!("    no migration can do this: {why}");
                }
            }
            eprintln!("help: write the missing migration with `dynamo-codegen migration new NAME`");
            return Ok(ExitCode::FAILURE);
        }
    }
    let tables = &schema.tables;
    let items: usize = tables.iter().map(|t| t.items.len()).sum();
    eprintln!(
        "{}: ok ({} table{}, {items} item type{}, {} migration{})",
        cli.schemas.display(),
        tables.len(),
        plural(tables.len()),
        plural(items),
        schema.migrations.len(),
        plural(schema.migrations.len()),
    );
    Ok(ExitCode::SUCCESS)
}

fn generate(out: &Path, check: bool, generated: &Generated) -> ExitCode {
    // Files generated for a table that no longer exists are stale too.
    let leftovers = crate::write::leftovers(out, &generated.files);
    if check {
        let mut stale: Vec<&str> = generated
            .files
            .iter()
            .filter(|f| {
                std::fs::read_to_string(out.join(&f.name)).ok().as_deref()
                    != Some(f.contents.as_str())
            })
            .map(|f| f.name.as_str())
            .collect();
        stale.extend(leftovers.iter().map(String::as_str));
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
    for name in &leftovers {
        match std::fs::remove_file(out.join(name)) {
            Ok(()) => eprintln!("removed {} (its table is gone)", out.join(name).display()),
            Err(e) => {
                eprintln!("cannot remove {}: {e}", out.join(name).display());
                return ExitCode::FAILURE;
            }
        }
    }
    for file in &generated.files {
        match crate::write::write_if_changed(&out.join(&file.name), &file.contents) {
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

fn migration_new(cli: &Cli, name: &str, options: &plan::Options) -> Result<ExitCode, Error> {
    let checked = crate::check(&cli.schemas)?;
    eprint!("{}", checked.warnings.render());
    for item in options.transforms.keys() {
        let known = checked
            .schema
            .tables
            .iter()
            .any(|t| t.items.iter().any(|i| i.name == *item));
        if !known {
            eprintln!("error: --transform {item}=…: no schema file has item type `{item}`");
            return Ok(ExitCode::FAILURE);
        }
    }
    let differences = plan::diff_with(&checked.schema, options);
    if differences.is_empty() {
        eprintln!(
            "{}: the migrations already build what the schemas describe; nothing to write",
            cli.schemas.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let steps = match plan::steps(&differences) {
        Ok(steps) => steps,
        Err(refused) => {
            let located: Vec<plan::Difference> = refused
                .iter()
                .filter(|d| d.at.is_some())
                .map(|d| (*d).clone())
                .collect();
            eprint!("{}", plan::drift(&located).render());
            for d in refused.iter().filter(|d| d.at.is_none()) {
                eprintln!("error: {}", d.what);
                if let Change::Refused(why) = &d.change {
                    eprintln!("  help: {why}");
                }
            }
            eprintln!("no migration written");
            return Ok(ExitCode::FAILURE);
        }
    };
    let number = checked.schema.migrations.last().map_or(1, |m| m.number + 1);
    let dir = cli.schemas.join("migrations");
    let path = dir.join(plan::file_name(number, name));
    let text = plan::migration_toml(name, &steps)?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    std::fs::write(&path, &text).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    // What was written must load, and leave nothing to do.
    let rechecked = crate::check(&cli.schemas)?;
    let left = plan::diff(&rechecked.schema);
    for d in &differences {
        eprintln!("  - {}", d.what);
    }
    eprintln!(
        "wrote {} ({} step{}); review it, then run `dynamo-codegen migrate`",
        path.display(),
        steps.len(),
        plural(steps.len())
    );
    if !left.is_empty() {
        return Err(Error::Internal(format!(
            "the written migration leaves differences: {}",
            left.iter()
                .map(|d| d.what.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}

async fn db(cli: &Cli) -> Result<Db, Error> {
    let mut builder = Db::builder();
    if let Some(endpoint) = &cli.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    if let Some(region) = &cli.region {
        builder = builder.region(region);
    }
    if let Some(namespace) = &cli.namespace {
        builder = builder.namespace(namespace);
    }
    builder.build().await.map_err(runtime_error)
}

fn runtime_error(e: dynamo_runtime::Error) -> Error {
    Error::Runtime(Box::new(e))
}

/// Progress on stderr: lines for steps, a spinner for waits and a bar for
/// backfills when stderr is a terminal; plain lines (waits every 10 s)
/// otherwise.
struct Progress {
    terminal: bool,
    bar: Option<ProgressBar>,
    last_wait_line: Option<std::time::Instant>,
}

impl Progress {
    fn line(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::WaitingForLock { owner } => {
                self.line(&format!("waiting for the migration lock held by {owner}"));
            }
            Event::MigrationStarted { name, resumed } => {
                self.finish_bar();
                self.line(&format!(
                    "{} {name}",
                    if *resumed { "resuming" } else { "applying" }
                ));
            }
            Event::StepStarted { step, summary, .. } => {
                self.finish_bar();
                self.line(&format!("  step {step}: {summary}"));
            }
            Event::Call { text } => self.line(&format!("    {text}")),
            Event::Skipped { text } => self.line(&format!("    warning: skipped {text}")),
            Event::Waiting {
                what,
                status,
                elapsed,
            } => {
                let message = format!("waiting for {what}: {status} ({}s)", elapsed.as_secs());
                if self.terminal {
                    let bar = self.bar.get_or_insert_with(|| {
                        let bar = ProgressBar::new_spinner();
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    });
                    bar.set_message(message);
                } else if self
                    .last_wait_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
                {
                    self.last_wait_line = Some(std::time::Instant::now());
                    eprintln!("    {message}");
                }
            }
            Event::Ready { what } => {
                self.finish_bar();
                self.last_wait_line = None;
                self.line(&format!("    ready: {what}"));
            }
            Event::Backfill {
                op,
                item,
                segment,
                segments,
                scanned,
                updated,
                step_scanned,
                workers,
                estimated_total,
            } => {
                let mine = format!(
                    "{item}s ({op}): segment {segment}/{segments}, {workers} worker{}; \
                     this worker {scanned} read, {updated} written",
                    plural(*workers as usize)
                );
                if self.terminal {
                    let bar = self.bar.get_or_insert_with(|| {
                        let bar = ProgressBar::new(estimated_total.unwrap_or(0));
                        if let Ok(style) = ProgressStyle::with_template(
                            "    {bar:30} {pos}/{len} read by all, {per_sec}, eta {eta} {msg}",
                        ) {
                            bar.set_style(style);
                        }
                        bar
                    });
                    bar.set_length(estimated_total.unwrap_or(0).max(*step_scanned));
                    bar.set_position(*step_scanned);
                    bar.set_message(mine);
                } else if self
                    .last_wait_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(2))
                {
                    self.last_wait_line = Some(std::time::Instant::now());
                    eprintln!("    {mine}");
                }
            }
            Event::SegmentClaimed {
                segment,
                segments,
                resumed_at,
                taken_from,
                ..
            } => {
                let mut line = format!("    claimed segment {segment}/{segments}");
                if *resumed_at > 0 {
                    line.push_str(&format!(", resuming after {resumed_at} items"));
                }
                if let Some(from) = taken_from {
                    line.push_str(&format!(", taken over from {from} (its lease ended)"));
                }
                self.line(&line);
            }
            Event::SegmentDone {
                segment,
                segments,
                scanned,
                updated,
            } => self.line(&format!(
                "    segment {segment}/{segments} done: {scanned} read, {updated} written"
            )),
            Event::CannotJoin {
                migration,
                step,
                reason,
            } => self.line(&format!(
                "    not joining step {step} of migration {migration:04}: {reason}"
            )),
            Event::Throttled { backoff, share } => self.line(&format!(
                "    throttled by DynamoDB: waiting {} ms, then writing at {:.0}% of the pace",
                backoff.as_millis(),
                share * 100.0
            )),
            Event::SegmentLost { segment, segments } => self.line(&format!(
                "    lost the lease of segment {segment}/{segments} (this worker was paused past it); \
                 it resumes from its saved position"
            )),
            Event::WaitingForSegments {
                remaining,
                segments,
                owners,
            } => {
                if self
                    .last_wait_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
                {
                    self.last_wait_line = Some(std::time::Instant::now());
                    self.line(&format!(
                        "    waiting for {remaining} of {segments} segments ({})",
                        if owners.is_empty() {
                            "unclaimed".to_owned()
                        } else {
                            owners.join(", ")
                        }
                    ));
                }
            }
            Event::MigrationApplied { name, elapsed } => {
                self.finish_bar();
                self.line(&format!("  done: {name} in {:.1}s", elapsed.as_secs_f64()));
            }
            other => self.line(&format!("{other:?}")),
        }
    }
}

fn migrator<'a>(
    db: &'a Db,
    migrations: &'a [dynamo_runtime::migrate::Migration],
    args: &MigrateArgs,
) -> Migrator<'a> {
    let o = &args.options;
    let mut migrator = Migrator::new(db, migrations)
        .tracking_table(&o.tracking_table)
        .lease(Duration::from_secs(o.lease_seconds))
        .lock_timeout(Duration::from_secs(o.lock_timeout_seconds))
        .backfill_rate(Some(o.backfill_rate))
        .data_only(args.data_only)
        .segments(o.segments)
        .concurrency(o.concurrency)
        .capacity_share(o.capacity_percent)
        .capacity_ceiling(o.max_capacity)
        .wait_policy(WaitPolicy {
            initial: Duration::from_millis(o.wait_initial_ms),
            factor: o.wait_factor,
            max_interval: Duration::from_millis(o.wait_max_ms),
            timeout: Duration::from_secs(o.wait_timeout_seconds),
        });
    if let Some(to) = args.to {
        migrator = migrator.to(to);
    }
    migrator
}

async fn migrate(cli: &Cli, args: &MigrateArgs) -> Result<ExitCode, Error> {
    let checked = crate::check(&cli.schemas)?;
    eprint!("{}", checked.warnings.render());
    let migrations: Vec<dynamo_runtime::migrate::Migration> = checked
        .schema
        .migrations
        .iter()
        .map(ir::Migration::to_model)
        .collect();
    let migrations = migrations.as_slice();
    let db = db(cli).await?;
    if let Some(MigrateCommand::Worker {
        tracking_table,
        lease_seconds,
        idle_seconds,
        concurrency,
    }) = &args.command
    {
        let migrator = Migrator::new(&db, migrations)
            .tracking_table(tracking_table)
            .lease(Duration::from_secs(*lease_seconds))
            .idle_wait(Duration::from_secs(*idle_seconds))
            .concurrency(*concurrency);
        return worker(migrator).await;
    }
    if let Some(MigrateCommand::Status { tracking_table }) = &args.command {
        let statuses = Migrator::new(&db, migrations)
            .tracking_table(tracking_table)
            .status()
            .await
            .map_err(runtime_error)?;
        let mut out = std::io::stdout().lock();
        for s in &statuses {
            let mut line = format!("{:<10} {}", s.status, s.name);
            if let Some(at) = &s.applied_at {
                line.push_str(&format!(" (at {at})"));
            }
            if s.changed {
                line.push_str(" [file changed since it was recorded]");
            }
            if s.unknown {
                line.push_str(" [no such migration file]");
            }
            let _ = writeln!(out, "{line}");
            if let Some(error) = s.error.as_deref().filter(|_| s.status == "failed") {
                let _ = writeln!(out, "           error: {error}");
            }
            if let Some(p) = &s.progress {
                let done = p
                    .segments
                    .iter()
                    .filter(|s| s.state == dynamo_runtime::migrate::SegmentState::Done)
                    .count();
                let _ = writeln!(
                    out,
                    "           step {} ({}): {} read, {} written so far{}; {done} of {} segments done",
                    p.step + 1,
                    p.summary,
                    p.scanned,
                    p.updated,
                    p.estimated_items
                        .map(|n| format!(" (of about {n} items in the table)"))
                        .unwrap_or_default(),
                    p.segments.len(),
                );
                for segment in &p.segments {
                    let _ = writeln!(out, "             {segment}");
                }
            }
        }
        if statuses.is_empty() {
            let _ = writeln!(out, "no migrations");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if has_migrations_dir(&cli.schemas) {
        for d in plan::diff(&checked.schema) {
            eprintln!(
                "warning: {} (the migrations do not cover it yet: `dynamo-codegen migration new NAME`)",
                d.what
            );
        }
    }
    let migrator = migrator(&db, migrations, args);
    if args.dry_run {
        let plan = migrator.plan().await.map_err(runtime_error)?;
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    let progress = Arc::new(Mutex::new(Progress {
        terminal: std::io::stderr().is_terminal(),
        bar: None,
        last_wait_line: None,
    }));
    let observer = Arc::clone(&progress);
    let migrator = migrator.on_event(move |event| {
        if let Ok(mut progress) = observer.lock() {
            progress.event(event);
        }
    });
    let result = migrator.run().await;
    if let Ok(mut progress) = progress.lock() {
        progress.finish_bar();
    }
    let report = result.map_err(runtime_error)?;
    let mut out = std::io::stdout().lock();
    for name in &report.applied {
        let _ = writeln!(out, "applied {name}");
    }
    let _ = writeln!(
        out,
        "{} migration{} applied now, {} already applied",
        report.applied.len(),
        plural(report.applied.len()),
        report.already_applied.len()
    );
    if !report.newer.is_empty() {
        eprintln!(
            "note: the tracking table records {} newer migration{} than this version knows ({}); \
             ignored: a newer version of the app applied them",
            report.newer.len(),
            plural(report.newer.len()),
            report.newer.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `migrate worker`: joins data steps until none is left.
async fn worker(migrator: Migrator<'_>) -> Result<ExitCode, Error> {
    let progress = Arc::new(Mutex::new(Progress {
        terminal: std::io::stderr().is_terminal(),
        bar: None,
        last_wait_line: None,
    }));
    let observer = Arc::clone(&progress);
    let report = migrator
        .on_event(move |event| {
            if let Ok(mut progress) = observer.lock() {
                progress.event(event);
            }
        })
        .work()
        .await;
    if let Ok(mut progress) = progress.lock() {
        progress.finish_bar();
    }
    let report = report.map_err(runtime_error)?;
    println!(
        "worked {} segment{}: {} items read, {} written",
        report.segments,
        plural(report.segments as usize),
        report.scanned,
        report.updated
    );
    Ok(ExitCode::SUCCESS)
}

fn schema_table<'a>(schema: &'a ir::Schema, name: &str) -> Result<&'a ir::Table, Error> {
    schema
        .tables
        .iter()
        .find(|t| t.def.name == *name)
        .ok_or_else(|| {
            Error::Config(format!(
                "no schema file describes table `{name}` (tables: {})",
                schema
                    .tables
                    .iter()
                    .map(|t| &*t.def.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

async fn describe(db: &Db, table: &str) -> Result<LiveTable, Error> {
    let physical = db.physical_name(table);
    LiveTable::describe(db, &physical)
        .await
        .map_err(runtime_error)?
        .ok_or_else(|| Error::Config(format!("table `{physical}` does not exist")))
}

async fn table(cli: &Cli, command: &TableCommand) -> Result<ExitCode, Error> {
    let db = db(cli).await?;
    match command {
        TableCommand::Create { table } => {
            let checked = crate::check(&cli.schemas)?;
            let t = schema_table(&checked.schema, table)?;
            let physical = db.physical_name(table);
            if t.def.create(&db).await.map_err(runtime_error)? {
                eprintln!("created table {physical}");
            } else {
                eprintln!("table {physical} exists already; nothing changed");
            }
        }
        TableCommand::List => {
            let prefix = db.namespace().map(|n| format!("{n}_"));
            let mut start: Option<String> = None;
            let mut out = std::io::stdout().lock();
            loop {
                let page = db
                    .client()
                    .list_tables()
                    .set_exclusive_start_table_name(start.take())
                    .send()
                    .await
                    .map_err(|e| {
                        runtime_error(dynamo_runtime::Error::Service {
                            operation: dynamo_runtime::Operation::ListTables,
                            table: String::new(),
                            source: Box::new(e.into()),
                        })
                    })?;
                for name in page.table_names() {
                    if prefix.as_deref().is_none_or(|p| name.starts_with(p)) {
                        let _ = writeln!(out, "{name}");
                    }
                }
                match page.last_evaluated_table_name() {
                    Some(last) => start = Some(last.to_owned()),
                    None => break,
                }
            }
        }
        TableCommand::Describe { table } => {
            let live = describe(&db, table).await?;
            print!("{}", describe_text(&db.physical_name(table), &live));
        }
        TableCommand::Delete { table, force } => {
            let physical = db.physical_name(table);
            describe(&db, table).await?;
            if !force {
                if !std::io::stdin().is_terminal() {
                    eprintln!("refusing to delete {physical} without confirmation: pass --force");
                    return Ok(ExitCode::FAILURE);
                }
                eprint!("delete table {physical} and every item in it? type its name to confirm: ");
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if answer.trim() != physical {
                    eprintln!("not deleted");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let result = db
                .client()
                .delete_table()
                .table_name(&physical)
                .send()
                .await;
            result.map_err(|e| {
                runtime_error(dynamo_runtime::Error::Service {
                    operation: dynamo_runtime::Operation::DeleteTable,
                    table: physical.clone(),
                    source: Box::new(e.into()),
                })
            })?;
            eprintln!("deleted table {physical}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_text(physical: &str, live: &LiveTable) -> String {
    let mut out = format!("table {physical}: {}\n", live.status);
    let typed = |name: &str| {
        let ty = live
            .key_types
            .iter()
            .find(|(n, _)| n == name)
            .map_or("?".to_owned(), |(_, t)| format!("{t:?}"));
        format!("{name} ({ty})")
    };
    out.push_str(&format!(
        "  key: {}\n",
        live.keys
            .iter()
            .map(|k| typed(k))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str(&format!("  billing: {:?}\n", live.billing));
    out.push_str(&format!(
        "  stream: {}\n",
        live.stream.map_or("off", |s| s.name())
    ));
    out.push_str(&format!(
        "  ttl: {}\n",
        live.ttl.as_deref().unwrap_or("off")
    ));
    if let Some(n) = live.item_count {
        out.push_str(&format!("  items (estimate): {n}\n"));
    }
    for i in &live.indexes {
        out.push_str(&format!(
            "  {} index {}: {}{} key ({}), projection {:?}\n",
            if i.global { "global" } else { "local" },
            i.name,
            i.status,
            if i.backfilling { " (backfilling)" } else { "" },
            i.keys
                .iter()
                .map(|k| typed(k))
                .collect::<Vec<_>>()
                .join(", "),
            i.projection
        ));
    }
    out
}

async fn pull(
    cli: &Cli,
    table: &str,
    out: Option<&Path>,
    sample: Option<u32>,
) -> Result<ExitCode, Error> {
    let db = db(cli).await?;
    let live = describe(&db, table).await?;
    let text = match sample {
        None => pull_toml(table, &live)?,
        Some(n) => {
            let items = sample_items(&db, table, n).await?;
            let text = crate::infer::infer(&pull_def(table, &live), &items)?;
            report_check(table, &text);
            text
        }
    };
    match out {
        Some(path) if path == Path::new("-") => print!("{text}"),
        _ => {
            let path = out.map_or_else(
                || cli.schemas.join(format!("{table}.toml")),
                Path::to_path_buf,
            );
            if path.exists() {
                eprintln!(
                    "{} exists; not overwritten (pass --out to write elsewhere, or --out - for stdout)",
                    path.display()
                );
                return Ok(ExitCode::FAILURE);
            }
            std::fs::write(&path, &text).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            eprintln!(
                "wrote {}: add item types, then `dynamo-codegen migration new create_{table}`",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Up to `n` items of `table`, scanned.
async fn sample_items(
    db: &Db,
    table: &str,
    n: u32,
) -> Result<Vec<dynamo_runtime::Attributes>, Error> {
    let name = db.physical_name(table);
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let left = i32::try_from(n as usize - items.len()).unwrap_or(i32::MAX);
        let page = db
            .client()
            .scan()
            .table_name(&name)
            .limit(left)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                Error::Config(format!(
                    "cannot scan `{name}`: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                ))
            })?;
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() || items.len() >= n as usize {
            items.truncate(n as usize);
            return Ok(items);
        }
    }
}

/// Checks an inferred schema as `check` would, and prints what it says:
/// the inference aims at a schema that checks, and says so when it misses.
fn report_check(table: &str, text: &str) {
    let Ok(dir) = std::env::temp_dir()
        .join(format!("dynamo-pull-{}", std::process::id()))
        .canonicalize()
        .or_else(|_| {
            let dir = std::env::temp_dir().join(format!("dynamo-pull-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map(|()| dir)
        })
    else {
        return;
    };
    let file = dir.join(format!("{table}.toml"));
    if std::fs::write(&file, text).is_ok() {
        match crate::check(&dir) {
            Ok(checked) => eprint!("{}", checked.warnings.render()),
            Err(e) => eprintln!("warning: the inferred schema does not check yet:\n{e:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A schema file for `live`, named `table`: its `[table]` and
/// `[index.X]` sections, written through the loader's own structs.
fn pull_toml(table: &str, live: &LiveTable) -> Result<String, Error> {
    Ok(format!(
        "# Pulled from DynamoDB table `{table}` by `dynamo-codegen pull`: add item types\n\
         # ([item.Name] with keys and fields), then write its migration.\n\n{}",
        crate::load::to_toml::table(&pull_def(table, live))?
    ))
}

/// The table as DescribeTable shows it, with the default type attribute
/// and key separator.
fn pull_def(table: &str, live: &LiveTable) -> ir::TableDef {
    let key = |name: &str| ir::KeyAttributeDef {
        name: name.to_owned().into(),
        ty: live
            .key_types
            .iter()
            .find(|(n, _)| n == name)
            .map_or(ir::KeyType::S, |(_, t)| *t),
    };
    let indexes: Vec<ir::IndexDef> = live
        .indexes
        .iter()
        .map(|i| ir::IndexDef {
            name: i.name.clone().into(),
            kind: if i.global {
                ir::IndexKind::Global
            } else {
                ir::IndexKind::Local
            },
            partition_key: i.keys[..i.partition_attributes.min(i.keys.len())]
                .iter()
                .map(|k| key(k))
                .collect(),
            sort_key: i.keys[i.partition_attributes.min(i.keys.len())..]
                .iter()
                .map(|k| key(k))
                .collect(),
            projection: match &i.projection {
                LiveProjection::All => ir::Projection::All,
                LiveProjection::KeysOnly => ir::Projection::KeysOnly,
                LiveProjection::Include(names) => {
                    // The executor adds the type attribute to include lists.
                    let mut names: Vec<String> = names
                        .iter()
                        .filter(|n| n.as_str() != ir::TableDef::TYPE_ATTRIBUTE)
                        .cloned()
                        .collect();
                    names.sort();
                    ir::Projection::Include(names.into_iter().map(Into::into).collect())
                }
            },
            throughput: i.throughput,
        })
        .collect();
    ir::TableDef {
        name: table.to_owned().into(),
        partition_key: key(live.keys.first().map_or("", String::as_str)),
        sort_key: live.keys.get(1).map(|k| key(k)),
        type_attribute: ir::TableDef::TYPE_ATTRIBUTE.into(),
        key_separator: ir::TableDef::KEY_SEPARATOR.into(),
        billing: live.billing,
        ttl: live.ttl.clone().map(Into::into),
        stream: live.stream,
        indexes: indexes.into(),
        point_in_time_recovery: live.point_in_time_recovery == Some(true),
        deletion_protection: live.deletion_protection,
    }
}
