//! Extract: find every image destination in one page and record its exact byte span.
//!
//! A page is split into front matter (YAML `---` or TOML `+++` at byte 0, after an optional BOM)
//! and a Markdown body. The body is parsed with pulldown-cmark; raw HTML, Hugo `figure` shortcodes
//! and Jekyll's Liquid form `![a]({{ site.baseurl }}/x.png)` are scanned in the source text, never
//! inside code spans or code blocks. Each [`Reference`] carries the span of the destination bytes
//! (without quotes or angle brackets) and the destination as the renderer sees it.
//!
//! Extraction does not touch the filesystem and never fails as a whole: what it cannot locate
//! exactly is reported as a [`Problem`] and left alone, because a wrong span would corrupt a page.

mod code;
mod frontmatter;
mod html;
mod markdown;
mod text;

use std::ops::Range;

pub use frontmatter::FrontMatterKind;
pub use text::liquid_site_path;

/// Where a destination sits, which decides how a new URL must be escaped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// A bare Markdown destination: `![a](dest)` or `[id]: dest`.
    Markdown,
    /// A Markdown destination in angle brackets: `![a](<dest>)`.
    MarkdownAngle,
    /// An HTML attribute value (`src`, or one URL of a `srcset`); `quote` is `"`, `'` or none.
    Html { quote: Option<char> },
    /// A Hugo shortcode parameter value.
    Shortcode { quote: Option<char> },
    /// A YAML scalar in front matter.
    Yaml { quote: Option<char> },
    /// A TOML string in front matter.
    Toml { quote: char },
}

/// Which syntax a reference was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Inline,
    Reference,
    Html,
    Srcset,
    Shortcode,
    FrontMatter,
    Liquid,
}

/// One image destination found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: Kind,
    /// Byte span of the destination in the whole page text.
    pub span: Range<usize>,
    /// The destination as a renderer sees it (escapes and entities decoded).
    pub dest: String,
    pub context: Context,
}

/// Something in the page that could not be read exactly; it is left untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Extracted {
    /// Sorted by span start; spans never overlap.
    pub refs: Vec<Reference>,
    pub problems: Vec<Problem>,
    /// Headings with an image and no explicit id (`{#id}`): a generator that derives the id
    /// from the heading's text may change it when the destination changes.
    pub headings: Vec<HeadingWithImage>,
    /// Offsets of `<img` tags in an indented code block that follows an HTML block: code to
    /// CommonMark (so not lifted), but HTML to kramdown (Jekyll), which shows the image.
    pub indented_html: Vec<usize>,
}

/// A heading that shows an image and has no explicit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadingWithImage {
    pub span: Range<usize>,
    /// The id its text without the image would give (`## ![logo](a.png) Intro` → `intro`).
    pub id: String,
}

/// What to look for besides Markdown images.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dotted front-matter keys whose values are image paths, e.g. `cover.image`.
    pub front_matter: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            // The design's keys, plus Jekyll's `image.path` (jekyll-seo-tag) and Zola's
            // `extra.image`, so a hand-written config finds the usual covers.
            front_matter: [
                "image",
                "images",
                "cover.image",
                "featured_image",
                "image.path",
                "extra.image",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Markdown extensions the sites we serve use (GitHub-style tables, footnotes, strikethrough and
/// task lists); everything else is plain CommonMark.
pub fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options as O;
    O::ENABLE_TABLES | O::ENABLE_FOOTNOTES | O::ENABLE_STRIKETHROUGH | O::ENABLE_TASKLISTS
}

/// Find every image destination in `text`.
pub fn extract(text: &str, opts: &Options) -> Extracted {
    let mut out = Extracted::default();
    let fm = frontmatter::split(text);
    if let Some(fm) = &fm {
        frontmatter::extract(text, fm, &opts.front_matter, &mut out);
    }
    let body_start = fm
        .as_ref()
        .map_or_else(|| bom_len(text), |fm| fm.body_start);
    markdown::extract(text, body_start, &mut out);
    // Snippets inside the generators' code shortcodes and blocks are shown as text.
    let code = code::regions(text, body_start);
    if !code.is_empty() {
        out.refs
            .retain(|r| !code.iter().any(|c| c.contains(&r.span.start)));
        out.problems
            .retain(|p| !code.iter().any(|c| c.contains(&p.offset)));
        out.indented_html
            .retain(|o| !code.iter().any(|c| c.contains(o)));
    }
    out.refs.sort_by_key(|r| r.span.start);
    // Two scanners must never claim overlapping bytes; keep the first and say so.
    let mut kept: Vec<Reference> = Vec::with_capacity(out.refs.len());
    for r in out.refs.drain(..) {
        match kept.last() {
            Some(last) if r.span.start < last.span.end => out.problems.push(Problem {
                offset: r.span.start,
                message: format!("overlapping image references at `{}`; left alone", r.dest),
            }),
            _ => kept.push(r),
        }
    }
    out.refs = kept;
    out.problems.sort_by_key(|p| p.offset);
    out
}

fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        3
    } else {
        0
    }
}

/// Maps byte offsets to 1-based line and character column.
///
/// Offsets asked in increasing order on one line are counted from the previous answer, so a
/// 20 MB single-line page with many references stays linear.
pub struct LineIndex {
    starts: Vec<usize>,
    /// (offset, 0-based column) of the last answer.
    cursor: std::cell::Cell<(usize, usize)>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            starts,
            cursor: std::cell::Cell::new((0, 0)),
        }
    }

    /// 1-based (line, column); the column counts characters, as editors do.
    pub fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let (from, base) = match self.cursor.get() {
            (prev, col) if prev >= start && prev <= offset => (prev, col),
            _ => (start, 0),
        };
        let col = base + text[from..offset].chars().count();
        self.cursor.set((offset, col));
        (line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests;
