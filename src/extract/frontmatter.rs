//! Front matter: split it off at byte 0 and find the configured image keys in it.
//!
//! TOML (`+++`) is parsed with the toml crate's spanned document, which gives the byte span of every value. YAML (`---`)
//! has no span-keeping parser among our dependencies, so a line scanner proposes spans for the
//! common forms (block mappings, block and flow sequences, plain and quoted scalars) and each
//! proposal is accepted only if serde_yaml, parsing the same front matter, has exactly that string
//! at that key. Anything the scanner cannot prove (block scalars, anchors, escapes it does not
//! decode) is left alone.

use std::collections::HashMap;
use std::ops::Range;

use super::{Context, Extracted, Kind, Problem, Reference};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMatterKind {
    Yaml,
    Toml,
}

#[derive(Debug, Clone)]
pub(super) struct FrontMatter {
    pub kind: FrontMatterKind,
    /// The text between the fences.
    pub content: Range<usize>,
    pub body_start: usize,
}

/// Find the front matter fences at the start of the page (after an optional BOM).
pub(super) fn split(page: &str) -> Option<FrontMatter> {
    let start = super::bom_len(page);
    let first_end = page[start..].find('\n').map(|n| start + n + 1)?;
    let fence = page[start..first_end].trim_end();
    let kind = match fence {
        "---" => FrontMatterKind::Yaml,
        "+++" => FrontMatterKind::Toml,
        _ => return None,
    };
    let mut line_start = first_end;
    while line_start < page.len() {
        let line_end = page[line_start..]
            .find('\n')
            .map_or(page.len(), |n| line_start + n + 1);
        let line = page[line_start..line_end].trim_end();
        if line == fence || (kind == FrontMatterKind::Yaml && line == "...") {
            return Some(FrontMatter {
                kind,
                content: first_end..line_start,
                body_start: line_end,
            });
        }
        line_start = line_end;
    }
    None
}

pub(super) fn extract(page: &str, fm: &FrontMatter, keys: &[String], out: &mut Extracted) {
    if keys.is_empty() {
        return;
    }
    match fm.kind {
        FrontMatterKind::Toml => toml(page, fm, keys, out),
        FrontMatterKind::Yaml => yaml(page, fm, keys, out),
    }
}

fn toml(page: &str, fm: &FrontMatter, keys: &[String], out: &mut Extracted) {
    use toml::de::{DeTable, DeValue};
    let src = &page[fm.content.clone()];
    let doc = match DeTable::parse(src) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            out.problems.push(Problem {
                offset: fm.content.start + at,
                message: format!(
                    "front matter is not valid TOML ({}); its images are left alone",
                    e.message()
                ),
            });
            return;
        }
    };
    for key in keys {
        let mut table = doc.get_ref();
        let mut value = None;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(v) = table.get(*part) else { break };
            if i + 1 == parts.len() {
                value = Some(v);
            } else if let DeValue::Table(t) = v.get_ref() {
                table = t;
            } else {
                break;
            }
        }
        let Some(value) = value else { continue };
        let values: Vec<_> = match value.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            _ => vec![value],
        };
        for v in values {
            let Some(s) = v.get_ref().as_str() else {
                continue;
            };
            let span = v.span();
            let raw = &src[span.clone()];
            let (inner, quote) = match raw.as_bytes().first() {
                Some(&q @ (b'"' | b'\''))
                    if raw.len() >= 2
                        && !raw.starts_with("\"\"\"")
                        && !raw.starts_with("\'\'\'") =>
                {
                    (span.start + 1..span.end - 1, q as char)
                }
                _ => (span.clone(), '"'),
            };
            if &src[inner.clone()] != s {
                out.problems.push(Problem {
                    offset: fm.content.start + span.start,
                    message: format!(
                        "front matter `{key}` uses escapes or a multi-line string; left alone"
                    ),
                });
                continue;
            }
            push(
                out,
                fm.content.start + inner.start..fm.content.start + inner.end,
                s,
                Context::Toml { quote },
            );
        }
    }
}

fn push(out: &mut Extracted, span: Range<usize>, dest: &str, context: Context) {
    if dest.trim().is_empty() {
        return;
    }
    out.refs.push(Reference {
        kind: Kind::FrontMatter,
        span,
        dest: dest.to_string(),
        context,
    });
}

