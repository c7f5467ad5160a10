//! The first promise, as a property: lifting a page changes only the URL bytes of its images.
//!
//! For generated documents, every CommonMark 0.31.2 spec example that contains an image, and
//! every fixture page, the test gives each destination imglift extracts a URL of its own,
//! derived from what that destination names, splices it in, and checks, without grading imglift
//! by its own escaping or read-back:
//! 1. every byte outside the replaced spans is identical;
//! 2. each image a renderer shows — pulldown-cmark, and markdown-rs, an independent CommonMark
//!    parser, as the oracle — shows the URL expected for *that* image (derived from what the
//!    renderer read in the original, so two swapped URLs fail), and the HTML is otherwise the same;
//! 3. every image is lifted: generated documents and spec examples may keep an old URL only when
//!    imglift reported a problem for the page, and those pages are counted, printed and capped;
//! 4. front matter parsed back with serde_yaml / toml holds the expected URL under each image
//!    key and every other key unchanged; a Hugo `figure` shortcode's `src` holds the expected URL
//!    and the rest of the shortcode is unchanged.
//!
//! Nothing is skipped for syntax a renderer does not know: Jekyll's Liquid
//! (`{{ site.baseurl }}`, `{{ "/x" | relative_url }}`) is expanded as Jekyll does before the
//! renderers read either side, and each Hugo shortcode is replaced by the same placeholder on
//! both sides (its `src` is compared on its own).
//!
//! `cargo test --test property -- --nocapture` prints what was counted.

use std::cell::RefCell;
use std::collections::BTreeSet;

use imglift::extract::{self, Extracted};
use imglift::rewrite::{self, Edit};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestRunner};

/// Public URL bases a config may hold: `check_public_url` accepts any http(s) address without
/// whitespace, a query or a fragment, so the characters each context must escape can come
/// from the base itself.
const BASES: [&str; 4] = [
    "https://img.example.com",
    "https://res.example.com/w_300,c_fill",
    "https://img.example.com/a(1)&b's",
    "https://img.example.com/x<y>\"z\\`",
];

/// Key characters written as they are; everything else is percent-encoded.
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

