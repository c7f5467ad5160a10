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

// mutB: tests for mutants of markdown.rs, html.rs and text.rs that the suite let through.

/// The problems of `text`, as `line:col message`.
fn problems(text: &str) -> Vec<String> {
    let out = extract(text, &Options::default());
    let idx = LineIndex::new(text);
    out.problems
        .iter()
        .map(|p| {
            let (line, col) = idx.locate(text, p.offset);
            format!("{line}:{col} {}", p.message)
        })
        .collect()
}

#[test]
fn an_inline_script_left_open_ends_with_its_paragraph_or_heading() {
    assert_eq!(
        raw("Text <script> x\n\nMore <img src=\"b.png\">\n"),
        ["b.png"]
    );
    assert_eq!(
        raw("# Title <style>\n\nMore <img src=\"c.png\">\n"),
        ["c.png"]
    );
}

#[test]
fn tags_inside_an_inline_script_are_text_until_it_closes() {
    assert_eq!(
        raw("Text <script><b><img src=\"s.png\"></b></script> <img src=\"t.png\">\n"),
        ["t.png"]
    );
}

#[test]
fn reference_definitions_after_front_matter() {
    let text = "---\ntitle: x\n---\n![a][logo]\n\n[logo]: img/logo.png \"Logo\"\n";
    assert_eq!(raw(text), ["img/logo.png"]);
}

#[test]
fn reference_label_with_an_escaped_bracket() {
    assert_eq!(raw("![x][\\]logo]\n\n[\\]logo]: y.png\n"), ["y.png"]);
    assert_eq!(raw("![x][a\\]b]\n\n  [a\\]b]: <z z.png>\n"), ["z z.png"]);
}

#[test]
fn character_references_in_an_img_src_name_the_file() {
    let dest = |src: &str| dests(&format!("<img src=\"{src}\">\n"))[0].1.clone();
    assert_eq!(
        dest("a&lt;b&gt;c&quot;d&apos;e&nbsp;f.png"),
        "a<b>c\"d'e\u{a0}f.png"
    );
    assert_eq!(dest("&#x41;&#X42;&#67;.png"), "ABC.png");
    // Not references: left as written.
    assert_eq!(
        dest("a&bogus;b&;c&#xZZ;d&#1114112;.png"),
        "a&bogus;b&;c&#xZZ;d&#1114112;.png"
    );
    assert_eq!(dest("R&D &amp more.png"), "R&D &amp more.png");
}

#[test]
fn a_comment_ends_at_its_closing_marker() {
    assert_eq!(
        raw("<p>Before <!-- old --><img src=\"a.png\"> <!-- x\n<img src=\"b.png\"> --></p>\n"),
        ["a.png"]
    );
    // An unclosed comment hides the rest of its block.
    assert!(dests("<div>\n<!-- <img src=\"c.png\">\n</div>\n").is_empty());
}

#[test]
fn text_that_is_not_a_tag_does_not_hide_the_next_tag() {
    assert_eq!(
        raw("<p>I <3 this < and <1a <img src=\"x.png\"> a</p>\n"),
        ["x.png"]
    );
}

#[test]
fn only_img_src_is_an_image_source() {
    // `<source src>` belongs to video and audio.
    assert!(dests("<video>\n<source src=\"clip.png\" type=\"video/mp4\">\n</video>\n").is_empty());
    assert_eq!(
        raw("<div>\n<img class=\"x\" srcset=\"a.png 1x,b.png\" data-src=\"no.png\" src=c.png>\n</div>\n"),
        ["a.png", "b.png", "c.png"]
    );
}

#[test]
fn attribute_syntax_around_src() {
    let got = raw(concat!(
        "<div>\n",
        "<img alt = 'x y' src = \"a.png\" / >\n",
        "<IMG ALT SRC='b.png'/>\n",
        "<img\tsrc=c.png/>\n",
        "<img src=d.png>\n",
        "<img src=\"\" alt=\"empty\"> <img src=\"  \">\n",
        "<img alt=\"> <img src=no.png>\" src=\"e.png\">\n",
        "</div>\n",
    ));
    assert_eq!(got, ["a.png", "b.png", "c.png/", "d.png", "e.png"]);
    // A tag cut off by the end of its block: nothing is read from it.
    assert!(dests("<div>\n<img src=\"f.png\n").is_empty());
    assert!(dests("<div>\n<img src=\n").is_empty());
    // A page that ends inside a tag name.
    assert!(dests("<div>\n<img").is_empty());
}

