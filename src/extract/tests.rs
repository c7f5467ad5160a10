use super::*;

fn dests(text: &str) -> Vec<(Kind, String, String)> {
    let out = extract(text, &Options::default());
    assert!(
        out.problems.is_empty(),
        "unexpected problems: {:?}",
        out.problems
    );
    out.refs
        .iter()
        .map(|r| (r.kind, r.dest.clone(), text[r.span.clone()].to_string()))
        .collect()
}

fn raw(text: &str) -> Vec<String> {
    dests(text).into_iter().map(|(_, _, raw)| raw).collect()
}

#[test]
fn inline_with_title_angle_brackets_and_parentheses() {
    assert_eq!(raw("![a](x.png \"t\")"), ["x.png"]);
    assert_eq!(raw("![a](<my pic.png> 'my title')"), ["my pic.png"]);
    assert_eq!(raw("![a](img(1).png)"), ["img(1).png"]);
    assert_eq!(raw("![a](img\\(1.png)"), ["img\\(1.png"]);
    assert_eq!(dests("![a](img\\(1.png)")[0].1, "img(1.png");
    assert_eq!(raw("![a [b] `]` c](x.png)"), ["x.png"]);
    assert_eq!(raw("![*emph* **strong**](x.png)"), ["x.png"]);
    assert_eq!(raw("![](x.png)"), ["x.png"]);
    assert_eq!(raw("![a](\n  x.png\n  \"t\")"), ["x.png"]);
}

#[test]
fn entities_are_decoded_in_the_destination() {
    let d = dests("![a](caf&eacute;.png)");
    assert_eq!(d[0].1, "café.png");
    assert_eq!(d[0].2, "caf&eacute;.png");
}

#[test]
fn block_quote_continuation_line() {
    let text = "> ![a](\n> x.png \"t\")\n";
    assert_eq!(raw(text), ["x.png"]);
}

#[test]
fn nested_image_in_image_alt_and_image_in_link() {
    assert_eq!(
        raw("![outer ![inner](in.png)](out.png)"),
        ["in.png", "out.png"]
    );
    assert_eq!(raw("[![badge](b.png)](b.png)"), ["b.png"]);
}

#[test]
fn reference_definition_is_found_once_for_all_uses() {
    let text = "![a][logo] and ![logo][] and ![logo]\n\n[logo]: img/logo.png \"Logo\"\n";
    let d = dests(text);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].0, d[0].2.as_str()), (Kind::Reference, "img/logo.png"));
    // A definition used only by a link is not an image.
    assert!(dests("[see][doc]\n\n[doc]: doc.png\n").is_empty());
    assert_eq!(raw("![a][x]\n\n[x]:\n  <a b.png>\n"), ["a b.png"]);
}

#[test]
fn code_is_never_touched() {
    let text = "`![a](x.png)`\n\n```\n![a](y.png)\n<img src=\"z.png\">\n{{< figure src=\"w.png\" >}}\n```\n\n    ![a](v.png)\n";
    assert!(dests(text).is_empty());
}

#[test]
fn html_img_srcset_and_picture() {
    let text = "<picture>\n<source srcset=\"a.webp 1x, a@2x.webp 2x\">\n<img src='a.gif' alt=x>\n</picture>\n\nInline <img src=b.png> here.\n";
    let d = dests(text);
    let got: Vec<_> = d.iter().map(|(k, _, raw)| (*k, raw.as_str())).collect();
    assert_eq!(
        got,
        [
            (Kind::Srcset, "a.webp"),
            (Kind::Srcset, "a@2x.webp"),
            (Kind::Html, "a.gif"),
            (Kind::Html, "b.png")
        ]
    );
    assert_eq!(
        raw("<img\n  alt=\"x\"\n  src=\"multi.png\">\n"),
        ["multi.png"]
    );
    assert_eq!(dests("<img src=\"a&amp;b.png\">")[0].1, "a&b.png");
    // Regression: an entity followed by a multi-byte character within the look-ahead.
    assert_eq!(
        dests("<img src=\"x&amp;y/_a0/Über.png\">")[0].1,
        "x&y/_a0/Über.png"
    );
    assert_eq!(dests("<img src=\"x&Über;.png\">")[0].1, "x&Über;.png");
}

/// Regression (found by the property test): `{{ site.baseurl }}/a.png 1x` was read as the URL
/// `{{` with descriptors, so a Jekyll `srcset` lifted nothing and reported `{{` missing.
#[test]
fn srcset_with_a_liquid_site_path() {
    let text = "<picture>\n<source srcset=\"{{ site.baseurl }}/a.png 1x, {{ '/b c.png' | relative_url }} 2x,{{site.baseurl}}/c.png\">\n</picture>\n";
    let got: Vec<_> = dests(text)
        .into_iter()
        .map(|(k, _, raw)| (k, raw))
        .collect();
    assert_eq!(
        got,
        [
            (Kind::Srcset, "{{ site.baseurl }}/a.png".to_string()),
            (Kind::Srcset, "{{ '/b c.png' | relative_url }}".to_string()),
            (Kind::Srcset, "{{site.baseurl}}/c.png".to_string()),
        ]
    );
}