/// The URL the test expects for a destination: derived from the path it names (Liquid
/// expanded, percent-escapes decoded), so every spelling of one path gets one URL and two
/// different paths get two.
fn url_for(base: &str, dest: &str) -> String {
    let path = decoded(&expand_liquid(dest));
    let name = path.rsplit('/').next().unwrap_or_default();
    format!(
        "{base}/{:016x}/{}",
        fxhash(&path),
        utf8_percent_encode(name, KEY_SAFE)
    )
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

fn decoded(url: &str) -> String {
    percent_decode_str(url).decode_utf8_lossy().into_owned()
}

/// Two spellings of one URL (a renderer percent-encodes what a page wrote raw).
fn same_url(a: &str, b: &str) -> bool {
    decoded(a) == decoded(b)
}

fn options() -> extract::Options {
    extract::Options::default()
}

/// Give every extracted destination its expected URL.
fn lift(page: &str, base: &str) -> (String, Vec<Edit>, Extracted) {
    let extracted = extract::extract(page, &options());
    let edits: Vec<Edit> = extracted
        .refs
        .iter()
        .map(|r| Edit {
            span: r.span.clone(),
            url: url_for(base, &r.dest),
            context: r.context,
        })
        .collect();
    (rewrite::splice(page, &edits), edits, extracted)
}

/// Check 1: the bytes outside the spans. `escape_for` only says where the next kept run starts;
/// what was written there is graded by the parsers in checks 2 and 4.
fn check_bytes(page: &str, new: &str, edits: &[Edit]) {
    let mut old_at = 0;
    let mut new_at = 0;
    for e in edits {
        let gap = e.span.start - old_at;
        assert_eq!(
            &page.as_bytes()[old_at..e.span.start],
            &new.as_bytes()[new_at..new_at + gap],
            "bytes before {:?} changed in {page:?}",
            e.span
        );
        old_at = e.span.end;
        new_at += gap + rewrite::escape_for(&e.url, e.context).len();
    }
    assert_eq!(
        &page.as_bytes()[old_at..],
        &new.as_bytes()[new_at..],
        "tail changed in {page:?}"
    );
}

/// The front matter's fence and text, split off as the site generators do.
fn front_matter(page: &str) -> Option<(&'static str, &str, &str)> {
    let p = page.trim_start_matches('\u{feff}');
    for fence in ["---", "+++"] {
        if let Some(rest) = p.strip_prefix(fence) {
            if let Some(rest) = rest
                .strip_prefix('\n')
                .or_else(|| rest.strip_prefix("\r\n"))
            {
                let close = format!("\n{fence}");
                if let Some(end) = rest.find(&close) {
                    let after = &rest[end + close.len()..];
                    let body = after.split_once('\n').map_or("", |(_, b)| b);
                    return Some((fence, rest[..end].trim_end_matches('\r'), body));
                }
            }
        }
    }
    None
}

/// The body a renderer sees: front matter is the site generator's business, not Markdown's.
fn body(page: &str) -> &str {
    front_matter(page).map_or_else(|| page.trim_start_matches('\u{feff}'), |(_, _, b)| b)
}

/// Jekyll's Liquid pass for the forms the README names: `{{ site.baseurl }}` (an empty base
/// URL here) and `{{ "/path" | relative_url }}` / `absolute_url` (the path with a leading `/`,
/// spaces escaped as Jekyll's URL filters do). Anything else is left as written.
fn expand_liquid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let inner = &rest[i + 2..];
        let Some(close) = inner.find("}}") else {
            out.push_str("{{");
            rest = inner;
            continue;
        };
        let expr = inner[..close].trim();
        let expanded = if expr == "site.baseurl" {
            Some(String::new())
        } else {
            url_filter(expr)
        };
        match expanded {
            Some(path) => {
                out.push_str(&path);
                rest = &inner[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

fn url_filter(expr: &str) -> Option<String> {
    let (literal, filter) = expr.split_once('|')?;
    if !matches!(filter.trim(), "relative_url" | "absolute_url") {
        return None;
    }
    let literal = literal.trim();
    let path = ['"', '\'']
        .iter()
        .find_map(|&q| literal.strip_prefix(q)?.strip_suffix(q))?;
    let slash = if path.starts_with('/') { "" } else { "/" };
    Some(format!("{slash}{}", path.replace(' ', "%20")))
}

/// Hugo shortcodes (`{{< … >}}`, `{{% … %}}`) are not Markdown: each is replaced by the same
/// placeholder on both sides, and their texts are returned, in order, to be compared apart.
fn hide_shortcodes(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let close = match rest.as_bytes().get(i + 2) {
            Some(b'<') => ">}}",
            Some(b'%') => "%}}",
            _ => {
                out.push_str(&rest[..i + 2]);
                rest = &rest[i + 2..];
                continue;
            }
        };
        let Some(end) = rest[i + 3..].find(close).map(|e| i + 3 + e + close.len()) else {
            break;
        };
        out.push_str(&rest[..i]);
        out.push_str("HUGO-SHORTCODE");
        found.push(rest[i..end].to_string());
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, found)
}

/// What the renderers read: the body with shortcodes hidden and Liquid expanded.
fn renderable(page: &str) -> (String, Vec<String>) {
    let (text, shortcodes) = hide_shortcodes(body(page));
    (expand_liquid(&text), shortcodes)
}

/// Character references in an attribute value, as a browser decodes them.
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let c = end.and_then(|e| match &rest[1..e] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n => n
                .strip_prefix("#x")
                .or_else(|| n.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| n.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        });
        match (c, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URLs of a `srcset` value, as the HTML spec splits it: a URL runs to whitespace (a comma
/// inside it is part of it, trailing commas are not), then descriptors up to a comma.
fn srcset_urls(value: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return urls;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let raw = &rest[..end];
        let url = raw.trim_end_matches(',');
        urls.push(url.to_string());
        rest = &rest[end..];
        if url.len() == raw.len() {
            rest = rest.find(',').map_or("", |c| &rest[c..]);
        }
    }
}

/// The HTML with every `src`/`srcset` value of an `<img>` or `<source>` tag masked, and the
/// URLs they held, in order, decoded. Attribute values are read as the HTML spec does (quoted
/// with `"` or `'`, or unquoted), so a `>` inside a quoted URL does not end the tag. (Escaped
/// text such as `&lt;img src="…"` is not a tag.)
fn mask_urls(html: &str) -> (String, Vec<String>) {
    let b = html.as_bytes();
    let mut masked = String::with_capacity(html.len());
    let mut urls = Vec::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(i) = ["<img", "<source"]
        .iter()
        .filter_map(|t| html[at..].find(t).map(|p| (at + p, t.len())))
        .min()
    {
        let (start, name_len) = i;
        let mut j = start + name_len;
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let name_start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>') {
                j += 1;
            }
            let name = html[name_start..j].to_ascii_lowercase();
            if b.get(j) != Some(&b'=') {
                continue;
            }
            j += 1;
            let value = match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = html[j + 1..].find(q as char).map_or(b.len(), |e| j + 1 + e);
                    let v = j + 1..end;
                    j = (end + 1).min(b.len());
                    v
                }
                _ => {
                    let s = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    s..j
                }
            };
            if name == "src" || name == "srcset" {
                masked.push_str(&html[copied..value.start]);
                masked.push('…');
                copied = value.end;
                let v = unescape_html(&html[value]);
                if name == "srcset" {
                    urls.extend(srcset_urls(&v));
                } else {
                    urls.push(v.trim().to_string());
                }
            }
        }
        at = j.max(start + 1);
    }
    masked.push_str(&html[copied..]);
    (masked, urls)
}

