//! Image syntaxes that a CommonMark parser does not see: Hugo's `figure` shortcode
//! (`{{< figure src="…" >}}` and `{{% figure src="…" %}}`) and Jekyll's Liquid destinations
//! (`![a]({{ site.baseurl }}/x.png)`, `![a]({{ "/x.png" | relative_url }})`, which Jekyll
//! expands before kramdown reads the page), also in a reference definition an image uses
//! (`[a]: {{ site.baseurl }}/x.png`, which CommonMark reads as a paragraph).
//!
//! Both are found in the page text outside code spans, code blocks and already-parsed images.
//! Hugo's escaped form `{{</* figure */>}}` renders literally and is skipped. Other shortcodes and
//! build-time calls such as Zola's `resize_image` are left alone.

use std::ops::Range;

use super::{Context, Extracted, Kind, Reference};

pub(super) fn scan(page: &str, body_start: usize, skip: &[Range<usize>], out: &mut Extracted) {
    let b = page.as_bytes();
    let mut i = body_start;
    let mut skip_idx = 0;
    while let Some(p) = memfind(b, b"{{", i) {
        i = p + 2;
        while skip_idx < skip.len() && skip[skip_idx].end <= p {
            skip_idx += 1;
        }
        if skip.get(skip_idx).is_some_and(|s| s.start <= p) {
            i = skip[skip_idx].end.max(i);
            continue;
        }
        match b.get(p + 2) {
            Some(b'<') | Some(b'%') => {
                if let Some((r, next)) = shortcode(page, p) {
                    out.refs.push(r);
                    i = next;
                }
            }
            _ => {
                if let Some(r) = liquid(page, p) {
                    i = r.span.end;
                    out.refs.push(r);
                }
            }
        }
    }
}

fn memfind(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// `{{< figure src="x" >}}` at `p`: the `src` value and the offset after the shortcode.
fn shortcode(page: &str, p: usize) -> Option<(Reference, usize)> {
    let b = page.as_bytes();
    let delim = b[p + 2];
    let close: &[u8] = if delim == b'<' { b">}}" } else { b"%}}" };
    // Shortcodes are short; bound the search so hostile input stays linear.
    let limit = (p + 4096).min(b.len());
    let end = memfind(&b[..limit], close, p + 3)?;
    let mut i = p + 3;
    while i < end && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let name_start = i;
    while i < end && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'/')) {
        i += 1;
    }
    // Hugo's escaped form `{{</* figure */>}}` has the name `/` and ends here too.
    if &page[name_start..i] != "figure" {
        return None;
    }
    while i < end {
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key_start = i;
        while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let key = &page[key_start..i];
        if i >= end || b[i] != b'=' {
            // A positional parameter or something we do not read: stop looking.
            return None;
        }
        i += 1;
        let (value, quote) = match b.get(i) {
            Some(&q @ (b'"' | b'`')) => {
                let mut j = i + 1;
                while j < end && b[j] != q {
                    j += if q == b'"' && b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= end {
                    return None;
                }
                let v = i + 1..j;
                i = j + 1;
                (v, Some(q as char))
            }
            _ => {
                let s = i;
                while i < end && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                (s..i, None)
            }
        };
        if key == "src" {
            let raw = &page[value.clone()];
            // A Go string with escapes would need decoding; such a path is left alone.
            if quote == Some('"') && raw.contains('\\') || raw.is_empty() {
                return None;
            }
            let r = Reference {
                kind: Kind::Shortcode,
                span: value,
                dest: raw.to_string(),
                context: Context::Shortcode { quote },
            };
            return Some((r, end + close.len()));
        }
    }
    None
}

/// `![alt]({{ site.baseurl }}/x.png)` or `![alt]({{ "/x.png" | relative_url }})` with `{{` at `p`.
fn liquid(page: &str, p: usize) -> Option<Reference> {
    let b = page.as_bytes();
    if p < 2 || &b[p - 2..p] != b"](" {
        return None;
    }
    let (_, used) = liquid_site_path(&page[p..])?;
    // The image's `![` must start earlier on the same line (bounded look-back).
    let line_start = page[..p].rfind('\n').map_or(0, |n| n + 1);
    let look = line_start.max(p.saturating_sub(1024));
    page.get(look..p)?.rfind("![")?;
    let e = p + used;
    if !closes_destination(b, e) {
        return None;
    }
    Some(Reference {
        kind: Kind::Liquid,
        span: p..e,
        // After Liquid, the Markdown parser reads the path: `&amp;` is `&` there.
        dest: super::html::decode_entities(&page[p..e]),
        context: Context::Markdown,
    })
}

