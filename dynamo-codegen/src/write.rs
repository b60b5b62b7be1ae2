//! Stage 5: format each emitted file with prettyplease, put the header on
//! top, and write it only when its contents changed (so unchanged schemas
//! do not trigger rebuilds of the crates that include the code).

use std::path::Path;

use crate::{Error, emit::EmittedFile};

/// A generated file, formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name in the output folder, e.g. `shop.rs`.
    pub name: String,
    /// The formatted text.
    pub contents: String,
}

/// Formats one emitted file.
pub fn format(file: EmittedFile) -> Result<GeneratedFile, Error> {
    let syntax: syn::File = syn::parse2(file.tokens).map_err(|e| {
        Error::Internal(format!(
            "generated code for {} does not parse: {e}",
            file.name
        ))
    })?;
    let code = prettyplease::unparse(&syntax);
    Ok(GeneratedFile {
        contents: format!("// {}\n\n{code}", file.header),
        name: file.name,
    })
}

/// Writes `contents` to `path` unless the file already holds exactly that.
/// Returns whether it wrote.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool, Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    std::fs::write(path, contents).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        assert!(write_if_changed(&path, "x").unwrap());
        assert!(!write_if_changed(&path, "x").unwrap());
        assert!(write_if_changed(&path, "y").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "y");
    }

    #[test]
    fn formats_with_header() {
        let file = EmittedFile {
            name: "a.rs".into(),
            header: "@generated".into(),
            tokens: quote::quote!(
                pub struct A {
                    pub x: u32,
                }
            ),
        };
        let out = format(file).unwrap();
        assert_eq!(
            out.contents,
            "// @generated\n\npub struct A {\n    pub x: u32,\n}\n"
        );
    }
}