fn pulldown_html(md: &str) -> String {
    let mut html = String::new();
    let parser = pulldown_cmark::Parser::new_ext(md, extract::markdown_options());
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

fn oracle_html(md: &str) -> String {
    let options = markdown::Options {
        parse: markdown::ParseOptions::gfm(),
        compile: markdown::CompileOptions {
            allow_dangerous_html: true,
            allow_dangerous_protocol: true,
            ..markdown::CompileOptions::gfm()
        },
    };
    markdown::to_html_with_options(md, &options).expect("markdown-rs renders any input")
}

type Render = fn(&str) -> String;

const RENDERERS: [(&str, Render); 2] = [
    ("pulldown-cmark", pulldown_html),
    ("markdown-rs", oracle_html),
];

/// Images seen in one page: how many, and how many still show their old URL.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    images: usize,
    kept: usize,
}

impl std::ops::AddAssign for Seen {
    fn add_assign(&mut self, o: Seen) {
        self.images += o.images;
        self.kept += o.kept;
    }
}

/// Check 2 for one renderer: the HTML is the same but for image URLs, and each image shows the
/// URL expected for what it showed before (or, counted as kept, its old URL).
fn compare_html(what: &str, old_html: &str, new_html: &str, base: &str, page: &str) -> Seen {
    let (old_masked, old_urls) = mask_urls(old_html);
    let (new_masked, new_urls) = mask_urls(new_html);
    assert_eq!(
        old_masked, new_masked,
        "{what}: HTML differs beyond image URLs for {page:?}"
    );
    assert_eq!(
        old_urls.len(),
        new_urls.len(),
        "{what}: image count differs"
    );
    let mut seen = Seen::default();
    for (o, n) in old_urls.iter().zip(&new_urls) {
        seen.images += 1;
        let want = url_for(base, o);
        if same_url(n, &want) {
            continue;
        }
        assert_eq!(
            n, o,
            "{what}: the image `{o}` shows `{n}`, expected `{want}`, in {page:?}"
        );
        seen.kept += 1;
    }
    seen
}