/// Jekyll's ways of saying "from the site root" in Liquid: `{{ site.baseurl }}/path` (also
/// `{{site.baseurl}}`), or a whole `{{ "/path" | relative_url }}` (or `absolute_url`, quotes `"`
/// or `'`). Returns the site-absolute path and how many bytes of `s` the form takes.
pub fn liquid_site_path(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("{{")?;
    // Bounded, so hostile input stays linear; at a character boundary, or a multi-byte
    // character 256 bytes on would hide the whole form.
    let mut bound = inner.len().min(256);
    while !inner.is_char_boundary(bound) {
        bound -= 1;
    }
    let close = inner[..bound].find("}}")?;
    let expr = inner[..close].trim();
    let after = close + 4;
    if expr == "site.baseurl" {
        let rest = &s[after..];
        // Balanced parentheses belong to the path, as in a CommonMark destination.
        let mut depth = 0usize;
        let end = rest
            .find(|c: char| match c {
                '(' => {
                    depth += 1;
                    false
                }
                ')' if depth > 0 => {
                    depth -= 1;
                    false
                }
                _ => c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>'),
            })
            .unwrap_or(rest.len());
        let path = &rest[..end];
        return (path.starts_with('/') && path.len() > 1).then(|| (path.to_string(), after + end));
    }
    let (literal, filter) = expr.split_once('|')?;
    if !matches!(filter.trim(), "relative_url" | "absolute_url") {
        return None;
    }
    let literal = literal.trim();
    let quote = literal.chars().next().filter(|q| matches!(q, '"' | '\''))?;
    let path = literal.strip_prefix(quote)?.strip_suffix(quote)?;
    if path.is_empty() || path.contains(quote) {
        return None;
    }
    let path = match path.starts_with('/') {
        true => path.to_string(),
        false => format!("/{path}"),
    };
    Some((path, after))
}

