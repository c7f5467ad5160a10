//! The first promise, as a property: lifting a page changes only destination bytes.
//!
//! For generated documents, every CommonMark 0.31.2 spec example that contains an image, and
//! every fixture page, we replace every image destination that imglift extracts with a public
//! URL and check that:
//! 1. every byte outside the replaced spans is identical;
//! 2. extracting the result again finds the new URLs where the old destinations were;
//! 3. rendering the result gives the same HTML as rendering the original, except for image URL
//!    attributes — with pulldown-cmark, and with a second, independent CommonMark renderer
//!    (markdown-rs) as the oracle;
//! 4. every image the renderers show whose destination was rewritten now shows the new URL.

use std::collections::BTreeSet;

use imglift::extract::{self, Kind, Reference};
use imglift::plan::public_url;
use imglift::rewrite::{self, Edit};
use proptest::prelude::*;

const BASE: &str = "https://img.example.com";

/// Replace every destination with a URL derived from it; return the new page and the edits.
fn lift(page: &str) -> (String, Vec<Edit>, Vec<Reference>) {
    let refs = extract::extract(page, &extract::Options::default()).refs;
    let edits: Vec<Edit> = refs
        .iter()
        .map(|r| {
            let name = r.dest.rsplit('/').next().unwrap_or("x");
            let key = format!("{:016x}/{name}", fxhash(&r.dest));
            Edit {
                span: r.span.clone(),
                url: public_url(BASE, &key),
                context: r.context,
            }
        })
        .collect();
    (rewrite::splice(page, &edits), edits, refs)
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Check 1 and 2; returns the new page.
fn check_bytes(page: &str) -> (String, Vec<Edit>, Vec<Reference>) {
    let (new, edits, refs) = lift(page);
    let mut old_at = 0;
    let mut new_at = 0;
    for e in &edits {
        let gap = e.span.start - old_at;
        assert_eq!(
            &page.as_bytes()[old_at..e.span.start],
            &new.as_bytes()[new_at..new_at + gap],
            "bytes before {:?} changed in {page:?}",
            e.span
        );
        let written = rewrite::escape_for(&e.url, e.context);
        assert_eq!(&new[new_at + gap..new_at + gap + written.len()], written);
        old_at = e.span.end;
        new_at += gap + written.len();
    }
    assert_eq!(
        &page.as_bytes()[old_at..],
        &new.as_bytes()[new_at..],
        "tail changed in {page:?}"
    );
    rewrite::verify(page, &new, &edits, &extract::Options::default())
        .unwrap_or_else(|e| panic!("re-extraction failed for {page:?}: {e}"));
    (new, edits, refs)
}

/// The body a renderer sees: front matter is the site generator's business, not Markdown's.
fn body(page: &str) -> &str {
    let p = page.trim_start_matches('\u{feff}');
    for fence in ["---", "+++"] {
        if let Some(rest) = p.strip_prefix(fence) {
            if rest.starts_with('\n') || rest.starts_with("\r\n") {
                let close = format!("\n{fence}");
                if let Some(end) = rest.find(&close) {
                    let after = &rest[end + close.len()..];
                    return after.split_once('\n').map_or("", |(_, b)| b);
                }
            }
        }
    }
    p
}

/// The HTML with every `src`/`srcset` value of an `<img>` or `<source>` tag masked, and the
/// URLs they held, in order. (Escaped text such as `&lt;img src="…"` in code is not a tag.)
fn mask_urls(html: &str) -> (String, Vec<String>) {
    let mut masked = String::with_capacity(html.len());
    let mut urls = Vec::new();
    let mut rest = html;
    while let Some(i) = ["<img", "<source"]
        .iter()
        .filter_map(|t| rest.find(t))
        .min()
    {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let mut tag = &rest[i..tag_end];
        masked.push_str(&rest[..i]);
        while let Some((a, len)) = [" src=\"", " srcset=\""]
            .iter()
            .filter_map(|a| tag.find(a).map(|p| (p, a.len())))
            .min()
        {
            masked.push_str(&tag[..a + len]);
            tag = &tag[a + len..];
            let end = tag.find('"').unwrap_or(tag.len());
            for candidate in tag[..end].split(',') {
                if let Some(url) = candidate.split_whitespace().next() {
                    urls.push(url.replace("&amp;", "&"));
                }
            }
            masked.push('…');
            tag = &tag[end..];
        }
        masked.push_str(tag);
        rest = &rest[tag_end..];
    }
    masked.push_str(rest);
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

/// Check 3 and 4 with one renderer.
fn check_render(
    name: &str,
    render: fn(&str) -> String,
    old: &str,
    new: &str,
    edits: &[Edit],
    refs: &[Reference],
) {
    let (old_masked, old_urls) = mask_urls(&render(body(old)));
    let (new_masked, new_urls) = mask_urls(&render(body(new)));
    assert_eq!(
        old_masked, new_masked,
        "{name}: HTML differs beyond image URLs for {old:?}"
    );
    assert_eq!(
        old_urls.len(),
        new_urls.len(),
        "{name}: image count differs for {old:?}"
    );
    let lifted: BTreeSet<&str> = edits.iter().map(|e| e.url.as_str()).collect();
    let rendered_lifted: BTreeSet<&str> = refs
        .iter()
        .zip(edits)
        .filter(|(r, _)| !matches!(r.kind, Kind::FrontMatter | Kind::Shortcode | Kind::Liquid))
        .map(|(_, e)| e.url.as_str())
        .collect();
    for (o, n) in old_urls.iter().zip(&new_urls) {
        assert!(
            o == n || lifted.contains(n.as_str()),
            "{name}: `{o}` became `{n}`, which is not a lifted URL, in {old:?}"
        );
    }
    for url in rendered_lifted {
        assert!(
            new_urls.iter().any(|n| n == url),
            "{name}: lifted URL {url} is not shown by any image in {new:?}"
        );
    }
}

fn check_all(page: &str) {
    let (new, edits, refs) = check_bytes(page);
    // Shortcodes and Liquid are not CommonMark: a renderer shows them as text, which changes.
    if refs
        .iter()
        .any(|r| matches!(r.kind, Kind::Shortcode | Kind::Liquid))
    {
        return;
    }
    check_render("pulldown-cmark", pulldown_html, page, &new, &edits, &refs);
    check_render("markdown-rs", oracle_html, page, &new, &edits, &refs);
}

/// Generated documents hold only local images: after lifting, every image both renderers show
/// must point at a lifted URL, or extraction missed one.
fn check_complete(page: &str) {
    if !extract::extract(page, &extract::Options::default())
        .problems
        .is_empty()
    {
        return;
    }
    let (new, edits, _) = lift(page);
    let lifted: BTreeSet<&str> = edits.iter().map(|e| e.url.as_str()).collect();
    for render in [pulldown_html as fn(&str) -> String, oracle_html] {
        let (_, urls) = mask_urls(&render(body(&new)));
        for url in urls {
            let url = url.split('#').next().unwrap_or("");
            assert!(
                lifted.iter().any(|l| l.split('#').next() == Some(url)),
                "image `{url}` was not lifted in {page:?}"
            );
        }
    }
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
    let mut lifted = 0;
    for e in with_images {
        let (new, edits, _) = check_bytes(&e.markdown);
        lifted += edits.len();
        // pulldown-cmark must agree with the spec's own HTML on the original...
        let (spec_masked, _) = mask_urls(&e.html);
        let (ours_masked, _) = mask_urls(&pulldown_html(&e.markdown));
        if spec_masked == ours_masked {
            check_render(
                "pulldown-cmark",
                pulldown_html,
                &e.markdown,
                &new,
                &edits,
                &[],
            );
        }
        check_render("markdown-rs", oracle_html, &e.markdown, &new, &edits, &[]);
        assert!(
            !edits.is_empty() || !pulldown_html(&e.markdown).contains("<img"),
            "example {}: an image was rendered but nothing was extracted",
            e.example
        );
    }
    assert!(lifted >= 20);
}

#[test]
fn every_fixture_page() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut pages = 0;
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "md") && !path.ends_with("README.md") {
            let text = std::fs::read_to_string(path).unwrap();
            check_all(&text);
            pages += 1;
        }
    }
    assert!(pages >= 10, "only {pages} fixture pages");
}