/// Regression (found by the property test): Jekyll expands Liquid, then kramdown reads the
/// destination, decoding its entities; the file is `x&y.png`, not `x&amp;y.png`.
#[test]
fn liquid_destination_entities_are_decoded() {
    assert_eq!(
        dests("![x]({{ site.baseurl }}/x&amp;y.png)\n"),
        [(
            Kind::Liquid,
            "{{ site.baseurl }}/x&y.png".to_string(),
            "{{ site.baseurl }}/x&amp;y.png".to_string()
        )]
    );
}

/// Regression (found by the property test): `{{ site.baseurl }}/img(1).png` ended at the first
/// `)`, so imglift looked for `/img(1` and left `.png)` after the image.
#[test]
fn liquid_destination_keeps_balanced_parentheses() {
    assert_eq!(
        raw("[![a]({{ site.baseurl }}/img(1).png)](https://example.org)\n"),
        ["{{ site.baseurl }}/img(1).png"]
    );
    assert_eq!(
        liquid_site_path("{{ site.baseurl }}/a(b(c)).png) x"),
        Some(("/a(b(c)).png".into(), 30))
    );
}

/// Regression (found by the property test): the bounded search for `}}` cut the text at
/// byte 256 without looking for a character boundary, so a multi-byte character there hid the
/// image.
#[test]
fn liquid_destination_before_a_multi_byte_character() {
    for pad in 0..4 {
        let text = format!(
            "![a]({{{{ site.baseurl }}}}/a.png)\n{}{}\n",
            "x".repeat(220 + pad),
            "Üé".repeat(20)
        );
        assert_eq!(raw(&text), ["{{ site.baseurl }}/a.png"], "{pad}");
    }
}

#[test]
fn html_comments_and_other_tags_are_skipped() {
    assert!(dests("<!-- <img src=\"old.png\"> -->\n").is_empty());
    assert!(dests("<a href=\"x.png\">x</a>\n").is_empty());
    assert!(dests("<video src=\"x.mp4\"></video>\n").is_empty());
}

#[test]
fn script_style_and_textarea_text_is_not_markup() {
    let script = "<script>\nconst html = '<img src=\"in-script.png\">';\n</script>\n\n\
                  <img src=\"after.png\">\n";
    assert_eq!(raw(script), ["after.png"]);
    let inline = "Text <SCRIPT type=\"module\">let a = \"<img src='s.png'>\";</Script> \
                  <img src=\"b.png\"> <textarea><img src=\"t.png\"></textarea>\n";
    assert_eq!(raw(inline), ["b.png"]);
    let style = "<style>\n/* <img src=\"c.png\"> */\n</style>\n<div><img src=\"d.png\"></div>\n";
    assert_eq!(raw(style), ["d.png"]);
    // `</scripts>` does not close a script; an unclosed one runs to the end of its block.
    assert!(dests("<script>\n'</scripts><img src=\"e.png\">'\n").is_empty());
}

#[test]
fn hugo_figure_shortcodes() {
    let d = dests("{{< figure src=\"/img/a.png\" title=\"x\" >}}\n\n{{% figure src=b.png %}}\n");
    let got: Vec<_> = d.iter().map(|(k, _, raw)| (*k, raw.as_str())).collect();
    assert_eq!(
        got,
        [(Kind::Shortcode, "/img/a.png"), (Kind::Shortcode, "b.png")]
    );
    assert!(dests("{{</* figure src=\"c.png\" */>}}\n").is_empty());
    assert!(dests("{{< gallery src=\"d.png\" >}}\n").is_empty());
}

#[test]
fn jekyll_liquid_destinations() {
    let d = dests("![a]({{ site.baseurl }}/assets/a.png)\n\n![b]({{ site.baseurl }}/b.png \"t\")\n\n![c]({{site.baseurl}}/c.png)\n");
    let got: Vec<_> = d.iter().map(|(_, _, raw)| raw.as_str()).collect();
    assert_eq!(
        got,
        [
            "{{ site.baseurl }}/assets/a.png",
            "{{ site.baseurl }}/b.png",
            "{{site.baseurl}}/c.png"
        ]
    );
    assert!(dests("![a]({{ site.url }}/a.png)\n").is_empty());
    let d = dests("![a]({{ \"/assets/a.png\" | relative_url }})\n\n![b]({{ 'b.png' | absolute_url }} \"t\")\n");
    let got: Vec<_> = d.iter().map(|(_, _, raw)| raw.as_str()).collect();
    assert_eq!(
        got,
        [
            "{{ \"/assets/a.png\" | relative_url }}",
            "{{ 'b.png' | absolute_url }}"
        ]
    );
    assert_eq!(
        liquid_site_path("{{ 'b.png' | absolute_url }}"),
        Some(("/b.png".into(), 28))
    );
    assert_eq!(
        liquid_site_path("{{ site.baseurl }}/x.png"),
        Some(("/x.png".into(), 24))
    );
    assert!(liquid_site_path("{{ page.image }}").is_none());
}

