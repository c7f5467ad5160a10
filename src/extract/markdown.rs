//! Markdown images, located by pulldown-cmark and pinned down to their destination bytes.
//!
//! pulldown-cmark gives the span of a whole image (`![alt](dest "title")`) or of a reference
//! definition, not of the destination. We scan inside that span the way CommonMark reads it
//! (escapes, nested brackets, balanced parentheses, `<…>`, container prefixes after a line
//! break) and accept the span only if re-parsing its bytes gives the destination pulldown-cmark
//! reported. Raw HTML blocks and inline HTML are handed to the HTML scanner; the remaining text
//! (outside code) goes to the shortcode and Liquid scanners.

use std::collections::BTreeMap;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Parser, Tag, TagEnd};

use super::{html, text, Context, Extracted, Kind, Problem, Reference};

struct Frame {
    span: Range<usize>,
    inner_end: usize,
    link_type: LinkType,
    dest: String,
    id: String,
}

pub(super) fn extract(page: &str, body_start: usize, out: &mut Extracted) {
    let body = &page[body_start..];
    let mut parser = Parser::new_ext(body, super::markdown_options()).into_offset_iter();
    let mut frames: Vec<Frame> = Vec::new();
    // Spans (page offsets) that the text scanners must not look into.
    let mut skip: Vec<Range<usize>> = Vec::new();
    let mut html_block: Option<(Range<usize>, Vec<Range<usize>>)> = None;
    // Reference definitions used by at least one image: label -> first use offset.
    let mut used_defs: BTreeMap<String, usize> = BTreeMap::new();
    // Inside an inline `<script>`, `<style>` or `<textarea>`: its name.
    let mut raw_text: Option<&'static str> = None;
    // The heading being read: its span, its text outside images, whether it shows an image.
    let mut heading: Option<(Range<usize>, String, bool)> = None;
    // The last block ended was an HTML block (an indented block right after it is code to
    // CommonMark, but still HTML to kramdown).
    let mut after_html_block = false;

    for (event, range) in parser.by_ref() {
        let range = range.start + body_start..range.end + body_start;
        // Any other block (or inline) start ends the "right after an HTML block" state; a
        // code block is judged below first.
        if matches!(event, Event::Start(_)) && !matches!(event, Event::Start(Tag::CodeBlock(_))) {
            after_html_block = false;
        }
        // The image's own end event spans the whole image: it is not part of the alt text.
        if !matches!(event, Event::End(TagEnd::Image)) {
            if let Some(top) = frames.last_mut() {
                top.inner_end = top.inner_end.max(range.end);
            }
        }
        if let Some((_, text, has_image)) = heading.as_mut() {
            match &event {
                Event::Start(Tag::Image { .. }) => *has_image = true,
                Event::Text(t) | Event::Code(t) if frames.is_empty() => text.push_str(t),
                _ => {}
            }
        }
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some((range, String::new(), false)),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((span, text, true)) = heading.take() {
                    if !explicit_id(&page[span.clone()]) {
                        out.headings.push(super::HeadingWithImage {
                            span,
                            id: slug(&text),
                        });
                    }
                }
                raw_text = None;
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                id,
                ..
            }) => frames.push(Frame {
                inner_end: range.start + 2,
                span: range,
                link_type,
                dest: dest_url.into_string(),
                id: id.into_string(),
            }),
            Event::End(TagEnd::Image) => {
                let Some(frame) = frames.pop() else { continue };
                if let Some(parent) = frames.last_mut() {
                    parent.inner_end = parent.inner_end.max(frame.span.end);
                }
                skip.push(frame.span.clone());
                match frame.link_type {
                    LinkType::Inline => inline_image(page, &frame, out),
                    LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut => {
                        used_defs
                            .entry(frame.id.clone())
                            .or_insert(frame.span.start);
                    }
                    _ => {}
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                if after_html_block && matches!(kind, CodeBlockKind::Indented) {
                    out.indented_html
                        .extend(img_tags(&page[range.clone()], range.start));
                }
                after_html_block = false;
                skip.push(range)
            }
            Event::Code(_) => skip.push(range),
            Event::Start(Tag::HtmlBlock) => html_block = Some((range, Vec::new())),
            Event::Html(_) => {
                if let Some((_, lines)) = html_block.as_mut() {
                    lines.push(range);
                }
            }
            Event::End(TagEnd::HtmlBlock) => {
                after_html_block = html_block
                    .as_ref()
                    .is_some_and(|(b, _)| leaves_element_open(&page[b.clone()]));
                if let Some((block, lines)) = html_block.take() {
                    html::scan(page, block, &lines, out);
                }
            }
            // Inline raw HTML comes one tag at a time: after an opening `<script>` (or style,
            // textarea) every tag up to its closing one is text, not markup.
            Event::InlineHtml(_) => match &raw_text {
                Some(name) if html::closes(&page[range.clone()], name) => raw_text = None,
                Some(_) => {}
                None => {
                    html::scan(page, range.clone(), std::slice::from_ref(&range), out);
                    raw_text = html::opens_raw_text(&page[range]);
                }
            },
            Event::End(TagEnd::Paragraph | TagEnd::TableCell) => raw_text = None,
            _ => {}
        }
    }

    let defs = parser.reference_definitions();
    skip.sort_by_key(|r| r.start);
    // Jekyll's Liquid definitions (`[a]: {{ site.baseurl }}/x.png`): the first definition of a
    // label is the one kramdown uses, Liquid or not.
    let mut liquid_won = std::collections::HashSet::new();
    for (label, at, r) in text::liquid_definitions(page, body_start, &skip) {
        let first = !liquid_won.contains(&label)
            && defs
                .get(&label)
                .is_none_or(|d| d.span.start + body_start > at);
        if !first {
            continue;
        }
        let used = used_defs.keys().any(|l| text::normalise_label(l) == label)
            || text::image_uses_label(page, body_start, &skip, &label);
        liquid_won.insert(label);
        if used {
            out.refs.push(r);
        }
    }
    for (label, first_use) in used_defs {
        if liquid_won.contains(&text::normalise_label(&label)) {
            continue;
        }
        let Some(def) = defs.get(&label) else {
            continue;
        };
        let span = def.span.start + body_start..def.span.end + body_start;
        match definition_dest(page, span.clone()) {
            Some((dest_span, angle))
                if reparse(&page[dest_span.clone()], angle) == def.dest.as_ref() =>
            {
                push(out, Kind::Reference, dest_span, def.dest.to_string(), angle)
            }
            _ => out.problems.push(Problem {
                offset: first_use.min(span.start),
                message: format!(
                    "could not locate the destination of reference definition [{label}]; left alone"
                ),
            }),
        }
    }

    skip.sort_by_key(|r| r.start);
    text::scan(page, body_start, &skip, out);
}

