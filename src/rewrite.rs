//! Rewrite: splice new URLs into the recorded byte spans, check the result, write atomically.
//!
//! Only destination bytes change. Each URL is escaped for the context it lands in (a Markdown
//! destination, an HTML attribute, a shortcode parameter, a YAML or TOML string). Before a page
//! is written, it is extracted again: every edited reference must read back as its new URL and
//! every other reference as before, or the page is left as it was. Writing the result is the
//! output stage's (`output.rs`).

use std::ops::Range;

use crate::extract::{self, Context};
use crate::pages::Page;
use crate::plan::{self, Plan};
use crate::report::{Diagnostic, Rewrite, Severity};
use crate::resolve::Resolved;
use crate::upload::Outcome;

/// A page's new text and what changed in it, for the report.
pub struct PageEdit {
    pub text: String,
    pub rewrites: Vec<Rewrite>,
}

/// The rewrite stage for one page: every reference to an object the store confirmed gets its
/// public URL. `Ok(None)` when nothing changes; an error (and the page left as it is) when the
/// result does not read back as expected.
pub fn page_edit(
    page: &Page,
    plan: &Plan,
    outcomes: &[Outcome],
    opts: &extract::Options,
) -> Result<Option<PageEdit>, Diagnostic> {
    let mut edits = Vec::new();
    let mut rewrites = Vec::new();
    for (r, resolved) in &page.refs {
        let Resolved::Local(p) = resolved else {
            continue;
        };
        let Some(&i) = plan.by_path.get(p) else {
            continue;
        };
        if !outcomes[i].confirmed() {
            continue;
        }
        let url = plan::reference_url(&plan.items[i].url, &r.dest);
        let (line, col) = page.lines.locate(&page.text, r.span.start);
        rewrites.push(Rewrite {
            line,
            col,
            from: r.dest.clone(),
            to: url.clone(),
        });
        edits.push(Edit {
            span: r.span.clone(),
            url,
            context: r.context,
        });
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let text = splice(&page.text, &edits);
    if let Err(why) = verify(&page.text, &text, &edits, opts) {
        return Err(page.diag(
            edits[0].span.start,
            Severity::Error,
            "unparsed",
            format!("rewrite did not read back as expected ({why}); page left as it is"),
        ));
    }
    Ok(Some(PageEdit { text, rewrites }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub url: String,
    pub context: Context,
}

/// The URL as it must be written in `context`. URLs from `plan::public_url` are already
/// percent-encoded; this guards the base URL's characters too.
pub fn escape_for(url: &str, context: Context) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match (context, c) {
            (_, ' ') => out.push_str("%20"),
            (Context::Markdown, '(' | ')' | '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::MarkdownAngle, '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::Html { .. }, '&') => out.push_str("&amp;"),
            (Context::Html { .. }, '"') => out.push_str("&quot;"),
            (Context::Html { .. }, '\'') => out.push_str("&#39;"),
            (Context::Html { quote: None }, '<' | '>' | '=' | '`') => {
                out.push_str(&format!("&#{};", c as u32))
            }
            (Context::Html { .. }, ',') => out.push_str("%2C"),
            (
                Context::Shortcode { .. }
                | Context::Yaml { quote: Some('"') }
                | Context::Toml { quote: '"' },
                '"' | '\\',
            ) => out.push_str(&format!("%{:02X}", c as u32)),
            (Context::Shortcode { .. }, '`') => out.push_str("%60"),
            (Context::Yaml { quote: Some('\'') }, '\'') => out.push_str("''"),
            (Context::Toml { quote: '\'' }, '\'') => out.push_str("%27"),
            (Context::Yaml { quote: None }, '#') => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

/// Replace each edit's span with its escaped URL. Edits must be sorted and not overlap.
pub fn splice(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.len() * 64);
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.span.start]);
        out.push_str(&escape_for(&e.url, e.context));
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Check by extracting again that `new` is `old` with exactly these destinations replaced.
pub fn verify(old: &str, new: &str, edits: &[Edit], opts: &extract::Options) -> Result<(), String> {
    let before = extract::extract(old, opts).refs;
    let after = extract::extract(new, opts).refs;
    let mut shift: isize = 0;
    let mut edit_iter = edits.iter().peekable();
    let mut expected: Vec<(usize, String)> = Vec::with_capacity(before.len());
    for r in &before {
        while edit_iter
            .peek()
            .is_some_and(|e| e.span.end <= r.span.start && e.span != r.span)
        {
            let e = edit_iter.next().expect("peeked");
            shift += escape_for(&e.url, e.context).len() as isize - e.span.len() as isize;
        }
        let start = (r.span.start as isize + shift) as usize;
        match edit_iter.peek() {
            Some(e) if e.span == r.span => {
                expected.push((start, e.url.clone()));
                shift += escape_for(&e.url, e.context).len() as isize - e.span.len() as isize;
                edit_iter.next();
            }
            _ => expected.push((start, r.dest.clone())),
        }
    }
    if edit_iter.next().is_some() {
        return Err("an edit does not match any reference".into());
    }
    let found: Vec<(usize, String)> = after
        .iter()
        .map(|r| (r.span.start, r.dest.clone()))
        .collect();
    if found != expected {
        let diff = expected
            .iter()
            .zip(found.iter().chain(std::iter::repeat(&(0, String::new()))))
            .find(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    "expected `{}` at byte {}, found `{}` at byte {}",
                    a.1, a.0, b.1, b.0
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "{} references expected, {} found",
                    expected.len(),
                    found.len()
                )
            });
        return Err(diff);
    }
    Ok(())
}