#[test]
fn srcset_candidates_and_descriptors() {
    let got = raw("<img srcset=\" a.png 1x , b.png 2x,c.png 3x, d.png   480w,,e.png\">\n");
    assert_eq!(got, ["a.png", "b.png", "c.png", "d.png", "e.png"]);
    // A comma ends a URL only at its end (as the HTML spec splits a srcset): then no
    // descriptors follow.
    assert_eq!(
        raw("<img srcset=\"f.png, g.png 2x\">\n"),
        ["f.png", "g.png"]
    );
    assert_eq!(raw("<img srcset=\"h,i.png 2x\">\n"), ["h,i.png"]);
}

#[test]
fn an_html_tag_split_by_block_quote_markers_is_read_only_within_one_line() {
    // The value runs across the `> ` of the next line: not one raw-HTML event, left alone.
    assert!(dests("> <div><img src=\"a\n> b.png\"></div>\n").is_empty());
    assert_eq!(raw("> <div>\n> <img src=\"c.png\"></div>\n"), ["c.png"]);
}

#[test]
fn raw_text_elements_close_only_with_their_own_name() {
    assert_eq!(
        raw("<p><textarea rows=2><img src=\"t.png\"></textareas></textarea><img src=\"u.png\"></p>\n"),
        ["u.png"]
    );
    assert_eq!(
        // HTML ignores `/>` on a script: what follows is its text.
        raw("Text <style>b {}</style><img src=\"v.png\"> <script/> <img src=\"w.png\">\n"),
        ["v.png"]
    );
    assert_eq!(
        raw("Text <script src=\"x.js\"></script> <span>s</span> <img src=\"y.png\">\n"),
        ["y.png"]
    );
    // A custom element whose name starts like one is not raw text.
    assert_eq!(
        raw("Text <style-box>x</style-box> <img src=\"z.png\">\n"),
        ["z.png"]
    );
}

#[test]
fn figure_shortcode_parameters() {
    let got = raw(concat!(
        "{{< figure title=\"say \\\"hi\\\"\" class=wide src=\"a.png\" >}}\n\n",
        "{{<figure src=b.png>}}\n\n",
        "{{< figure src=`c d.png` >}}\n\n",
        "{{< figure\n  src=\"e.png\"\n  alt=\"x\"\n>}}\n",
    ));
    assert_eq!(got, ["a.png", "b.png", "c d.png", "e.png"]);
    for left_alone in [
        // A Go string with an escape would need decoding.
        "{{< figure src=\"a\\\\b.png\" >}}",
        "{{< figure src=\"\" >}}",
        // Positional parameters, other shortcodes, an unclosed value or shortcode.
        "{{< figure \"a.png\" >}}",
        "{{< figures src=\"a.png\" >}}",
        "{{< figure src=\"a.png >}}",
        "{{< figure title=\"x\" >}}",
        "{{< figure src=\"a.png\" }}",
        "{{% figure src=\"a.png\" >}}",
    ] {
        assert!(dests(&format!("{left_alone}\n")).is_empty(), "{left_alone}");
    }
    // Shortcodes are short: a closing `>}}` 4 KiB on is not looked for.
    let far = format!("{{{{< figure src=\"a.png\" {} >}}}}\n", "x".repeat(5000));
    assert!(dests(&far).is_empty());
}

#[test]
fn a_shortcode_right_after_a_code_span_is_read() {
    assert_eq!(
        raw("`x`{{< figure src=\"b.png\" >}} `{{< figure src=\"c.png\" >}}`{{< figure src=\"d.png\" >}}\n"),
        ["b.png", "d.png"]
    );
}

#[test]
fn liquid_destination_needs_an_image_on_its_line_and_a_closing_parenthesis() {
    assert_eq!(
        raw(concat!(
            "![a]({{ site.baseurl }}/a.png 'title')\n\n",
            "![b]({{ site.baseurl }}/b.png (title))\n\n",
            "![c]({{ site.baseurl }}/c.png  \"a \\\" b\"  )\n",
        )),
        [
            "{{ site.baseurl }}/a.png",
            "{{ site.baseurl }}/b.png",
            "{{ site.baseurl }}/c.png"
        ]
    );
    for left_alone in [
        "{{ site.baseurl }}/a.png)",
        "[a]({{ site.baseurl }}/a.png)",
        "![a]\n({{ site.baseurl }}/a.png)",
        "![a] ({{ site.baseurl }}/a.png)",
        "![a]({{ site.baseurl }}/a.png",
        "![a]({{ site.baseurl }}/a.png x)",
        "![a]({{ site.baseurl }}/a.png \"t)",
        "![a]({{ site.baseurl }}/a.png \"t\" x)",
        "![a]({{ site.baseurl }}/a.png (t)",
        "![a]({{ site.baseurl }}/a.png \"t\n)",
    ] {
        assert!(dests(&format!("{left_alone}\n")).is_empty(), "{left_alone}");
    }
    // A page that ends inside the title or after the destination.
    assert!(dests("![a]({{ site.baseurl }}/a.png \"t").is_empty());
    assert!(dests("![a]({{ site.baseurl }}/a.png  ").is_empty());
    // The `![` is looked for at most 1 KiB back.
    let far = format!("![{}]({{{{ site.baseurl }}}}/a.png)\n", "a".repeat(1100));
    assert!(extract(&far, &Options::default()).refs.is_empty());
}