fn push(out: &mut Extracted, kind: Kind, span: Range<usize>, dest: String, angle: bool) {
    if dest.is_empty() {
        return;
    }
    let context = if angle {
        Context::MarkdownAngle
    } else {
        Context::Markdown
    };
    out.refs.push(Reference {
        kind,
        span,
        dest,
        context,
    });
}

fn inline_image(page: &str, frame: &Frame, out: &mut Extracted) {
    let located = close_bracket(page, frame.inner_end, frame.span.end)
        .filter(|&i| page.as_bytes().get(i + 1) == Some(&b'('))
        .and_then(|i| dest_at(page, i + 2, frame.span.end));
    match located {
        Some((span, angle)) if reparse(&page[span.clone()], angle) == frame.dest => {
            push(out, Kind::Inline, span, frame.dest.clone(), angle)
        }
        _ => out.problems.push(Problem {
            offset: frame.span.start,
            message: format!(
                "could not locate the destination `{}` of this image exactly; left alone",
                frame.dest
            ),
        }),
    }
}

/// The first unescaped `]` at or after `from`.
pub(super) fn close_bracket(page: &str, from: usize, end: usize) -> Option<usize> {
    let b = page.as_bytes();
    let mut i = from;
    while i < end {
        match b[i] {
            b'\\' => i += 2,
            b']' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The destination of `[label]: dest "title"` within the definition's span.
fn definition_dest(page: &str, span: Range<usize>) -> Option<(Range<usize>, bool)> {
    let b = page.as_bytes();
    // pulldown-cmark's span starts at the label's `[` (after any indentation or container
    // prefix), which `close_bracket` passes over.
    let close = close_bracket(page, span.start, span.end)?;
    if b.get(close + 1) != Some(&b':') {
        return None;
    }
    dest_at(page, close + 2, span.end)
}

/// Parse a link destination after optional whitespace (one line break allowed, followed by
/// container prefixes such as `> `). Returns the span of the destination bytes, without angle
/// brackets, and whether it was written in angle brackets.
pub(super) fn dest_at(page: &str, mut i: usize, end: usize) -> Option<(Range<usize>, bool)> {
    let b = page.as_bytes();
    let mut line_breaks = 0;
    while i < end {
        match b[i] {
            b' ' | b'\t' => i += 1,
            b'\r' | b'\n' => {
                if b[i] == b'\n' {
                    line_breaks += 1;
                }
                i += 1;
                // Container prefixes (block quote markers) on the continuation line.
                while i < end && matches!(b[i], b' ' | b'\t' | b'>') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    if line_breaks > 1 || i >= end {
        return None;
    }
    if b[i] == b'<' {
        let start = i + 1;
        let mut j = start;
        while j < end {
            match b[j] {
                b'\\' => j += 2,
                b'>' => return Some((start..j, true)),
                b'\n' | b'\r' | b'<' => return None,
                _ => j += 1,
            }
        }
        return None;
    }
    let start = i;
    let mut depth = 0usize;
    let mut j = start;
    while j < end {
        let c = b[j];
        if c == b'\\' && j + 1 < end && b[j + 1].is_ascii_punctuation() {
            j += 2;
            continue;
        }
        if c <= b' ' || c == 0x7f {
            break;
        }
        if c == b'(' {
            depth += 1;
        } else if c == b')' {
            if depth == 0 {
                break;
            }
            depth -= 1;
        }
        j += 1;
    }
    Some((start..j, false))
}

/// What a CommonMark parser reads from these destination bytes.
fn reparse(raw: &str, angle: bool) -> String {
    let doc = if angle {
        format!("![](<{raw}>)")
    } else {
        format!("![]({raw})")
    };
    Parser::new(&doc)
        .find_map(|e| match e {
            Event::Start(Tag::Image { dest_url, .. }) => Some(dest_url.into_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Whether a heading's source ends with an attribute block that sets its id (`{#intro}`,
/// `{.class #intro}`), as Hugo, Zola and kramdown read it.
fn explicit_id(source: &str) -> bool {
    let line = source.lines().next().unwrap_or("").trim_end();
    let line = line.trim_end_matches('#').trim_end();
    line.ends_with('}')
        && line.rfind('{').is_some_and(|open| {
            line[open..]
                .split_whitespace()
                .any(|a| a.starts_with("{#") || a.starts_with('#'))
        })
}

/// The id a heading's text gives in the GitHub style that Hugo uses: lowercase letters and
/// digits, spaces as `-`, other punctuation dropped.
fn slug(text: &str) -> String {
    let text = text.trim();
    // An attribute block (`{.wide}`) is not part of the text.
    let text = match text.rfind('{') {
        Some(open) if text.ends_with('}') => &text[..open],
        _ => text,
    };
    let mut id = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            id.extend(c.to_lowercase());
        } else if c.is_whitespace() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_string()
}

/// Page offsets of the `<img` tags (any case) in `block`, which starts at `start`.
fn img_tags(block: &str, start: usize) -> Vec<usize> {
    let lower = block.to_ascii_lowercase();
    lower
        .match_indices("<img")
        .filter(|(i, _)| {
            lower[i + 4..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/')
        })
        .map(|(i, _)| start + i)
        .collect()
}

/// Whether an HTML block opens an element it does not close (`<div class="x">`), so that what
/// follows it is still inside that element for kramdown.
fn leaves_element_open(block: &str) -> bool {
    let t = block.trim();
    t.starts_with('<')
        && t[1..].starts_with(|c: char| c.is_ascii_alphabetic())
        && !t.contains("</")
        && !t.ends_with("/>")
}