/// A Hugo `figure` shortcode's `src` value: the text before it, the value, the text after.
fn figure_src(sc: &str) -> Option<(&str, &str, &str)> {
    let inner = sc.get(3..)?.trim_start();
    if !inner.starts_with("figure") {
        return None;
    }
    let at = sc.find(" src=")? + 5;
    let (quote, start) = match sc.as_bytes().get(at) {
        Some(&q @ (b'"' | b'`')) => (Some(q as char), at + 1),
        _ => (None, at),
    };
    let end = match quote {
        Some(q) => start + sc[start..].find(q)?,
        None => start + sc[start..].find(char::is_whitespace)?,
    };
    Some((&sc[..start], &sc[start..end], &sc[end..]))
}

/// Check 4 for shortcodes: each pair is the same text but for a `figure`'s `src`, which holds
/// the URL expected for the old value (or, counted as kept, the old value).
fn compare_shortcodes(old: &[String], new: &[String], base: &str, page: &str) -> Seen {
    assert_eq!(old.len(), new.len(), "shortcode count differs in {page:?}");
    let mut seen = Seen::default();
    for (o, n) in old.iter().zip(new) {
        let Some((o_head, o_src, o_tail)) = figure_src(o) else {
            assert_eq!(o, n, "a shortcode without an image changed in {page:?}");
            continue;
        };
        let (n_head, n_src, n_tail) =
            figure_src(n).unwrap_or_else(|| panic!("`{n}` lost its src in {page:?}"));
        assert_eq!((o_head, o_tail), (n_head, n_tail), "in {page:?}");
        seen.images += 1;
        let want = url_for(base, o_src);
        if !same_url(n_src, &want) {
            assert_eq!(n_src, o_src, "`{o}` became `{n}`, expected src `{want}`");
            seen.kept += 1;
        }
    }
    seen
}

/// Front matter as JSON values, parsed by the generators' own kind of parser.
fn parse_front_matter(fence: &str, text: &str) -> Option<serde_json::Value> {
    if fence == "---" {
        let v: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
        serde_json::to_value(v).ok()
    } else {
        let v: toml::Table = toml::from_str(text).ok()?;
        serde_json::to_value(v).ok()
    }
}

/// Check 4 for front matter: every configured image key holds the URL expected for its old
/// value (or, counted as kept, the old value); every other key is unchanged. Front matter that
/// does not parse (a generated `---` rule that a later one closes) must not change at all.
fn compare_front_matter(old: &str, new: &str, base: &str) -> Seen {
    let (old_fm, new_fm) = (front_matter(old), front_matter(new));
    let (Some((fence, o, _)), Some((new_fence, n, _))) = (old_fm, new_fm) else {
        assert_eq!(
            old_fm.is_some(),
            new_fm.is_some(),
            "front matter lost in {old:?}"
        );
        return Seen::default();
    };
    assert_eq!(fence, new_fence);
    let Some(old_value) = parse_front_matter(fence, o) else {
        assert_eq!(o, n, "front matter that does not parse changed in {old:?}");
        return Seen::default();
    };
    let new_value = parse_front_matter(fence, n)
        .unwrap_or_else(|| panic!("front matter no longer parses: {n:?}, was {o:?}"));
    let keys: BTreeSet<String> = options().front_matter.into_iter().collect();
    let mut seen = Seen::default();
    walk_front_matter("", &old_value, &new_value, &keys, base, &mut seen);
    seen
}