#[test]
fn liquid_site_path_forms() {
    let p = |s: &str| liquid_site_path(s);
    assert_eq!(p("{{site.baseurl}}/a b"), Some(("/a".into(), 18)));
    assert_eq!(p("{{ site.baseurl }}/a\"b"), Some(("/a".into(), 20)));
    assert_eq!(p("{{ site.baseurl }}/a)b"), Some(("/a".into(), 20)));
    assert_eq!(p("{{ site.baseurl }}/a<b"), Some(("/a".into(), 20)));
    assert_eq!(p("{{ site.baseurl }}/a()b"), Some(("/a()b".into(), 23)));
    assert_eq!(p("{{ site.baseurl }}/a.png"), Some(("/a.png".into(), 24)));
    assert_eq!(
        p("{{ \"x.png\" | relative_url }}"),
        Some(("/x.png".into(), 28))
    );
    assert_eq!(
        p("{{\"/x.png\"|absolute_url}}"),
        Some(("/x.png".into(), 25))
    );
    for none in [
        "{{ site.baseurl }}/",
        "{{ site.baseurl }}x.png",
        "{{ site.baseurl }} /x.png",
        "{ site.baseurl }}/x.png",
        "{{ site.baseurl }/x.png",
        "{{ \"x.png' | relative_url }}",
        "{{ \"\" | relative_url }}",
        "{{ \"a\"b\" | relative_url }}",
        "{{ \"/x.png\" | upcase }}",
        "{{ x.png | relative_url }}",
        "{{ \"/x.png\" }}",
    ] {
        assert_eq!(p(none), None, "{none}");
    }
    // The `}}` is looked for within 256 bytes.
    let far = format!("{{{{ site.baseurl{} }}}}/x.png", " ".repeat(300));
    assert_eq!(p(&far), None);
}

/// The ids imglift suggests for headings that show an image, by the heading's first line.
fn heading_ids(page: &str) -> Vec<(String, String)> {
    extract(page, &Options::default())
        .headings
        .iter()
        .map(|h| {
            let line = page[h.span.clone()].lines().next().unwrap().to_string();
            (line, h.id.clone())
        })
        .collect()
}

#[test]
fn heading_ids_keep_underscores_and_hyphens_and_drop_other_punctuation() {
    let page = "## snake_case, x-y. ![a](a.png) Z!\n\n## a {b} c ![b](b.png)\n\n\
                ## Use {#id} here ![c](c.png)\n";
    let got = heading_ids(page);
    let ids: Vec<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["snake_case-x-y-z", "a-b-c", "use-id-here"]);
}

/// `<img` offsets that a Jekyll site is warned about (an indented `<img>` after an HTML block
/// that leaves its element open), as `line:col`.
fn kramdown_positions(page: &str) -> Vec<(usize, usize)> {
    let idx = LineIndex::new(page);
    extract(page, &Options::default())
        .indented_html
        .iter()
        .map(|&o| idx.locate(page, o))
        .collect()
}

#[test]
fn indented_img_tags_after_an_open_html_element() {
    assert_eq!(
        kramdown_positions(
            "<div class=\"g\">\n\n    <IMG\tsrc=a.png> <img/> <imgx> <image src=b>\n</div>\n"
        ),
        [(3, 5), (3, 21)]
    );
    // Closed, self-closed, a comment, or not HTML before it: code for kramdown too.
    for page in [
        "<div>x</div>\n\n    <img src=a.png>\n",
        "<hr/>\n\n    <img src=a.png>\n",
        "<!-- c -->\n\n    <img src=a.png>\n",
        "Text\n\n    <img src=a.png>\n",
        "<div>\n\nText\n\n    <img src=a.png>\n",
        "<div>\n\n```\n<img src=a.png>\n```\n",
    ] {
        assert_eq!(kramdown_positions(page), [], "{page:?}");
    }
}

#[test]
fn a_destination_that_cannot_be_pinned_down_is_reported_not_guessed() {
    // After an indented line break the destination is `>x.png`; skipping the `>` as a block
    // quote marker would splice `x.png` alone.
    assert_eq!(
        problems("Text\n![a](\n    >x.png)\n"),
        ["2:1 could not locate the destination `>x.png` of this image exactly; left alone"]
    );
    assert_eq!(
        problems("![b][y]\n\n[y]:\n    >y.png\n"),
        ["1:1 could not locate the destination of reference definition [y]; left alone"]
    );
}

