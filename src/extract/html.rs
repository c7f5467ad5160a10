//! Raw HTML: `<img src>`, `<img srcset>` and `<picture><source srcset>`.
//!
//! A small tag tokenizer in the spirit of the HTML spec's attribute rules: names up to
//! whitespace, `=`, `>` or `/`; values quoted with `"` or `'`, or unquoted up to whitespace or
//! `>`. Comments and the text of `<script>`, `<style>` and `<textarea>` are skipped, so a
//! commented-out image, or an `<img src>` in a script string, is not lifted. A value is accepted
//! only when it lies inside one raw-HTML event of the parser, so a tag broken across
//! block-quote prefixes is never mis-spliced.

use std::ops::Range;

use super::{Context, Extracted, Kind, Reference};

struct Attr {
    name: String,
    value: Range<usize>,
    quote: Option<char>,
}

pub(super) fn scan(page: &str, block: Range<usize>, allowed: &[Range<usize>], out: &mut Extracted) {
    let b = page.as_bytes();
    let mut i = block.start;
    let end = block.end;
    while let Some(p) = find(b, b"<", i, end) {
        if b[p..end].starts_with(b"<!--") {
            i = find(b, b"-->", p + 4, end).map_or(end, |q| q + 3);
            continue;
        }
        let name_start = p + 1;
        let mut j = name_start;
        while j < end && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j == name_start || !b[name_start].is_ascii_alphabetic() {
            i = p + 1;
            continue;
        }
        let name = page[name_start..j].to_ascii_lowercase();
        let (attrs, next) = attributes(b, j, end);
        i = next;
        // Raw text: what a script, a style or a textarea holds is not markup (an `<img src>`
        // in a script's string is not an image of the page).
        if matches!(name.as_str(), "script" | "style" | "textarea") {
            i = closing_tag(b, &name, i, end).unwrap_or(end);
            continue;
        }
        if name != "img" && name != "source" {
            continue;
        }
        for attr in attrs {
            let inside = allowed
                .iter()
                .any(|r| r.start <= attr.value.start && attr.value.end <= r.end);
            if !inside {
                continue;
            }
            match attr.name.as_str() {
                "src" if name == "img" => {
                    let dest = decode_entities(&page[attr.value.clone()]);
                    if !dest.trim().is_empty() {
                        out.refs.push(Reference {
                            kind: Kind::Html,
                            span: attr.value,
                            dest,
                            context: Context::Html { quote: attr.quote },
                        });
                    }
                }
                "srcset" => {
                    for url in srcset_urls(b, attr.value.clone()) {
                        out.refs.push(Reference {
                            kind: Kind::Srcset,
                            dest: decode_entities(&page[url.clone()]),
                            span: url,
                            context: Context::Html { quote: attr.quote },
                        });
                    }
                }
                _ => {}
            }
        }
    }
}

/// The raw-text element (`script`, `style`, `textarea`) this one tag opens, if it does not
/// also close it.
pub(super) fn opens_raw_text(tag: &str) -> Option<&'static str> {
    let b = tag.as_bytes();
    let name = ["script", "style", "textarea"].into_iter().find(|n| {
        b.len() > n.len() + 1
            && b[0] == b'<'
            && b[1..=n.len()].eq_ignore_ascii_case(n.as_bytes())
            && (b[n.len() + 1].is_ascii_whitespace() || matches!(b[n.len() + 1], b'>' | b'/'))
    })?;
    closing_tag(b, name, 0, b.len()).is_none().then_some(name)
}

/// Whether this piece of inline HTML contains the closing tag of `name`.
pub(super) fn closes(tag: &str, name: &str) -> bool {
    closing_tag(tag.as_bytes(), name, 0, tag.len()).is_some()
}

/// Where the closing tag `</name` (any case) starts, from `from`.
fn closing_tag(b: &[u8], name: &str, from: usize, end: usize) -> Option<usize> {
    let close = format!("</{name}");
    (from..end.saturating_sub(close.len() - 1)).find(|&k| {
        b[k..k + close.len()].eq_ignore_ascii_case(close.as_bytes())
            && b.get(k + close.len())
                .is_none_or(|&c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize, end: usize) -> Option<usize> {
    if from >= end {
        return None;
    }
    hay[from..end]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Attributes from `i` (just after the tag name) to the end of the tag; returns them and the
/// offset after the tag.
fn attributes(b: &[u8], mut i: usize, end: usize) -> (Vec<Attr>, usize) {
    let mut attrs = Vec::new();
    loop {
        while i < end && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= end {
            return (attrs, end);
        }
        if b[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < end && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = String::from_utf8_lossy(&b[name_start..i]).to_ascii_lowercase();
        let mut k = i;
        while k < end && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if k >= end || b[k] != b'=' {
            continue;
        }
        k += 1;
        while k < end && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if k >= end {
            return (attrs, end);
        }
        let (value, quote, next) = match b[k] {
            q @ (b'"' | b'\'') => match b[k + 1..end].iter().position(|&c| c == q) {
                Some(len) => (k + 1..k + 1 + len, Some(q as char), k + 2 + len),
                None => return (attrs, end),
            },
            _ => {
                let mut e = k;
                while e < end && !b[e].is_ascii_whitespace() && b[e] != b'>' {
                    e += 1;
                }
                (k..e, None, e)
            }
        };
        attrs.push(Attr { name, value, quote });
        i = next;
    }
}

/// The URL spans of a `srcset` value: candidates separated by commas, each a URL followed by
/// optional descriptors (`2x`, `480w`).
fn srcset_urls(b: &[u8], value: Range<usize>) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    let mut i = value.start;
    let end = value.end;
    while i < end {
        while i < end && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        let start = i;
        // Jekyll expands Liquid before the HTML is read: `{{ site.baseurl }}/a.png 1x` is one
        // URL, not `{{` with descriptors.
        if b[start..end].starts_with(b"{{") {
            i += liquid_len(&b[start..end.min(start + 4096)]);
        }
        while i < end && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url_end = i;
        let trailing_comma = url_end > start && b[url_end - 1] == b',';
        while url_end > start && b[url_end - 1] == b',' {
            url_end -= 1;
        }
        if url_end > start {
            urls.push(start..url_end);
        }
        if !trailing_comma {
            // Skip the descriptors up to the next comma.
            while i < end && b[i] != b',' {
                i += 1;
            }
        }
    }
    urls
}

/// How many bytes of `b` a Jekyll site path (`{{ site.baseurl }}/x`, `{{ "/x" | relative_url }}`)
/// at its start takes, or 0.
fn liquid_len(b: &[u8]) -> usize {
    let text = match std::str::from_utf8(b) {
        Ok(t) => t,
        // Cut inside a character by the caller's bound: read up to it.
        Err(e) => std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or_default(),
    };
    super::liquid_site_path(text).map_or(0, |(_, used)| used)
}

/// Decode the character references that occur in URLs; anything else stays as written.
pub(super) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        // Entity names are short; `;` is ASCII, so its byte offset is a char boundary.
        let Some(semi) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
