//! The `build.rs` entry point.

use std::path::PathBuf;

use crate::Error;

/// Generates typed client code from a schema folder, from `build.rs`.
///
/// ```no_run
/// // build.rs: `fn main` runs this
/// dynamo_codegen::Builder::new()
///     .schema_dir("../schemas")
///     .compile()
///     .unwrap_or_else(|e| panic!("{e:?}"));
/// ```
///
/// and in `src/lib.rs`: `dynamo_runtime::include_schema!();`
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    schema_dir: PathBuf,
    out_dir: Option<PathBuf>,
    cargo_output: bool,
    serde: bool,
    json_schema: bool,
    attributes: Vec<(crate::ir::TypeKind, String)>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            schema_dir: PathBuf::from("schemas"),
            out_dir: None,
            cargo_output: true,
            serde: false,
            json_schema: false,
            attributes: Vec::new(),
        }
    }
}

impl Builder {
    /// A builder reading `schemas/` and writing to `$OUT_DIR/dynamo`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The folder holding the `*.toml` schema files, relative to the
    /// package being built (default `schemas`).
    ///
    /// ```no_run
    /// // build.rs of a crate beside the schemas folder
    /// dynamo_codegen::Builder::new().schema_dir("../schemas").compile().unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn schema_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.schema_dir = dir.into();
        self
    }

    /// Where to write the code (default `$OUT_DIR/dynamo`, which
    /// `dynamo_runtime::include_schema!()` includes).
    ///
    /// ```no_run
    /// dynamo_codegen::Builder::new().out_dir("src/generated").compile().unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines and warnings for
    /// Cargo (default true; turn off outside build scripts).
    ///
    /// ```no_run
    /// dynamo_codegen::Builder::new().cargo_output(false).out_dir("/tmp/dynamo").compile().unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn cargo_output(mut self, enabled: bool) -> Self {
        self.cargo_output = enabled;
        self
    }

    /// Whether every table's generated items, keys, enums and nested types
    /// derive serde's `Serialize` and `Deserialize` (default false; a
    /// table can also say `serde = true`). The app's `dynamo-runtime`
    /// dependency needs its `serde` feature; the app needs no serde
    /// dependency of its own. JSON keys are the schema's field names,
    /// enums their stored text, datetimes RFC 3339, exact numbers text,
    /// binary data base64; `unmodeled` is left out.
    ///
    /// ```no_run
    /// dynamo_codegen::Builder::new().serde(true).compile().unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn serde(mut self, enabled: bool) -> Self {
        self.serde = enabled;
        self
    }

    /// Whether every table's generated types also derive schemars'
    /// `JsonSchema` (default false; a table can also say `json_schema =
    /// true`): the JSON Schema of the serde JSON (so it implies
    /// [`serde`](Self::serde)), for API docs. The app's `dynamo-runtime`
    /// dependency needs its `json-schema` feature; custom field types
    /// must implement `JsonSchema` themselves.
    ///
    /// ```no_run
    /// dynamo_codegen::Builder::new().json_schema(true).compile().unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn json_schema(mut self, enabled: bool) -> Self {
        self.json_schema = enabled;
        self
    }

    /// Adds Rust attributes to every table's generated types of `kind`
    /// (prost-build's `type_attribute`, typed by the kind of type), after
    /// the schema's own `[table.attributes]`. `attribute` must parse as
    /// one or more outer attributes, and a derive may not repeat one the
    /// generated code has (`Debug`, `Clone`, `PartialEq`, ...): `compile`
    /// fails with [`Error::Config`] otherwise.
    ///
    /// ```no_run
    /// use dynamo_codegen::{Builder, TypeKind};
    /// Builder::new()
    ///     .type_attribute(TypeKind::Keys, "#[derive(PartialOrd, Ord)]")
    ///     .compile()
    ///     .unwrap_or_else(|e| panic!("{e:?}"));
    /// ```
    pub fn type_attribute(
        mut self,
        kind: crate::ir::TypeKind,
        attribute: impl Into<String>,
    ) -> Self {
        self.attributes.push((kind, attribute.into()));
        self
    }

    /// Validates the schemas and writes the code. Schema errors come back as
    /// [`Error::Schema`], whose `Debug` output is the rendered diagnostics.
    pub fn compile(self) -> Result<(), Error> {
        if self.cargo_output {
            // The folder itself too, so that added or removed files rerun.
            println!("cargo:rerun-if-changed={}", self.schema_dir.display());
            let migrations = self.schema_dir.join("migrations");
            if migrations.is_dir() {
                println!("cargo:rerun-if-changed={}", migrations.display());
            }
            for file in crate::load::schema_files(&self.schema_dir)? {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        let out_dir = match self.out_dir {
            Some(dir) => dir,
            None => std::env::var_os("OUT_DIR")
                .map(|d| PathBuf::from(d).join("dynamo"))
                .ok_or_else(|| {
                    Error::Config(
                        "OUT_DIR is not set: call Builder::compile from build.rs, or set Builder::out_dir"
                            .to_owned(),
                    )
                })?,
        };
        let mut checked = crate::check(&self.schema_dir)?;
        for (kind, attribute) in &self.attributes {
            crate::validate::attributes::check(*kind, attribute).map_err(|why| {
                Error::Config(format!(
                    "Builder::type_attribute({kind:?}, {attribute:?}): {why}"
                ))
            })?;
        }
        for table in &mut checked.schema.tables {
            table.serde |= self.serde || self.json_schema;
            table.json_schema |= self.json_schema;
            for (kind, attribute) in &self.attributes {
                table.attributes.add(*kind, attribute);
            }
        }
        let files = crate::generate_checked(&checked)?;
        if self.cargo_output {
            for warning in checked.warnings.warnings() {
                for line in warning.render().lines() {
                    println!("cargo:warning={line}");
                }
            }
        }
        std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io {
            path: out_dir.clone(),
            source,
        })?;
        for file in &files {
            crate::write::write_if_changed(&out_dir.join(&file.name), &file.contents)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TypeKind;

    #[test]
    fn a_type_attribute_that_does_not_parse_or_repeats_a_derive_is_an_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("t.toml"),
            "[table]\nname = \"things\"\npartition_key = \"pk\"\n\n[item.Thing.keys]\npk = \"T#{id}\"\n\n[item.Thing.fields]\nid = \"string\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let build = |kind, attribute: &str| {
            Builder::new()
                .schema_dir(dir.path())
                .out_dir(dir.path().join("out"))
                .cargo_output(false)
                .type_attribute(kind, attribute)
                .compile()
        };
        let Err(Error::Config(why)) = build(TypeKind::Enums, "#[derive(Clone)]") else {
            panic!("a config error")
        };
        assert!(why.contains("`Clone` is derived"), "{why}");
        assert!(matches!(
            build(TypeKind::Items, "derive(Hash"),
            Err(Error::Config(_))
        ));
        build(TypeKind::Keys, "#[derive(PartialOrd, Ord)]").unwrap_or_else(|e| panic!("{e:?}"));
        let code = std::fs::read_to_string(dir.path().join("out").join("things.rs"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(code.contains("#[derive(PartialOrd, Ord)]"), "{code}");
    }
}