// mutA: front matter, code regions and the page-level merge, tested for what the rewrite and
// the report rely on (the quote a destination sits in, the offset a problem names).

/// (raw span text, destination, context) of a reference.
type Found = (String, String, Context);

/// Each reference, and the problems with the text at their offset.
fn with_context(text: &str) -> (Vec<Found>, Vec<(String, String)>) {
    let out = extract(text, &Options::default());
    let refs = out
        .refs
        .iter()
        .map(|r| (text[r.span.clone()].to_string(), r.dest.clone(), r.context))
        .collect();
    let problems = out
        .problems
        .iter()
        .map(|p| {
            (
                text[p.offset..].chars().take(12).collect(),
                p.message.clone(),
            )
        })
        .collect();
    (refs, problems)
}

fn owned(raw: &str, dest: &str, context: Context) -> Found {
    (raw.to_string(), dest.to_string(), context)
}

#[test]
fn toml_values_keep_their_quote_and_escapes_are_left_alone() {
    let text = "+++\nimage = 'a.png'\nimages = [\"b.png\", 'c d.png', 3]\n[cover]\nimage = \"e.png\"\n+++\n";
    let (refs, problems) = with_context(text);
    let toml = |q| Context::Toml { quote: q };
    assert_eq!(
        refs,
        [
            owned("a.png", "a.png", toml('\'')),
            owned("b.png", "b.png", toml('"')),
            owned("c d.png", "c d.png", toml('\'')),
            owned("e.png", "e.png", toml('"')),
        ]
    );
    assert!(problems.is_empty(), "{problems:?}");
    // An escape, a multi-line string, and a literal multi-line string: reported at the value.
    let text = "+++\nimage = \"\\u0061.png\"\nimages = [\"\"\"b.png\"\"\", '''c.png''']\n+++\n";
    let (refs, problems) = with_context(text);
    assert!(refs.is_empty(), "{refs:?}");
    let at: Vec<&str> = problems.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(
        at,
        ["\"\\u0061.png\"", "\"\"\"b.png\"\"\",", "'''c.png''']"]
    );
    assert!(
        problems[0]
            .1
            .contains("`image` uses escapes or a multi-line string"),
        "{problems:?}"
    );
}

#[test]
fn toml_keys_that_are_not_there_or_not_tables_are_skipped() {
    // `cover` is a string, so `cover.image` is not looked into; `image` is a table, not a path.
    let text =
        "+++\ncover = \"c.png\"\n[image]\npath = \"p.png\"\nx = 1\n[extra]\nimage = ''\n+++\n";
    let (refs, problems) = with_context(text);
    assert_eq!(
        refs,
        [owned("p.png", "p.png", Context::Toml { quote: '"' })]
    );
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn invalid_front_matter_is_a_problem_at_its_place_and_the_body_still_counts() {
    let text = "+++\ntitle = \"x\"\nimage = = 'a.png'\n+++\n![b](b.png)\n";
    let (refs, problems) = with_context(text);
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].0.starts_with("= 'a.png'"), "{problems:?}");
    assert!(problems[0].1.contains("not valid TOML"), "{problems:?}");
    let text = "---\nimage: [a.png\n---\n![b](b.png)\n";
    let (refs, problems) = with_context(text);
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    // Where serde_yaml finds the error: the closing fence, where the `]` was still expected.
    assert!(problems[0].0.starts_with("---\n![b]"), "{problems:?}");
    assert!(problems[0].1.contains("not valid YAML"), "{problems:?}");
}