// ---- generated documents ----

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

fn destination() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(""),
            Just("/"),
            Just("./"),
            Just("../"),
            Just("{{ site.baseurl }}/")
        ],
        prop::collection::vec(segment(), 1..4),
        prop_oneof![Just(".png"), Just(".jpg"), Just(".svg"), Just("")],
        prop_oneof![Just(""), Just("?v=2"), Just("#frag")],
    )
        .prop_map(|(prefix, segs, ext, suffix)| format!("{prefix}{}{ext}{suffix}", segs.join("/")))
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

/// A destination as Markdown writes it: bare when it can be, else in angle brackets.
fn md_dest(dest: &str) -> String {
    if dest.contains(' ') || dest.contains('<') {
        format!("<{dest}>")
    } else {
        dest.to_string()
    }
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
        (alt(), destination(), title()).prop_map(|(a, d, t)| format!("![{a}]({}{t})", md_dest(&d))),
        (alt(), destination())
            .prop_map(|(a, d)| format!("[![{a}]({})](https://example.org)", md_dest(&d))),
        (alt(), 0..3u8).prop_map(|(a, n)| format!("![{a}][ref{n}]")),
        destination().prop_map(|d| format!("<img src=\"{}\" alt=\"x\">", d.replace('"', "&quot;"))),
        Just("https://example.org/remote.png".to_string()),
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
        (0..3u8, destination(), title())
            .prop_map(|(n, d, t)| format!("[ref{n}]: {}{t}", md_dest(&d))),
        destination().prop_map(|d| format!("{{{{< figure src=\"{d}\" title=\"t\" >}}}}")),
        Just("---".to_string()),
    ]
}

fn front_matter() -> impl Strategy<Value = String> {
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
    ]
}

fn document() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        front_matter(),
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
    // 400 cases by default; PROPTEST_CASES=N runs more.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn generated_documents_change_only_destinations(doc in document()) {
        check_all(&doc);
    }

    #[test]
    fn generated_documents_have_every_image_lifted(doc in document()) {
        check_complete(&doc);
    }

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