fn walk_front_matter(
    path: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    keys: &BTreeSet<String>,
    base: &str,
    seen: &mut Seen,
) {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            assert_eq!(
                o.keys().collect::<Vec<_>>(),
                n.keys().collect::<Vec<_>>(),
                "front-matter keys under `{path}` changed"
            );
            for (k, v) in o {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk_front_matter(&sub, v, &n[k], keys, base, seen);
            }
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (o, n) in o.iter().zip(n) {
                walk_front_matter(path, o, n, keys, base, seen);
            }
        }
        (Value::String(o), Value::String(n)) if keys.contains(path) => {
            seen.images += 1;
            let want = url_for(base, o);
            if !same_url(n, &want) {
                assert_eq!(
                    n, o,
                    "front-matter `{path}`: `{o}` became `{n}`, expected `{want}`"
                );
                seen.kept += 1;
            }
        }
        _ => assert_eq!(old, new, "front-matter key `{path}` changed"),
    }
}

/// Every check on one page with one public URL base.
fn check_page(page: &str, base: &str) -> (Seen, Extracted) {
    let (new, edits, extracted) = lift(page, base);
    check_bytes(page, &new, &edits);
    // imglift's own read-back must accept a correct rewrite.
    rewrite::verify(page, &new, &edits, &options())
        .unwrap_or_else(|e| panic!("verify refused a correct rewrite of {page:?}: {e}"));
    let (old_md, old_sc) = renderable(page);
    let (new_md, new_sc) = renderable(&new);
    let mut seen = Seen::default();
    for (name, render) in RENDERERS {
        seen += compare_html(name, &render(&old_md), &render(&new_md), base, page);
    }
    seen += compare_shortcodes(&old_sc, &new_sc, base, page);
    seen += compare_front_matter(page, &new, base);
    (seen, extracted)
}

#[derive(serde::Deserialize)]
struct Example {
    markdown: String,
    html: String,
    example: usize,
}

#[test]
fn commonmark_spec_examples_with_images() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/commonmark/spec-0.31.2.json"
    ))
    .unwrap();
    let examples: Vec<Example> = serde_json::from_str(&text).unwrap();
    let with_images: Vec<&Example> = examples
        .iter()
        .filter(|e| e.html.contains("<img"))
        .collect();
    assert!(
        with_images.len() >= 20,
        "only {} examples with images",
        with_images.len()
    );
    let mut images = 0;
    let mut pulldown_disagrees = BTreeSet::new();
    for e in &with_images {
        for base in BASES {
            let (new, edits, _) = lift(&e.markdown, base);
            check_bytes(&e.markdown, &new, &edits);
            rewrite::verify(&e.markdown, &new, &edits, &options())
                .unwrap_or_else(|why| panic!("example {}: verify refused: {why}", e.example));
            // The spec's own HTML is the original's rendering; markdown-rs renders the result.
            let mut seen = compare_html(
                "markdown-rs",
                &e.html,
                &oracle_html(&new),
                base,
                &e.markdown,
            );
            if mask_urls(&pulldown_html(&e.markdown)).0 == mask_urls(&e.html).0 {
                seen += compare_html(
                    "pulldown-cmark",
                    &e.html,
                    &pulldown_html(&new),
                    base,
                    &e.markdown,
                );
            } else {
                pulldown_disagrees.insert(e.example);
            }
            assert_eq!(
                seen.kept, 0,
                "example {}: an image kept its old URL: {:?}",
                e.example, e.markdown
            );
            images += seen.images;
        }
    }
    eprintln!(
        "spec examples: {} with images, {images} images checked over {} bases; \
         pulldown-cmark unlike the spec (its comparison skipped): {pulldown_disagrees:?}",
        with_images.len(),
        BASES.len()
    );
    // pulldown-cmark is graded against the spec's HTML only where it renders the original as
    // the spec does: today that is every example, and a new disagreement must be looked at.
    assert_eq!(
        pulldown_disagrees,
        BTreeSet::new(),
        "pulldown-cmark renders these examples unlike the spec"
    );
}