/// After a destination at `e`: optional whitespace, an optional title in `"…"`, `'…'` or
/// `(…)`, then the closing `)` of the image, all on this line.
fn closes_destination(b: &[u8], mut e: usize) -> bool {
    let skip_ws = |mut i: usize| {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    e = skip_ws(e);
    if let Some(&open) = b.get(e).filter(|c| matches!(c, b'"' | b'\'' | b'(')) {
        let close = if open == b'(' { b')' } else { open };
        let mut i = e + 1;
        while i < b.len() && b[i] != close && b[i] != b'\n' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        if i >= b.len() || b[i] != close {
            return false;
        }
        e = skip_ws(i + 1);
    }
    b.get(e) == Some(&b')')
}

/// A reference label as CommonMark matches it: case-insensitive, inner whitespace collapsed.
pub(super) fn normalise_label(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn in_skip(skip: &[Range<usize>], at: usize) -> bool {
    let i = skip.partition_point(|r| r.start <= at);
    skip[..i].iter().rev().take(8).any(|r| at < r.end)
}

/// `[label]:` at the start of `line` (up to three spaces of indent): the label and the offset
/// in `line` just after the colon.
fn definition_label(line: &str) -> Option<(&str, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = line[indent..].strip_prefix('[').filter(|_| indent <= 3)?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] != b']' {
        if b[i] == b'[' {
            return None;
        }
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    let label = rest.get(..i)?;
    (rest.as_bytes().get(i + 1) == Some(&b':') && !label.trim().is_empty())
        .then_some((label, indent + 1 + i + 2))
}

/// Jekyll expands Liquid before kramdown reads the page, so `[a]: {{ site.baseurl }}/x.png`
/// (or `{{ "/x.png" | relative_url }}`) is a reference definition there, although CommonMark
/// reads a paragraph (the destination has spaces). Each such definition on one line of the
/// body, outside `skip` (sorted), that starts a block (after a blank line or another
/// definition): its normalised label, its offset and the reference to its destination.
pub(super) fn liquid_definitions(
    page: &str,
    body_start: usize,
    skip: &[Range<usize>],
) -> Vec<(String, usize, Reference)> {
    let mut out = Vec::new();
    let mut starts_block = true;
    let mut line_start = body_start;
    while line_start < page.len() {
        let line_end = page[line_start..]
            .find('\n')
            .map_or(page.len(), |n| line_start + n);
        let line = page[line_start..line_end].trim_end_matches('\r');
        let label = definition_label(line);
        if let (Some((label, after)), true) = (label, starts_block) {
            let value = &line[after..];
            let p =
                line_start + after + (value.len() - value.trim_start_matches([' ', '\t']).len());
            if page[p..].starts_with("{{") && !in_skip(skip, line_start) {
                if let Some((_, used)) = liquid_site_path(&page[p..line_start + line.len()]) {
                    let e = p + used;
                    if title_then_end(&page.as_bytes()[..line_start + line.len()], e) {
                        out.push((
                            normalise_label(label),
                            line_start,
                            Reference {
                                kind: Kind::Liquid,
                                span: p..e,
                                dest: super::html::decode_entities(&page[p..e]),
                                context: Context::Markdown,
                            },
                        ));
                    }
                }
            }
        }
        starts_block = line.trim().is_empty() || label.is_some();
        line_start = line_end + 1;
    }
    out
}

/// After a definition's destination at `e`: optional whitespace and an optional title in
/// `"…"`, `'…'` or `(…)`, then nothing but whitespace to the end of `b` (the line).
fn title_then_end(b: &[u8], e: usize) -> bool {
    let skip_ws = |mut i: usize| {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    let mut i = skip_ws(e);
    if i == b.len() {
        return true;
    }
    if i == e {
        return false;
    }
    let Some(&open) = b.get(i).filter(|c| matches!(c, b'"' | b'\'' | b'(')) else {
        return false;
    };
    let close = if open == b'(' { b')' } else { open };
    i += 1;
    while i < b.len() && b[i] != close {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i < b.len() && skip_ws(i + 1) == b.len()
}

/// Whether an image outside `skip` (sorted) uses the definition of `label` (normalised):
/// `![alt][label]`, `![label][]` or `![label]`, as text (CommonMark sees no image there while
/// the definition is Liquid).
pub(super) fn image_uses_label(
    page: &str,
    body_start: usize,
    skip: &[Range<usize>],
    label: &str,
) -> bool {
    let b = page.as_bytes();
    let mut from = body_start;
    while let Some(p) = memfind(b, b"![", from) {
        from = p + 2;
        if in_skip(skip, p) {
            continue;
        }
        // The alt text, with nested brackets and escapes; bounded so hostile input stays linear.
        let limit = (p + 4096).min(b.len());
        let (mut i, mut depth) = (p + 2, 0usize);
        while i < limit {
            match b[i] {
                b'\\' => i += 1,
                // A code span's brackets are text: `code]` does not close the alt.
                b'`' => i = code_span_end(b, i, limit) - 1,
                b'[' => depth += 1,
                b']' if depth == 0 => break,
                b']' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        if i >= limit {
            continue;
        }
        let alt = &page[p + 2..i];
        let used = match b.get(i + 1) {
            Some(b'(') => continue,
            Some(b'[') => {
                // The first `]` not escaped (as in the definition's label).
                let mut close = i + 2;
                while close < limit && b[close] != b']' {
                    close += if b[close] == b'\\' { 2 } else { 1 };
                }
                if close >= limit {
                    continue;
                }
                match page[i + 2..close].trim() {
                    "" => alt,
                    inner => inner,
                }
            }
            _ => alt,
        };
        if normalise_label(used) == label {
            return true;
        }
    }
    false
}

/// The end of the code span whose opening backtick run starts at `i` (the offset after its
/// closing run), or the end of the run when no run of the same length closes it before `limit`.
fn code_span_end(b: &[u8], i: usize, limit: usize) -> usize {
    let run = |at: usize| b[at..limit].iter().take_while(|&&c| c == b'`').count();
    let n = run(i);
    let mut j = i + n;
    while j < limit {
        if b[j] == b'`' {
            let m = run(j);
            if m == n {
                return j + m;
            }
            j += m;
        } else {
            j += 1;
        }
    }
    i + n
}