/// The strings serde_yaml finds at each configured key; on a parse error, the byte offset in
/// `src` where it is and serde_yaml's words without their line and column (those count from
/// the front matter's first line, not the page's: the report gives the page's `file:line:col`).
fn yaml_expected(
    src: &str,
    keys: &[String],
) -> Result<HashMap<String, Vec<String>>, (usize, String)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(src).map_err(|e| {
        let at = e.location().map_or(0, |l| {
            let line_start = src
                .split_inclusive('\n')
                .take(l.line().saturating_sub(1))
                .map(str::len)
                .sum::<usize>();
            let line = &src[line_start..];
            line_start
                + line
                    .char_indices()
                    .nth(l.column().saturating_sub(1))
                    .map_or(line.len(), |(i, _)| i)
        });
        (at, crate::error::yaml_words(&e))
    })?;
    let mut expected = HashMap::new();
    for key in keys {
        let mut v = &doc;
        let mut found = true;
        for part in key.split('.') {
            match v.get(part) {
                Some(next) => v = next,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let strings: Vec<String> = match v {
            serde_yaml::Value::String(s) => vec![s.clone()],
            serde_yaml::Value::Sequence(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        expected.insert(key.clone(), strings);
    }
    Ok(expected)
}

fn yaml(page: &str, fm: &FrontMatter, keys: &[String], out: &mut Extracted) {
    let src = &page[fm.content.clone()];
    let mut expected = match yaml_expected(src, keys) {
        Ok(e) => e,
        Err((at, e)) => {
            out.problems.push(Problem {
                offset: fm.content.start + at,
                message: format!("front matter is not valid YAML ({e}); its images are left alone"),
            });
            return;
        }
    };
    if expected.is_empty() {
        return;
    }
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut line_start = 0;
    while line_start < src.len() {
        let line_end = src[line_start..]
            .find('\n')
            .map_or(src.len(), |n| line_start + n);
        let line = src[line_start..line_end].trim_end_matches('\r');
        let next = line_end + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let at = line_start + indent;
        line_start = next;
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let candidates = line_scalars(src, at, indent, rest, &mut stack);
        if candidates.is_empty() {
            continue;
        }
        let path = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let Some(wanted) = expected.get_mut(&path) else {
            continue;
        };
        for (span, value, quote) in candidates {
            if let Some(pos) = wanted.iter().position(|w| *w == value) {
                wanted.swap_remove(pos);
                let span = fm.content.start + span.start..fm.content.start + span.end;
                push(out, span, &value, Context::Yaml { quote });
            }
        }
    }
    for (key, left) in expected {
        if let Some(value) = left.first() {
            out.problems.push(Problem {
                offset: fm.content.start,
                message: format!(
                    "front matter `{key}: {value}` is written in a YAML form imglift does not rewrite; left alone"
                ),
            });
        }
    }
}

/// The scalar values one line of block YAML holds (a sequence item, a mapping value, or a flow
/// sequence's items), with their spans in `src`; `stack` tracks the keys above the line.
fn line_scalars(
    src: &str,
    at: usize,
    indent: usize,
    rest: &str,
    stack: &mut Vec<(usize, String)>,
) -> Vec<(Range<usize>, String, Option<char>)> {
    let mut candidates = Vec::new();
    if rest == "-" || rest.starts_with("- ") {
        while stack.last().is_some_and(|(i, _)| *i > indent) {
            stack.pop();
        }
        let item = rest[1..].trim_start();
        let item_at = at + (rest.len() - item.len());
        candidates.extend(scalar(src, item_at, at + rest.len(), false));
        return candidates;
    }
    let Some((key, value_at)) = mapping_key(rest) else {
        return candidates;
    };
    while stack.last().is_some_and(|(i, _)| *i >= indent) {
        stack.pop();
    }
    stack.push((indent, key));
    let value_at = at + value_at;
    let line_stop = at + rest.len();
    if src[value_at..line_stop].starts_with('[') {
        candidates.extend(flow_sequence(src, value_at + 1, line_stop));
    } else {
        candidates.extend(scalar(src, value_at, line_stop, false));
    }
    candidates
}

/// `key: value` → (key, offset of the value within `rest`).
fn mapping_key(rest: &str) -> Option<(String, usize)> {
    let (key, after) = match rest.as_bytes()[0] {
        q @ (b'"' | b'\'') => {
            let close = rest[1..].find(q as char)? + 1;
            (rest[1..close].to_string(), close + 1)
        }
        _ => {
            let colon = rest
                .match_indices(':')
                .find(|(i, _)| {
                    matches!(rest.as_bytes().get(i + 1), None | Some(b' ') | Some(b'\t'))
                })?
                .0;
            (rest[..colon].trim_end().to_string(), colon)
        }
    };
    let after_colon = rest[after..].strip_prefix(':')?;
    let value = after_colon.trim_start();
    Some((key, rest.len() - value.len()))
}

/// A scalar starting at `at` and ending before `stop` (end of line, or the flow context's end):
/// (span of its characters, decoded value, quote).
fn scalar(
    src: &str,
    at: usize,
    stop: usize,
    flow: bool,
) -> Option<(Range<usize>, String, Option<char>)> {
    let text = &src[at..stop];
    match text.as_bytes().first()? {
        b'"' => {
            let b = text.as_bytes();
            let mut i = 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    // Escapes would need decoding; an image path rarely has one.
                    return None;
                }
                i += 1;
            }
            (i < b.len()).then(|| (at + 1..at + i, text[1..i].to_string(), Some('"')))
        }
        b'\'' => {
            // `''` is a quote inside the value (and what `rewrite` writes for one).
            let mut i = 1;
            loop {
                let q = i + text[i..].find('\'')?;
                if text[q + 1..].starts_with('\'') {
                    i = q + 2;
                    continue;
                }
                let value = text[1..q].replace("''", "'");
                return Some((at + 1..at + q, value, Some('\'')));
            }
        }
        b'|' | b'>' | b'&' | b'*' | b'!' | b'{' | b'[' | b'#' => None,
        _ => {
            let mut end = text.find(" #").unwrap_or(text.len());
            if flow {
                end = end.min(text.find([',', ']']).unwrap_or(text.len()));
            }
            let value = text[..end].trim_end();
            if value.contains(": ") {
                return None;
            }
            Some((at..at + value.len(), value.to_string(), None))
        }
    }
}

/// The scalars of a one-line flow sequence `[a, "b", 'c']`, from just after `[`.
fn flow_sequence(
    src: &str,
    mut at: usize,
    stop: usize,
) -> Vec<(Range<usize>, String, Option<char>)> {
    let mut items = Vec::new();
    while at < stop {
        let rest = &src[at..stop];
        let trimmed = rest.trim_start_matches([' ', '\t', ',']);
        at += rest.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with(']') {
            break;
        }
        let Some(item) = scalar(src, at, stop, true) else {
            break;
        };
        let quoted = item.2.is_some() as usize;
        at = item.0.end + quoted;
        items.push(item);
    }
    items
}
