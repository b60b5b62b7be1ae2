//! Diagnostics: every problem in a schema, located in its file and rendered
//! like a compiler error (file:line:col, the text underlined, a help line).

use std::{fmt, ops::Range, sync::Arc};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, SourceCode, SourceSpan,
    SpanContents,
};

/// A schema file as it was read: its display name and text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown in diagnostics.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The schema cannot be used; no code is generated.
    Error,
    /// Worth a look; code is still generated.
    Warning,
}

/// A span in a file with a label, for the secondary places a diagnostic
/// points at ("first defined here").
#[derive(Debug, Clone)]
pub struct Related {
    /// The file of the span.
    pub file: Arc<SourceFile>,
    /// Byte range in the file.
    pub span: Range<usize>,
    /// What this place is.
    pub label: String,
}

/// One problem found in a schema.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable name for the rule, e.g. `dynamo::unknown_field`.
    pub code: &'static str,
    /// What is wrong, one line.
    pub message: String,
    /// The file the problem is in.
    pub file: Arc<SourceFile>,
    /// Byte range of the offending text.
    pub span: Range<usize>,
    /// The label under the offending text.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places involved.
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// A new error at `span` of `file`.
    pub fn error(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: Arc::clone(file),
            span,
            label: label.into(),
            help: None,
            related: Vec::new(),
        }
    }

    /// The same diagnostic as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary place.
    pub fn related(
        mut self,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        self.related.push(Related {
            file: Arc::clone(file),
            span,
            label: label.into(),
        });
        self
    }

    /// Renders the diagnostic as the CLI and `build.rs` print it: plain text,
    /// no colours, deterministic (snapshots hold this text).
    pub fn render(&self) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        // Rendering into a String cannot fail.
        let _ = handler.render_report(&mut out, &Rendered(self));
        out
    }
}

/// A diagnostic seen through miette's protocol.
struct Rendered<'a>(&'a Diagnostic);

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.0.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.0.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.0.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let d = self.0;
        let primary = LabeledSpan::new_primary_with_span(Some(d.label.clone()), span(&d.span));
        let same_file = d
            .related
            .iter()
            .filter(|r| Arc::ptr_eq(&r.file, &d.file))
            .map(|r| LabeledSpan::new_with_span(Some(r.label.clone()), span(&r.span)));
        Some(Box::new(std::iter::once(primary).chain(same_file)))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        let others: Vec<&'a dyn miette::Diagnostic> = self
            .0
            .related
            .iter()
            .filter(|r| !Arc::ptr_eq(&r.file, &self.0.file))
            .map(|r| r as &dyn miette::Diagnostic)
            .collect();
        if others.is_empty() {
            None
        } else {
            Some(Box::new(others.into_iter()))
        }
    }
}

fn span(range: &Range<usize>) -> SourceSpan {
    (range.start, range.end.saturating_sub(range.start)).into()
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

// A related place in another file renders as a nested note.
impl fmt::Display for Related {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl std::error::Error for Related {}

impl miette::Diagnostic for Related {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            span(&self.span),
        ))))
    }
}

/// All the diagnostics of one run, errors and warnings, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Every diagnostic, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Whether any error is in `file`.
    pub fn has_errors_in(&self, file: &Arc<SourceFile>) -> bool {
        self.items
            .iter()
            .any(|d| d.severity == Severity::Error && Arc::ptr_eq(&d.file, file))
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Renders every diagnostic, then a summary line when there are errors.
    pub fn render(&self) -> String {
        let mut out: String = self.items.iter().map(Diagnostic::render).collect();
        let errors = self.error_count();
        if errors > 0 {
            let s = if errors == 1 { "" } else { "s" };
            out.push_str(&format!("error: the schema has {errors} error{s}\n"));
        }
        out
    }
}

/// The candidate closest to `wrong`, when one is close enough to suggest.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