#[test]
fn every_fixture_page() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut pages = 0;
    let mut seen = Seen::default();
    let mut kept = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "md") && !path.ends_with("README.md") {
            let text = std::fs::read_to_string(path).unwrap();
            for base in BASES {
                let (s, _) = check_page(&text, base);
                seen += s;
                if s.kept > 0 && base == BASES[0] {
                    kept.push((
                        path.strip_prefix(root).unwrap().display().to_string(),
                        s.kept,
                    ));
                }
            }
            pages += 1;
        }
    }
    eprintln!(
        "fixtures: {pages} pages, {seen:?} over {} bases; pages with kept images: {kept:?}",
        BASES.len()
    );
    assert!(pages >= 10, "only {pages} fixture pages");
    assert_eq!(
        kept,
        Vec::<(String, usize)>::new(),
        "fixture images not lifted"
    );
}

// ---- generated documents ----

/// Generated documents where imglift reported a problem may keep an image; at most this share
/// of them (in percent), or the generator is testing nothing.
const PROBLEM_PAGES_AT_MOST_PERCENT: usize = 5;

fn runner_config() -> ProptestConfig {
    // 400 cases by default; PROPTEST_CASES=N runs more.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    ProptestConfig {
        cases,
        // Tests run in the package folder.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/property.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Default)]
struct Tally {
    pages: usize,
    seen: Seen,
    liquid: usize,
    shortcodes: usize,
    problem_pages: usize,
    kept_in_problem_pages: usize,
}

#[test]
fn generated_documents_change_only_destinations_and_lift_every_image() {
    let tally = RefCell::new(Tally::default());
    let result = TestRunner::new(runner_config()).run(
        &(document(), prop::sample::select(&BASES[..])),
        |(doc, base)| {
            let (seen, extracted) = check_page(&doc, base);
            let mut t = tally.borrow_mut();
            t.pages += 1;
            t.seen += seen;
            t.liquid += usize::from(doc.contains("{{ ") || doc.contains("{{s"));
            t.shortcodes += usize::from(doc.contains("{{<"));
            if seen.kept > 0 {
                prop_assert!(
                    !extracted.problems.is_empty(),
                    "{} images kept their old URL and no problem was reported in {doc:?}",
                    seen.kept
                );
            }
            if !extracted.problems.is_empty() {
                t.problem_pages += 1;
                t.kept_in_problem_pages += seen.kept;
            }
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = tally.into_inner();
    eprintln!("generated documents: {t:?}");
    assert!(
        t.problem_pages * 100 <= t.pages * PROBLEM_PAGES_AT_MOST_PERCENT,
        "{} of {} documents had a problem (completeness not required there)",
        t.problem_pages,
        t.pages
    );
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_-]{1,8}",
        Just("my pic".to_string()),
        Just("café".to_string()),
        Just("img(1)".to_string()),
        Just("a%20b".to_string()),
        Just("x&amp;y".to_string()),
        Just("Über".to_string()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 1..4),
        prop_oneof![Just(".png"), Just(".jpg"), Just(".svg"), Just("")],
        prop_oneof![Just(""), Just("?v=2"), Just("#frag")],
    )
        .prop_map(|(segs, ext, suffix)| format!("{}{ext}{suffix}", segs.join("/")))
}

fn destination() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(""),
            Just("/"),
            Just("./"),
            Just("../"),
            Just("{{ site.baseurl }}/")
        ],
        path(),
    )
        .prop_map(|(prefix, path)| format!("{prefix}{path}"))
}

