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

/// Formats one emitted file, part by part: prettyplease prints items one
/// after another, so the parts' texts joined are the whole file's.
pub fn format(file: EmittedFile) -> Result<GeneratedFile, Error> {
    format_text(Unformatted::from(file))
}

/// An emitted file as text, ready to format on any thread (tokens cannot
/// cross threads; their text can).
#[derive(Debug)]
pub(crate) struct Unformatted {
    pub name: String,
    pub header: String,
    pub parts: Vec<String>,
}

impl From<EmittedFile> for Unformatted {
    fn from(file: EmittedFile) -> Self {
        Unformatted {
            name: file.name,
            header: file.header,
            parts: file.parts.iter().map(ToString::to_string).collect(),
        }
    }
}

/// [`format`] of a file's text.
pub(crate) fn format_text(file: Unformatted) -> Result<GeneratedFile, Error> {
    let mut contents = format!("// {}\n\n", file.header);
    for part in &file.parts {
        let formatted = format_part(part).map_err(|e| {
            Error::Internal(format!(
                "generated code for {} does not parse: {e}",
                file.name
            ))
        })?;
        contents.push_str(&formatted);
    }
    Ok(GeneratedFile {
        contents,
        name: file.name,
    })
}

/// One part of a file, formatted; the parse error if it is not Rust.
pub(crate) fn format_part(part: &str) -> Result<String, syn::Error> {
    Ok(prettyplease::unparse(&syn::parse_file(part)?))
}

/// Formats every emitted file. Formatting (parsing and printing, most of
/// the generator's time) runs on the machine's cores, part by part (an
/// item type, a collection), while this thread emits the next tables; the
/// files come back in order, each the same text [`format`] gives.
pub(crate) fn format_all(
    emitted: impl Iterator<Item = EmittedFile>,
) -> Result<Vec<GeneratedFile>, Error> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if workers < 2 {
        return emitted.map(format).collect();
    }
    // Jobs: (file, part, text); results: (file, part, formatted text).
    // Bounded, so emission waits for formatting instead of piling up text.
    let (jobs, queue) = std::sync::mpsc::sync_channel::<(usize, usize, String)>(256);
    let queue = std::sync::Mutex::new(queue);
    let (done, results) = std::sync::mpsc::channel();
    let mut files: Vec<(String, String, Vec<Option<String>>)> = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (queue, done) = (&queue, done.clone());
            scope.spawn(move || {
                loop {
                    // The lock is held only to take the next part.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok((file, part, text))) = next else {
                        break;
                    };
                    let formatted = format_part(&text);
                    if done.send((file, part, formatted)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        for (i, file) in emitted.enumerate() {
            let file = Unformatted::from(file);
            for (j, part) in file.parts.into_iter().enumerate() {
                if jobs.send((i, j, part)).is_err() {
                    break;
                }
            }
            files.push((file.name, file.header, Vec::new()));
        }
        drop(jobs);
        for (i, j, formatted) in results.iter() {
            let (name, _, parts) = &mut files[i];
            let formatted = formatted.map_err(|e| {
                Error::Internal(format!("generated code for {name} does not parse: {e}"))
            })?;
            if parts.len() <= j {
                parts.resize(j + 1, None);
            }
            parts[j] = Some(formatted);
        }
        Ok(())
    })?;
    Ok(files
        .into_iter()
        .map(|(name, header, parts)| GeneratedFile {
            contents: std::iter::once(format!("// {header}\n\n"))
                .chain(parts.into_iter().flatten())
                .collect(),
            name,
        })
        .collect())
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

/// Files in `out` that an earlier run generated but this one does not (the
/// code of a table since removed): `.rs` files whose first line is the
/// generator's header, never a file someone else wrote.
pub fn leftovers(out: &Path, files: &[GeneratedFile]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let mut left: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".rs") && !files.iter().any(|f| f.name == *name))
        .filter(|name| {
            std::fs::read_to_string(out.join(name))
                .is_ok_and(|text| text.starts_with("// @generated by dynamo-codegen"))
        })
        .collect();
    left.sort();
    left
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
    fn leftovers_are_only_generated_files_not_generated_now() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        file(
            "shop.rs",
            "// @generated by dynamo-codegen from shop.toml.\n",
        );
        file("old.rs", "// @generated by dynamo-codegen from old.toml.\n");
        file("mine.rs", "// written by hand\n");
        file("notes.txt", "// @generated by dynamo-codegen\n");
        let now = [GeneratedFile {
            name: "shop.rs".into(),
            contents: String::new(),
        }];
        assert_eq!(leftovers(dir.path(), &now), ["old.rs"]);
    }

    #[test]
    fn formats_with_header() {
        let file = EmittedFile {
            name: "a.rs".into(),
            header: "@generated".into(),
            parts: vec![
                quote::quote!(
                    pub struct A {
                        pub x: u32,
                    }
                ),
                quote::quote!(
                    pub struct B;
                ),
            ],
        };
        let out = format(file).unwrap();
        assert_eq!(
            out.contents,
            "// @generated\n\npub struct A {\n    pub x: u32,\n}\npub struct B;\n"
        );
    }
}