#[test]
fn yaml_values_keep_their_quote() {
    let text = "---\nimage: \"a b.png\"\nimages: ['it''s.png', plain.png, \"q.png\"]\ncover:\n  image: 'c.png' # note\n---\n";
    let (refs, problems) = with_context(text);
    let yaml = |q| Context::Yaml { quote: q };
    assert_eq!(
        refs,
        [
            owned("a b.png", "a b.png", yaml(Some('"'))),
            owned("it''s.png", "it's.png", yaml(Some('\''))),
            owned("plain.png", "plain.png", yaml(None)),
            owned("q.png", "q.png", yaml(Some('"'))),
            owned("c.png", "c.png", yaml(Some('\''))),
        ]
    );
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn yaml_nesting_finds_each_key_under_its_own_parent() {
    let text = "---\ntitle: 'a: b'\nx:\n  image: no1.png\ncover:\n  alt: x\n  inner:\n    image: no2.png\n  image: yes.png\nimages:\n- one.png\n-   two.png\n-\nafter: no3.png\n\"image\": quoted-key.png\n---\n";
    let (refs, problems) = with_context(text);
    let got: Vec<&str> = refs.iter().map(|(raw, _, _)| raw.as_str()).collect();
    assert_eq!(got, ["yes.png", "one.png", "two.png", "quoted-key.png"]);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn yaml_forms_that_are_not_rewritten_are_named_as_problems() {
    for (fm, value) in [
        ("image: |\n  a.png\n", "a.png\n"),
        ("image: \"a\\tb.png\"\n", "a\tb.png"),
        ("base: &b x.png\nimage: *b\n", "x.png"),
        ("image: >-\n  folded.png\n", "folded.png"),
        ("images: [{x: 1}, f.png]\n", "f.png"),
    ] {
        let text = format!("---\n{fm}---\n");
        let (refs, problems) = with_context(&text);
        let key = if fm.starts_with("images") {
            "images"
        } else {
            "image"
        };
        assert!(refs.is_empty(), "{fm}: {refs:?}");
        assert_eq!(problems.len(), 1, "{fm}: {problems:?}");
        assert!(
            problems[0].1.contains(&format!(
                "front matter `{key}: {value}` is written in a YAML form"
            )),
            "{fm}: {problems:?}"
        );
        assert!(problems[0].0.starts_with(&fm[..4]), "{fm}: {problems:?}");
    }
}

#[test]
fn yaml_document_end_and_empty_values() {
    let (refs, _) = with_context("---\nimage: a.png\n...\n![b](b.png)\n");
    let got: Vec<&str> = refs.iter().map(|(raw, _, _)| raw.as_str()).collect();
    assert_eq!(got, ["a.png", "b.png"]);
    // `...` ends YAML only; in TOML it is a line of the front matter, which never ends.
    let (refs, problems) = with_context("+++\n...\n+++\n![a](a.png)\n");
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert!(problems[0].1.contains("not valid TOML"), "{problems:?}");
    assert!(with_context("+++\nimage = 'a.png'\n...\n").0.is_empty());
    // Empty and blank values are nothing to lift; no key configured, nothing looked at.
    let (refs, problems) = with_context("---\nimage: ''\nimages: [\" \"]\n---\n");
    assert!(
        refs.is_empty() && problems.is_empty(),
        "{refs:?} {problems:?}"
    );
    let none = Options {
        front_matter: Vec::new(),
    };
    let out = extract("---\nimage: [a.png\n---\n![b](b.png)\n", &none);
    assert_eq!((out.refs.len(), out.problems.len()), (1, 0));
}

#[test]
fn images_in_the_generators_code_blocks_are_not_references() {
    // Inside a block, another shortcode's closing tag, the same one opening again, or another
    // Liquid block's end tag do not end it; a shortcode whose name only starts like one is not
    // a code block.
    let page = "{{< highlight md >}}\n{{< /code >}}\n![a](a.png)\n{{< /highlight >}}\n\
                {{< highlight >}}\n{{< highlight >}}\n<img src=\"b.png\">\n{{< /highlight >}}\n\
                ![c](c.png)\n{% raw %}\n{% endhighlight %}\n![d]({{ site.baseurl }}/d.png)\n{% endraw %}\n\
                {{< code-sample >}}\n![e](e.png)\n{{< /code-sample >}}\n{% raw_html %}\n![f](f.png)\n";
    assert_eq!(raw(page), ["c.png", "e.png", "f.png"]);
    // The search starts after the front matter, where a `{% raw %}` is only a value.
    let page = "---\ntitle: \"{% raw %}\"\n---\n![g](g.png)\n";
    assert_eq!(raw(page), ["g.png"]);
}

#[test]
fn code_blocks_also_drop_the_kramdown_html_inside_them() {
    let html = "<div>\n\n    <img src=\"k.png\">\n";
    let out = extract(html, &Options::default());
    assert_eq!(out.indented_html.len(), 1);
    let out = extract(
        &format!("{{% highlight html %}}\n{html}{{% endhighlight %}}\n"),
        &Options::default(),
    );
    assert!(
        out.indented_html.is_empty() && out.refs.is_empty(),
        "{out:?}"
    );
}

#[test]
fn line_index_answers_in_any_order_and_inside_characters() {
    let text = "héllo ![a](a.png) wörld\nsecond ![b](b.png)\n";
    let idx = LineIndex::new(text);
    let a = text.find("a.png").unwrap();
    let b = text.find("b.png").unwrap();
    assert_eq!(idx.locate(text, a), (1, 12));
    assert_eq!(idx.locate(text, b), (2, 13));
    // Backwards on the same line, then forwards, then inside `ö` (its start), then past the end.
    assert_eq!(idx.locate(text, 1), (1, 2));
    assert_eq!(idx.locate(text, a), (1, 12));
    let o = text.find('ö').unwrap();
    assert_eq!(idx.locate(text, o + 1), (1, 20));
    assert_eq!(idx.locate(text, text.len() + 5), (3, 1));
    assert_eq!(idx.locate(text, 0), (1, 1));
}

#[test]
fn tables_and_footnotes_are_parsed_as_the_sites_do() {
    // In a table `\|` is a `|` of the destination; a footnote is not a reference definition.
    let page = "| a | b |\n|---|---|\n| ![t](t\\|1.png) | x |\n\nNote[^1].\n\n[^1]: ![f](f.png)\n";
    let d = dests(page);
    let got: Vec<(&str, &str)> = d
        .iter()
        .map(|(_, dest, raw)| (dest.as_str(), raw.as_str()))
        .collect();
    assert_eq!(got, [("t|1.png", "t\\|1.png"), ("f.png", "f.png")]);
}

#[test]
fn a_problem_inside_a_generators_code_block_is_not_reported_and_one_outside_is() {
    // The same unlocatable destination shown as a snippet, then written for real.
    let bad = "Text\n![a](\n    >x.png)\n";
    let page = format!("{{{{< highlight md >}}}}\n{bad}{{{{< /highlight >}}}}\n\n{bad}");
    assert_eq!(
        problems(&page),
        ["8:1 could not locate the destination `>x.png` of this image exactly; left alone"]
    );
}

// mut3: tests for mutants of markdown.rs that the suite missed (`cargo mutants --file
// src/extract/markdown.rs`).

#[test]
fn the_first_definition_of_a_label_wins_liquid_or_not() {
    let fm = "---\ntitle: a page whose front matter moves the body\n---\n";
    // Two Liquid definitions: kramdown uses the first.
    let two_liquid = format!(
        "{fm}![a][logo]\n\n[logo]: {{{{ site.baseurl }}}}/first.png\n[logo]: {{{{ site.baseurl }}}}/second.png\n"
    );
    assert_eq!(raw(&two_liquid), ["{{ site.baseurl }}/first.png"]);
    // A CommonMark definition before a Liquid one, and after it.
    let plain_first =
        format!("{fm}![a][logo]\n\n[logo]: plain.png\n[logo]: {{{{ site.baseurl }}}}/liquid.png\n");
    assert_eq!(raw(&plain_first), ["plain.png"]);
    // (A blank line between: a definition cannot interrupt the paragraph that the Liquid line
    // is to CommonMark.)
    let liquid_first = format!(
        "{fm}![a][logo]\n\n[logo]: {{{{ site.baseurl }}}}/liquid.png\n\n[logo]: plain.png\n"
    );
    assert_eq!(raw(&liquid_first), ["{{ site.baseurl }}/liquid.png"]);
}

#[test]
fn a_liquid_definition_no_image_uses_is_not_lifted() {
    let text = "![x][a]\n\n[a]: a.png\n[b]: {{ site.baseurl }}/b.png\n";
    assert_eq!(raw(text), ["a.png"]);
}

#[test]
fn dest_at_reads_one_link_destination() {
    fn at(s: &str) -> Option<(&str, bool)> {
        markdown::dest_at(s, 0, s.len()).map(|(r, angle)| (&s[r], angle))
    }
    assert_eq!(at(" x.png \"t\""), Some(("x.png", false)));
    // One line break, with block quote markers after it; not two.
    assert_eq!(at("\n> x.png"), Some(("x.png", false)));
    assert_eq!(at("\r\n  x.png"), Some(("x.png", false)));
    assert_eq!(at("\n\nx.png"), None);
    assert_eq!(at("\n  "), None);
    assert_eq!(at("  "), None);
    assert_eq!(at(""), None);
    // Angle brackets: escapes inside, no line break or `<`, and a closing `>`.
    assert_eq!(at("<a b.png> t"), Some(("a b.png", true)));
    assert_eq!(at("<a\\>b.png>"), Some(("a\\>b.png", true)));
    assert_eq!(at("<a\nb.png>"), None);
    assert_eq!(at("<a<b.png>"), None);
    assert_eq!(at("<a.png"), None);
    // Bare: balanced parentheses, escaped punctuation, ended by space or control.
    assert_eq!(at("a(b(c)).png) t"), Some(("a(b(c)).png", false)));
    assert_eq!(at("a\\(b.png x"), Some(("a\\(b.png", false)));
    assert_eq!(at("a\\ b.png"), Some(("a\\", false)));
    assert_eq!(at("a\\"), Some(("a\\", false)));
    assert_eq!(at("a\u{7f}b"), Some(("a", false)));
    // `end` bounds it.
    assert_eq!(markdown::dest_at("x.png)tail", 0, 5), Some((0..5, false)));
}

#[test]
fn close_bracket_skips_escapes_and_stops_at_end() {
    assert_eq!(markdown::close_bracket("a\\]b]c", 0, 6), Some(4));
    assert_eq!(markdown::close_bracket("ab]", 0, 2), None);
    assert_eq!(markdown::close_bracket("ab]", 0, 3), Some(2));
}

// mut3: html.rs.

#[test]
fn raw_text_tags_open_and_close_at_the_edges_of_the_text() {
    // A tag cut short after its name opens nothing (and reads no further than the text).
    assert_eq!(html::opens_raw_text("<script"), None);
    assert_eq!(html::opens_raw_text("<script>"), Some("script"));
    assert_eq!(html::opens_raw_text("<style "), Some("style"));
    // A closing tag right at the end of the text still closes.
    assert!(html::closes("x</script", "script"));
    assert!(html::closes("</textarea", "textarea"));
    assert!(!html::closes("</scrip", "script"));
}

#[test]
fn a_tag_cut_short_at_the_end_of_the_text_keeps_what_it_has() {
    // An HTML scan over text that ends inside a tag (no `>`, no newline after it).
    for text in [
        "<img src=\"x.png\" alt",
        "<img src=\"x.png\" alt ",
        "<img src=\"x.png\" alt=",
        "<img src=\"x.png\" alt= ",
        "<img src=\"x.png\" alt='a",
        "<img src=x.png",
    ] {
        let mut out = Extracted::default();
        let all = 0..text.len();
        html::scan(text, all.clone(), std::slice::from_ref(&all), &mut out);
        let found: Vec<&str> = out.refs.iter().map(|r| &text[r.span.clone()]).collect();
        assert_eq!(found, ["x.png"], "{text}");
    }
}

#[test]
fn a_srcset_with_empty_candidates_yields_only_its_urls() {
    for text in [
        "<img srcset=\"a.png 1x, \">\n",
        "<img srcset=\"a.png 1x,\">\n",
        "<img srcset=\", a.png\">\n",
        "<img srcset=\"a.png,,\">\n",
    ] {
        assert_eq!(raw(text), ["a.png"], "{text}");
    }
}

// mut3: text.rs.

#[test]
fn a_figure_parameter_without_equals_stops_the_reading() {
    // Hugo takes named parameters as `key=value`: `src x.png` is not a source.
    let out = extract("{{< figure src x.png >}}\n", &Options::default());
    assert!(out.refs.is_empty(), "{:?}", out.refs);
    assert_eq!(raw("{{< figure src=x.png >}}\n"), ["x.png"]);
}

#[test]
fn a_liquid_image_on_the_line_after_an_empty_first_line() {
    assert_eq!(
        raw("\n![a]({{ site.baseurl }}/x.png)\n"),
        ["{{ site.baseurl }}/x.png"]
    );
}

/// Jekyll's Liquid reference definitions, form by form (text.rs: `liquid_definitions`,
/// `definition_label`, `title_then_end`, `image_uses_label`, `code_span_end`): what kramdown
/// reads as a definition used by an image is lifted, nothing else.
#[test]
fn liquid_reference_definitions_form_by_form() {
    let def = "[logo]: {{ site.baseurl }}/l.png";
    let lifted = ["{{ site.baseurl }}/l.png"];
    let none: [&str; 0] = [];
    let cases: Vec<(String, &[&str])> = vec![
        // The image forms that use the label.
        (format!("![a][logo]\n\n{def}\n"), &lifted),
        (format!("![logo][]\n\n{def}\n"), &lifted),
        (format!("![logo]\n\n{def}\n"), &lifted),
        (format!("![a][ logo ]\n\n{def}\n"), &lifted),
        // Labels match case- and space-insensitively.
        (
            "![a][My  Logo]\n\n[my logo]: {{ site.baseurl }}/l.png\n".to_string(),
            &lifted,
        ),
        (format!("![LOGO]\n\n{def}\n"), &lifted),
        // Nested brackets, escapes and code spans in the alt text.
        (format!("![a [b] c][logo]\n\n{def}\n"), &lifted),
        (format!("![a \\] c][logo]\n\n{def}\n"), &lifted),
        (format!("![a `]` c][logo]\n\n{def}\n"), &lifted),
        (format!("![a ``]` c`` d][logo]\n\n{def}\n"), &lifted),
        (format!("![a ``b` ][logo]\n\n{def}\n"), &lifted),
        // `![logo](…)` that CommonMark does not read as an image is no use of the label either.
        (format!("![logo](a b c)\n\n{def}\n"), &none),
        // A code span that ends the alt text; an unclosed backtick run further into the page.
        (format!("![a `x`][logo]\n\n{def}\n"), &lifted),
        (
            format!("Some text first.\n\n![a ``b` ][logo]\n\n{def}\n"),
            &lifted,
        ),
        // An image cut short at the very end of the page.
        (format!("{def}\n\n![a"), &none),
        (format!("{def}\n\n![a][logo"), &none),
        // Right after a code span is outside it.
        (format!("`x`![a][logo]\n\n{def}\n"), &lifted),
        // A line that opens a label and never closes it is not a definition.
        (format!("![a][logo]\n\n[unclosed\n\n{def}\n"), &lifted),
        // A definition inside a code block is text.
        (format!("![a][logo]\n\n```\n\n{def}\n```\n"), &none),
        // Not used: another label, an inline image, an image in code, no image at all.
        (format!("![a][other]\n\n{def}\n"), &none),
        (format!("![logo](x.png)\n\n{def}\n"), &["x.png"]),
        (format!("```\n![a][logo]\n```\n\n{def}\n"), &none),
        (format!("`![a][logo]`\n\n{def}\n"), &none),
        (format!("{def}\n"), &none),
        (format!("![a][logo\n\n{def}\n"), &none),
        // The definition: up to three spaces of indent, a label without `[`, a colon.
        (format!("![a][logo]\n\n   {def}\n"), &lifted),
        (format!("![a][logo]\n\n    {def}\n"), &none),
        (
            "![a][lo\\]go]\n\n[lo\\]go]: {{ site.baseurl }}/l.png\n".to_string(),
            &lifted,
        ),
        (
            "![a][lo[go]\n\n[lo[go]: {{ site.baseurl }}/l.png\n".to_string(),
            &none,
        ),
        (
            "![a][ ]\n\n[ ]: {{ site.baseurl }}/l.png\n".to_string(),
            &none,
        ),
        (
            "![a][logo]\n\n[logo] {{ site.baseurl }}/l.png\n".to_string(),
            &none,
        ),
        (
            "![a][logo]\n\n[logo]:{{ site.baseurl }}/l.png\n".to_string(),
            &lifted,
        ),
        // It starts a block: after a blank line or another definition, not inside a paragraph.
        (format!("![a][logo]\ntext\n{def}\n"), &none),
        (format!("![a][logo]\n\n[x]: x.png\n{def}\n"), &lifted),
        (format!("![a][logo]\r\n\r\n{def}\r\n"), &lifted),
        // A title, then nothing.
        (format!("![a][logo]\n\n{def} \"T\"\n"), &lifted),
        (format!("![a][logo]\n\n{def} 'T'\n"), &lifted),
        (format!("![a][logo]\n\n{def} (T)  \n"), &lifted),
        (format!("![a][logo]\n\n{def} \"a \\\" b\"\n"), &lifted),
        (format!("![a][logo]\n\n{def} trailing\n"), &none),
        (format!("![a][logo]\n\n{def} \"T\" x\n"), &none),
        (format!("![a][logo]\n\n{def} \"T\n"), &none),
        (format!("![a][logo]\n\n{def}\"T\"\n"), &none),
    ];
    for (page, want) in cases {
        let got: Vec<String> = extract(&page, &Options::default())
            .refs
            .iter()
            .map(|r| page[r.span.clone()].to_string())
            .collect();
        assert_eq!(got, want, "{page:?}");
    }
}

// mut3: frontmatter.rs.

#[test]
fn a_comment_line_between_a_key_and_its_children_keeps_the_nesting() {
    assert_eq!(
        raw("---\ncover:\n# the cover\n  image: c.png\n---\n"),
        ["c.png"]
    );
    assert_eq!(raw("---\ncover:\n\n  image: c.png\n---\n"), ["c.png"]);
}

#[test]
fn a_yaml_error_is_reported_at_its_line_and_column_in_the_page() {
    let page = "---\na: 1\nb: c: d\n---\n";
    let out = extract(page, &Options::default());
    let offsets: Vec<usize> = out.problems.iter().map(|p| p.offset).collect();
    // serde_yaml: "mapping values are not allowed in this context at line 2 column 5".
    assert_eq!(
        offsets,
        [page.find("c: d").unwrap() + 1],
        "{:?}",
        out.problems
    );
}

#[test]
fn a_double_quoted_yaml_value_over_two_lines_is_left_alone_and_said() {
    let out = extract("---\nimage: \"x\n  y.png\"\n---\n", &Options::default());
    assert!(out.refs.is_empty(), "{:?}", out.refs);
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert!(
        out.problems[0]
            .message
            .contains("YAML form imglift does not rewrite"),
        "{:?}",
        out.problems
    );
}

// mut3: code.rs.

#[test]
fn a_shortcode_shown_as_text_is_skipped_and_the_next_real_one_still_counts() {
    // `{{</* … */>}}` is text; the `{{< highlight >}}` right after it still opens code.
    let page =
        "Some words before the example: {{</* figure src=\"x.png\" */>}} {{< highlight md >}}\n\
                ![a](in-code.png)\n{{< /highlight >}}\n\n![b](out.png)\n";
    assert_eq!(raw(page), ["out.png"]);
}
