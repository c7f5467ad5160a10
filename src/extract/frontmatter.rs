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

/// What [`yaml_expected`] finds, found without serde_yaml (whose parse costs more than the
/// rest of a page's extraction) in the common front matter of `key: value` lines at the left
/// margin, blank lines and comment lines. `None` (ask serde_yaml) for anything else: an
/// indented or flow form, a quote, a comment after a value, a repeated key, or a value at a
/// configured key that YAML might read as other than a string (a number, `true`, `~`...).
fn simple_yaml(src: &str, keys: &[String]) -> Option<HashMap<String, Vec<String>>> {
    let mut seen: Vec<&str> = Vec::new();
    let mut expected = HashMap::new();
    for line in src.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.bytes().all(|b| b == b' ') || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line.split_once(':')?;
        if !simple_key(key) || seen.contains(&key) || !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        seen.push(key);
        let value = rest.trim_matches(' ');
        if !value.is_empty() && !plain_value(value) {
            return None;
        }
        if keys.iter().any(|k| k == key) {
            let strings = match resolves_to_string(value)? {
                true => vec![value.to_string()],
                false => Vec::new(),
            };
            expected.insert(key.to_string(), strings);
        }
    }
    Some(expected)
}

/// Words YAML 1.1 or 1.2 may read as null or a boolean.
fn yaml_word(s: &str) -> bool {
    [
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
    ]
    .iter()
    .any(|w| s.eq_ignore_ascii_case(w))
}

/// A key that is a plain string in any YAML: a letter or `_`, then letters, digits, `_`, `-`.
fn simple_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !yaml_word(key)
}

/// A one-line plain scalar that means its own text: it starts with a letter, a digit or one of
/// `/._($=+`, and holds no tab or other control character, no `: ` or ` #`, no bracket or
/// brace, and no character YAML reads as a line break or byte order mark.
fn plain_value(value: &str) -> bool {
    let first = value.chars().next();
    let starts_well = first.is_some_and(|c| {
        c.is_ascii_alphanumeric() || "/._($=+".contains(c) || (!c.is_ascii() && !c.is_control())
    });
    starts_well
        && !value.ends_with(':')
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.chars().any(|c| {
            c.is_control()
                || "[]{}".contains(c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
        })
}

/// Whether a plain value is a string (empty is null); `None` if YAML may read it as another
/// type: a number, or a word such as `true` or `~`.
fn resolves_to_string(value: &str) -> Option<bool> {
    if value.is_empty() {
        return Some(false);
    }
    let numeric_looking = value
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b"xXoO_+-.:".contains(&b));
    let special = [".inf", ".nan", "inf", "nan", "infinity"]
        .iter()
        .any(|w| value.trim_start_matches(['+', '-']).eq_ignore_ascii_case(w));
    match numeric_looking || special || yaml_word(value) || value.parse::<f64>().is_ok() {
        true => None,
        false => Some(true),
    }
}

fn yaml(page: &str, fm: &FrontMatter, keys: &[String], out: &mut Extracted) {
    let src = &page[fm.content.clone()];
    let parsed = simple_yaml(src, keys).map_or_else(|| yaml_expected(src, keys), Ok);
    let mut expected = match parsed {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys() -> Vec<String> {
        vec!["image".into(), "cover".into(), "params.image".into()]
    }

    /// One line of front matter, from pieces that include YAML's traps: numbers, null and
    /// boolean words, `: ` and ` #` inside a value, quotes, brackets, tabs, indentation, a
    /// repeated key and characters YAML reads as line breaks.
    fn line() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            4 => prop::sample::select(vec!["image", "cover", "title", "date", "slug", "tags", "a-b", "_x"]),
            1 => prop::sample::select(vec!["params", "true", "Null", "1x", " image", "image ", "x\ty"]),
        ];
        let piece = prop::sample::select(vec![
            "a",
            "photo.png",
            "img/x.png",
            "/abs/y.jpg",
            "1",
            "0x1F",
            "1.5",
            "1e3",
            ".inf",
            "-",
            "+",
            "~",
            "null",
            "True",
            "false",
            "yes",
            "No",
            "on",
            ":",
            ": ",
            " #",
            "#",
            " ",
            "'",
            "\"",
            "[",
            "]",
            "{",
            ",",
            "\t",
            "é",
            "漢",
            "\u{2028}",
            "\u{85}",
            "\u{feff}",
            "\\",
            "&",
            "*",
            "!",
            "|",
            ">",
            "%",
            "@",
            "`",
            "?",
            "2024-01-01",
            "12:30",
            "nan",
            "Infinity",
        ]);
        let wild = prop::collection::vec(piece, 0..5).prop_map(|p| p.concat());
        let clean = prop::collection::vec(
            prop::sample::select(vec![
                "a", "photo", "-", "_", ".", "/", "png", "2", " ", "é", "x.jpg",
            ]),
            1..6,
        )
        .prop_map(|p| p.concat());
        let value = prop_oneof![1 => wild, 2 => clean];
        prop_oneof![
            12 => (key, value).prop_map(|(k, v)| format!("{k}: {v}")),
            1 => Just(String::new()),
            1 => Just("# a comment: with colon".to_string()),
            1 => Just("  image: nested.png".to_string()),
            1 => Just("image:".to_string()),
            1 => Just("cover:no-space.png".to_string()),
            1 => Just("- item.png".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]
        /// Where the fast reading answers, serde_yaml answers the same.
        #[test]
        fn simple_yaml_agrees_with_serde_yaml(
            lines in prop::collection::vec(line(), 0..6),
            crlf in any::<bool>(),
        ) {
            let src = lines.join(if crlf { "\r\n" } else { "\n" }) + "\n";
            if let Some(fast) = simple_yaml(&src, &keys()) {
                prop_assert_eq!(Ok(fast), yaml_expected(&src, &keys()), "{:?}", src);
            }
        }
    }

    #[test]
    fn simple_yaml_reads_common_front_matter_and_leaves_the_rest_to_serde_yaml() {
        let src = "title: Post 1 (draft), the first\ndate: 2024-01-01\n\n# cover\nimage: photo-2.png\ncover:\nslug: été/été.png\nhero-image: h.png\nlast_mod: x\n";
        let fast =
            simple_yaml(src, &keys()).expect("common front matter is read without serde_yaml");
        assert_eq!(fast["image"], ["photo-2.png"]);
        assert!(fast["cover"].is_empty());
        assert_eq!(fast.len(), 2);
        assert_eq!(Ok(fast), yaml_expected(src, &keys()));
        for other in [
            "image: \"x.png\"\n",
            "image: x.png # c\n",
            "image: 12\n",
            "image: true\n",
            "params:\n  image: x.png\n",
            "tags: [a, b]\n",
            "image: a.png\nimage: b.png\n",
            "title: a: b\n",
        ] {
            assert_eq!(simple_yaml(other, &keys()), None, "{other:?}");
        }
    }
}