/// Jekyll's site-root forms: `{{ site.baseurl }}/path` (also written without the inner
/// spaces) and a whole `{{ "/path" | relative_url }}` (either quote, `absolute_url` too).
fn liquid_destination() -> impl Strategy<Value = String> {
    (0..4u8, path()).prop_map(|(form, path)| match form {
        0 => format!("{{{{ site.baseurl }}}}/{path}"),
        1 => format!("{{{{site.baseurl}}}}/{path}"),
        2 => format!("{{{{ \"/{path}\" | relative_url }}}}"),
        _ => format!("{{{{ '{path}' | absolute_url }}}}"),
    })
}

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" \"A title\"".to_string()),
        Just(" 'single'".to_string()),
        Just(" (paren)".to_string()),
        Just("\n  \"next line\"".to_string()),
    ]
}

/// A destination as a Markdown writer writes it: bare when it can be, else in angle brackets.
/// In an image's `(…)`, a Liquid destination is bare when its only spaces are inside `{{ … }}`
/// or a quoted path: Jekyll expands it before kramdown reads the page, so that is how its users
/// write it, in an image's `(…)` as in a reference definition.
fn md_dest(dest: &str) -> String {
    let outside_liquid = match dest.strip_prefix("{{") {
        Some(rest) if rest.contains('|') => "",
        Some(rest) => rest.split_once("}}").map_or(dest, |(_, path)| path),
        None => dest,
    };
    if outside_liquid.contains(' ') || dest.contains('<') {
        format!("<{dest}>")
    } else {
        dest.to_string()
    }
}

/// `![alt](dest title)`. imglift reads a bare Liquid destination's title on its own line only.
fn image(alt: &str, dest: &str, title: &str) -> String {
    let d = md_dest(dest);
    let title = match d.starts_with("{{") {
        true => title.replace('\n', ""),
        false => title.to_string(),
    };
    format!("![{alt}]({d}{title})")
}

fn alt() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{1,12}",
        Just("a [nested] one".to_string()),
        Just("*emph* and `code]`".to_string()),
        Just("esc \\] bracket".to_string()),
    ]
}

fn inline() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,10}",
        Just("*emphasis*".to_string()),
        Just("`![in](code.png)`".to_string()),
        Just("[link](page.md)".to_string()),
        (alt(), destination(), title()).prop_map(|(a, d, t)| image(&a, &d, &t)),
        (alt(), liquid_destination(), title()).prop_map(|(a, d, t)| image(&a, &d, &t)),
        (alt(), destination())
            .prop_map(|(a, d)| format!("[![{a}]({})](https://example.org)", md_dest(&d))),
        (alt(), 0..3u8).prop_map(|(a, n)| format!("![{a}][ref{n}]")),
        destination().prop_map(|d| format!("<img src=\"{}\" alt=\"x\">", d.replace('"', "&quot;"))),
        liquid_destination().prop_map(|d| match d.contains('"') {
            true => format!("<img src='{d}'>"),
            false => format!("<img src=\"{d}\">"),
        }),
        Just("https://example.org/remote.png".to_string()),
        Just("{{ site.title }} and {{site.baseurl}}".to_string()),
    ]
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(inline(), 1..6).prop_map(|parts| parts.join(" "))
}

fn block() -> impl Strategy<Value = String> {
    prop_oneof![
        paragraph(),
        paragraph().prop_map(|p| format!("# {}", p.replace('\n', " "))),
        paragraph().prop_map(|p| format!("> {}", p.replace('\n', "\n> "))),
        paragraph().prop_map(|p| format!("- {}\n- item", p.replace('\n', "\n  "))),
        paragraph().prop_map(|p| format!("1. {}", p.replace('\n', "\n   "))),
        paragraph().prop_map(|p| format!("```\n{p}\n```")),
        paragraph().prop_map(|p| format!("    {}", p.replace('\n', "\n    "))),
        (destination(), destination()).prop_map(|(a, b)| format!(
            "<picture>\n<source srcset=\"{a} 1x, {b} 2x\">\n<img src=\"{a}\">\n</picture>"
        )),
        (destination(), destination()).prop_map(|(a, b)| format!(
            "| a | b |\n|---|---|\n| ![x]({}) | ![y]({}) |",
            md_dest(&a).replace('|', "\\|"),
            md_dest(&b).replace('|', "\\|")
        )),
        (0..3u8, destination(), title()).prop_map(|(n, d, t)| {
            // imglift reads a bare Liquid destination's title on its own line only.
            let d = md_dest(&d);
            let t = match d.starts_with("{{") {
                true => t.replace('\n', ""),
                false => t,
            };
            format!("[ref{n}]: {d}{t}")
        }),
        destination().prop_map(|d| format!("{{{{< figure src=\"{d}\" title=\"t\" >}}}}")),
        destination().prop_map(|d| format!("{{{{% figure src=\"{d}\" %}}}}")),
        Just("---".to_string()),
    ]
}