#[test]
fn yaml_front_matter_keys() {
    let text = "---\ntitle: x\nimage: cover.png # the cover\ncover:\n  image: \"c2.png\"\n  alt: x\nimages:\n  - 'i1.png'\n  - i2.png\nfeatured_image: [f1.png, \"f2.png\"]\nother: o.png\n---\n![a](body.png)\n";
    let got: Vec<_> = dests(text)
        .into_iter()
        .map(|(k, _, raw)| (k, raw))
        .collect();
    let fm = |s: &str| (Kind::FrontMatter, s.to_string());
    assert_eq!(
        got,
        [
            fm("cover.png"),
            fm("c2.png"),
            fm("i1.png"),
            fm("i2.png"),
            fm("f1.png"),
            fm("f2.png"),
            (Kind::Inline, "body.png".to_string())
        ]
    );
}

#[test]
fn default_keys_cover_jekyll_seo_and_zola_extra() {
    assert_eq!(
        raw("---\nimage:\n  path: /assets/c.png\n  alt: x\n---\n"),
        ["/assets/c.png"]
    );
    assert_eq!(
        raw("+++\ntitle = \"x\"\n[extra]\nimage = \"c.png\"\n+++\n"),
        ["c.png"]
    );
}

#[test]
fn toml_front_matter_with_dates_and_tables() {
    let text = "+++\ntitle = \"x\"\ndate = 2024-04-20\nimage = 'cover.png'\n[cover]\nimage = \"c.png\"\n+++\nbody\n";
    assert_eq!(raw(text), ["cover.png", "c.png"]);
}

#[test]
fn front_matter_needs_byte_zero_and_keeps_bom_and_crlf() {
    assert_eq!(
        raw("\u{feff}---\r\nimage: a.png\r\n---\r\n![b](b.png)\r\n"),
        ["a.png", "b.png"]
    );
    // Not at byte 0: a thematic break and a heading, not front matter.
    assert!(dests("\n---\nimage: a.png\n---\n").is_empty());
}

#[test]
fn remote_and_empty_destinations_are_still_reported_for_resolve() {
    assert_eq!(
        raw("![a](https://example.org/x.png)"),
        ["https://example.org/x.png"]
    );
    assert!(dests("![a]()").is_empty());
}

#[test]
fn line_index_counts_characters() {
    let text = "ab\ncafé ![x](y.png)\n";
    let idx = LineIndex::new(text);
    let at = text.find("y.png").unwrap();
    assert_eq!(idx.locate(text, at), (2, 11));
    assert_eq!(idx.locate(text, 0), (1, 1));
}

#[test]
fn every_image_of_a_long_single_line_is_found_at_its_column() {
    // 200k images on one 2.4 MB line: each is found, and the last one's column is its byte
    // offset + 1. (How long this takes is measured by scripts/bench.sh, not asserted here.)
    let text = "![a](x.png) ".repeat(200_000);
    let out = extract(&text, &Options::default());
    assert_eq!(out.refs.len(), 200_000);
    let idx = LineIndex::new(&text);
    let last = out.refs.last().unwrap().span.start;
    for r in &out.refs {
        idx.locate(&text, r.span.start);
    }
    assert_eq!(idx.locate(&text, last), (1, last + 1));
}

#[test]
fn headings_with_an_image_and_no_explicit_id_are_listed_with_their_id() {
    let page = "# Title\n\n## ![logo](a.png) Intro\n\n## Pinned ![x](b.png) {#pinned}\n\n\
                Setext ![s](c.png) Part\n---\n\n### No image\n\n## `Code` and ![y](d.png) {.wide}\n";
    let out = extract(page, &Options::default());
    let got: Vec<(&str, &str)> = out
        .headings
        .iter()
        .map(|h| (page[h.span.clone()].lines().next().unwrap(), h.id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("## ![logo](a.png) Intro", "intro"),
            ("Setext ![s](c.png) Part", "setext-part"),
            ("## `Code` and ![y](d.png) {.wide}", "code-and"),
        ]
    );
}