fn front_matter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        destination().prop_map(|d| format!("---\ntitle: x\nimage: \"{d}\"\ntags: [a, b]\n---\n")),
        (destination(), destination()).prop_map(|(a, b)| format!(
            "---\ncover:\n  image: '{}'\nimages:\n  - \"{}\"\n---\n",
            a.replace('\'', "''"),
            b
        )),
        destination()
            .prop_map(|d| format!("+++\ntitle = \"x\"\ndate = 2024-01-02\nimage = \"{d}\"\n+++\n")),
        destination().prop_map(|d| format!("+++\ntitle = \"x\"\n[extra]\nimage = '{d}'\n+++\n")),
    ]
}

fn document() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        front_matter_text(),
        prop::collection::vec(block(), 1..8),
        any::<bool>(),
    )
        .prop_map(|(bom, fm, blocks, crlf)| {
            let mut doc = format!(
                "{}{fm}{}\n",
                if bom { "\u{feff}" } else { "" },
                blocks.join("\n\n")
            );
            if crlf {
                doc = doc.replace('\n', "\r\n");
            }
            doc
        })
}

proptest! {
    #![proptest_config(runner_config())]

    #[test]
    fn svgs_with_any_real_world_header_are_images(svg in svg_file()) {
        prop_assert_eq!(imglift::hash::sniff(&svg), Some("image/svg+xml"));
    }
}

// ---- generated SVG files ----

/// What precedes `<svg` in files written by Inkscape, Illustrator, draw.io, matplotlib and
/// Windows tools: any mix of XML declaration, comments, DOCTYPE (with an internal subset),
/// whitespace, in UTF-8 with or without a BOM, or UTF-16 with one.
fn svg_file() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("<!-- Created with Inkscape (http://www.inkscape.org/) -->".to_string()),
        Just("<!-- Generator: Adobe Illustrator 24.0.0, SVG Export Plug-In -->".to_string()),
        Just("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\"\n  \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">".to_string()),
        Just("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"svg11.dtd\" [\n\t<!ENTITY ns_svg \"http://www.w3.org/2000/svg\">\n\t<!ENTITY a '>'>\n]>".to_string()),
        Just("<!DOCTYPE svg>".to_string()),
        Just("<?xml-stylesheet href=\"a.css\" type=\"text/css\"?>".to_string()),
        "[ \t\r\n]{0,3}",
    ];
    (
        prop_oneof![
            Just(""),
            Just("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>"),
            Just("<?xml version='1.0' encoding='utf-8'?>"),
        ],
        prop::collection::vec(piece, 0..4),
        prop_oneof![Just("utf-8"), Just("bom"), Just("utf-16le"), Just("utf-16be")],
        "[ \n]{0,2}",
    )
        .prop_map(|(decl, pieces, encoding, gap)| {
            let text = format!(
                "{decl}\n{}{gap}<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n",
                pieces.join("\n")
            );
            match encoding {
                "bom" => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
                "utf-16le" => [0xFF, 0xFE]
                    .into_iter()
                    .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                    .collect(),
                "utf-16be" => [0xFE, 0xFF]
                    .into_iter()
                    .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
                    .collect(),
                _ => text.into_bytes(),
            }
        })
}
