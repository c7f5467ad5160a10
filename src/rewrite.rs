//! Rewrite: splice new URLs into the recorded byte spans, check the result, write atomically.
//!
//! Only destination bytes change. Each URL is escaped for the context it lands in (a Markdown
//! destination, an HTML attribute, a shortcode parameter, a YAML or TOML string). Before a page
//! is written, it is extracted again: every edited reference must read back as its new URL and
//! every other reference as before, or the page is left as it was. Writing the result is the
//! output stage's (`output.rs`).

use std::ops::Range;

use crate::extract::{self, Context};
use crate::pages::Page;
use crate::plan::{self, Plan};
use crate::report::{Diagnostic, Rewrite, Severity};
use crate::resolve::Resolved;
use crate::upload::Outcome;

/// A page's new text and what changed in it, for the report.
pub struct PageEdit {
    pub text: String,
    pub rewrites: Vec<Rewrite>,
}

/// The rewrite stage for one page: every reference to an object the store confirmed gets its
/// public URL. `Ok(None)` when nothing changes; an error (and the page left as it is) when the
/// result does not read back as expected.
pub fn page_edit(
    page: &Page,
    plan: &Plan,
    outcomes: &[Outcome],
    opts: &extract::Options,
) -> Result<Option<PageEdit>, Diagnostic> {
    let mut edits = Vec::new();
    let mut rewrites = Vec::new();
    for (r, resolved) in &page.refs {
        let Resolved::Local(p) = resolved else {
            continue;
        };
        let Some(&i) = plan.by_path.get(p) else {
            continue;
        };
        if !outcomes[i].confirmed() {
            continue;
        }
        let url = plan::reference_url(&plan.items[i].url, &r.dest);
        let (line, col) = page.locate(r.span.start);
        rewrites.push(Rewrite {
            line,
            col,
            from: r.dest.clone(),
            to: url.clone(),
        });
        edits.push(Edit {
            span: r.span.clone(),
            url,
            context: r.context,
        });
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let text = splice(&page.text, &edits);
    // The page's references are those of its text (reloaded only if it holds the bytes they
    // were extracted from): only the new text is extracted again.
    let old_refs = page.refs.iter().map(|(r, _)| r);
    if let Err(why) = verify_with(&page.text, old_refs, &text, &edits, opts) {
        return Err(page.diag(
            edits[0].span.start,
            Severity::Error,
            "unparsed",
            format!("rewrite did not read back as expected ({why}); page left as it is"),
        ));
    }
    Ok(Some(PageEdit { text, rewrites }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub url: String,
    pub context: Context,
}

/// The URL as it must be written in `context`. Keys and fragments are percent-encoded by
/// `plan::public_url` / `plan::reference_url`, and the configured base URL holds no whitespace
/// (`config` refuses it), so what is escaped here is the base URL's other characters: `(`, `'`,
/// `&`, `"`, `<`… are all allowed in it.
pub fn escape_for(url: &str, context: Context) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match (context, c) {
            (Context::Markdown, '(' | ')' | '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::MarkdownAngle, '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::Html { .. }, '&') => out.push_str("&amp;"),
            (Context::Html { .. }, '"') => out.push_str("&quot;"),
            (Context::Html { .. }, '\'') => out.push_str("&#39;"),
            (Context::Html { quote: None }, '<' | '>' | '=' | '`') => {
                out.push_str(&format!("&#{};", c as u32))
            }
            (
                Context::Shortcode { .. }
                | Context::Yaml { quote: Some('"') }
                | Context::Toml { quote: '"' },
                '"' | '\\',
            ) => out.push_str(&format!("%{:02X}", c as u32)),
            (Context::Shortcode { .. }, '`') => out.push_str("%60"),
            (Context::Yaml { quote: Some('\'') }, '\'') => out.push_str("''"),
            (Context::Toml { quote: '\'' }, '\'') => out.push_str("%27"),
            _ => out.push(c),
        }
    }
    out
}

/// Replace each edit's span with its escaped URL. Edits must be sorted and not overlap.
pub fn splice(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.len() * 64);
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.span.start]);
        out.push_str(&escape_for(&e.url, e.context));
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Check that `new` is `old` with exactly these destinations replaced: every byte outside the
/// edited spans is the same, every edit covers a reference's destination, and extracting `new`
/// again gives each edited reference its new URL (or the same URL, percent-encoded) and every
/// other reference its old destination.
pub fn verify(old: &str, new: &str, edits: &[Edit], opts: &extract::Options) -> Result<(), String> {
    let old_refs = extract::extract(old, opts).refs;
    verify_with(old, old_refs.iter(), new, edits, opts)
}

/// [`verify`], given the references extracted from `old` (in the extractor's order).
fn verify_with<'r>(
    old: &str,
    old_refs: impl Iterator<Item = &'r extract::Reference>,
    new: &str,
    edits: &[Edit],
    opts: &extract::Options,
) -> Result<(), String> {
    let expected = expected_refs(old, old_refs, new, edits)?;
    let found: Vec<(usize, String)> = extract::extract(new, opts)
        .refs
        .iter()
        .map(|r| (r.span.start, r.dest.clone()))
        .collect();
    let same = |(a, b): (&(usize, String), &(usize, String))| {
        a.0 == b.0 && (a.1 == b.1 || percent_decoded(&a.1) == percent_decoded(&b.1))
    };
    if found.len() == expected.len() && expected.iter().zip(&found).all(same) {
        return Ok(());
    }
    let diff = expected
        .iter()
        .zip(found.iter().chain(std::iter::repeat(&(0, String::new()))))
        .find(|&(a, b)| !same((a, b)))
        .map(|(a, b)| {
            format!(
                "expected `{}` at byte {}, found `{}` at byte {}",
                a.1, a.0, b.1, b.0
            )
        })
        .unwrap_or_else(|| {
            format!(
                "{} references expected, {} found",
                expected.len(),
                found.len()
            )
        });
    Err(diff)
}

/// Where each reference of `old` must start in `new`, and what it must say there. Fails when a
/// byte outside the edits changed or an edit is not exactly a reference's destination.
fn expected_refs<'r>(
    old: &str,
    old_refs: impl Iterator<Item = &'r extract::Reference>,
    new: &str,
    edits: &[Edit],
) -> Result<Vec<(usize, String)>, String> {
    // Bytes outside the edits, and the places they move to.
    let mut shifts = Vec::with_capacity(edits.len());
    let (mut at_old, mut at_new) = (0, 0);
    for e in edits {
        let keep = old
            .get(at_old..e.span.start)
            .ok_or("edits overlap or are out of order")?;
        if new.get(at_new..at_new + keep.len()) != Some(keep) {
            return Err(format!(
                "a byte outside the edits changed near byte {at_old}"
            ));
        }
        at_new += keep.len();
        let written = escape_for(&e.url, e.context).len();
        shifts.push(at_new as isize + written as isize - e.span.end as isize);
        at_new += written;
        at_old = e.span.end;
    }
    if new.get(at_new..) != old.get(at_old..) {
        return Err(format!(
            "a byte outside the edits changed after byte {at_old}"
        ));
    }
    let mut edit_iter = edits.iter().zip(&shifts).peekable();
    let mut shift: isize = 0;
    let mut expected = Vec::new();
    // An edit that is not exactly a reference's destination is never consumed, so it and every
    // edit after it are left over at the end.
    for r in old_refs {
        let start = (r.span.start as isize + shift) as usize;
        match edit_iter.peek() {
            Some((e, after)) if e.span == r.span => {
                expected.push((start, e.url.clone()));
                shift = **after;
                edit_iter.next();
            }
            _ => expected.push((start, r.dest.clone())),
        }
    }
    if edit_iter.next().is_some() {
        return Err("an edit does not match any reference".into());
    }
    Ok(expected)
}

/// A destination with its `%XX` escapes decoded, for comparing two spellings of one URL.
fn percent_decoded(url: &str) -> String {
    percent_encoding::percent_decode_str(url)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://img.example.com/0123456789abcdef/a.png";

    fn opts() -> extract::Options {
        extract::Options::default()
    }

    /// An edit of the first occurrence of `needle`, which the test has made unique.
    fn edit(text: &str, needle: &str, url: &str, context: Context) -> Edit {
        let start = text.find(needle).expect("needle in text");
        assert_eq!(text.matches(needle).count(), 1, "`{needle}` is not unique");
        Edit {
            span: start..start + needle.len(),
            url: url.into(),
            context,
        }
    }

    /// Edits for every reference the extractor finds, all to `url`, as the pipeline builds them.
    fn edits_for_all(text: &str, url: &str) -> Vec<Edit> {
        let refs = extract::extract(text, &opts()).refs;
        assert!(!refs.is_empty(), "no reference in {text:?}");
        refs.into_iter()
            .map(|r| Edit {
                span: r.span,
                url: url.into(),
                context: r.context,
            })
            .collect()
    }

    /// Splice, check with `verify`, and return the new text and what a renderer reads in it.
    fn lift(text: &str, edits: &[Edit]) -> (String, Vec<String>) {
        let new = splice(text, edits);
        if let Err(why) = verify(text, &new, edits, &opts()) {
            panic!("verify refused {new:?}: {why}");
        }
        let dests = extract::extract(&new, &opts())
            .refs
            .into_iter()
            .map(|r| r.dest)
            .collect();
        (new, dests)
    }

    #[test]
    fn splice_replaces_only_the_spans() {
        // `x.png` also occurs as text: only the destination's bytes may change.
        let text = "Intro *x.png*\n\n![a](x.png) mid ![b](y.png \"t\") end\n";
        let x = text.find("](x.png)").unwrap() + 2;
        let edits = [
            Edit {
                span: x..x + 5,
                url: "https://img.example.com/x.png".into(),
                context: Context::Markdown,
            },
            edit(
                text,
                "y.png",
                "https://img.example.com/y.png",
                Context::Markdown,
            ),
        ];
        assert_eq!(
            splice(text, &edits),
            "Intro *x.png*\n\n![a](https://img.example.com/x.png) mid \
             ![b](https://img.example.com/y.png \"t\") end\n"
        );
    }

    #[test]
    fn splice_edits_at_the_start_and_the_end() {
        let text = "a.png|b.png";
        let edits = [
            Edit {
                span: 0..5,
                url: "U1".into(),
                context: Context::Markdown,
            },
            Edit {
                span: 6..11,
                url: "U2".into(),
                context: Context::Markdown,
            },
        ];
        assert_eq!(splice(text, &edits), "U1|U2");
        let whole = Edit {
            span: 0..text.len(),
            url: "W".into(),
            context: Context::Markdown,
        };
        assert_eq!(splice(text, &[whole]), "W");
        assert_eq!(splice(text, &[]), text);
    }

    #[test]
    fn splice_keeps_multi_byte_text_around_the_edit() {
        let text = "Crème ![Ünïcödé 🖼](ça.png) brûlée 日本\r\n";
        let e = edit(text, "ça.png", URL, Context::Markdown);
        let out = splice(text, std::slice::from_ref(&e));
        assert_eq!(out, format!("Crème ![Ünïcödé 🖼]({URL}) brûlée 日本\r\n"));
        assert_eq!(
            &out.as_bytes()[..e.span.start],
            &text.as_bytes()[..e.span.start]
        );
        assert_eq!(
            &out.as_bytes()[e.span.start + URL.len()..],
            &text.as_bytes()[e.span.end..]
        );
    }

    #[test]
    fn splice_writes_the_escaped_url() {
        let text = "![a](x.png)";
        let e = edit(
            text,
            "x.png",
            "https://img.example.com/a(1).png",
            Context::Markdown,
        );
        assert_eq!(
            splice(text, &[e]),
            "![a](https://img.example.com/a\\(1\\).png)"
        );
    }

    #[test]
    fn a_plain_lifted_url_is_written_as_is_in_every_context() {
        let url = "https://img.example.com/0123456789abcdef/my%20pic-1_2.~x.png";
        for context in [
            Context::Markdown,
            Context::MarkdownAngle,
            Context::Html { quote: Some('"') },
            Context::Html { quote: Some('\'') },
            Context::Html { quote: None },
            Context::Shortcode { quote: Some('"') },
            Context::Shortcode { quote: Some('`') },
            Context::Shortcode { quote: None },
            Context::Yaml { quote: Some('"') },
            Context::Yaml { quote: Some('\'') },
            Context::Yaml { quote: None },
            Context::Toml { quote: '"' },
            Context::Toml { quote: '\'' },
        ] {
            assert_eq!(escape_for(url, context), url, "{context:?}");
        }
    }

    #[test]
    fn escape_markdown_destinations() {
        assert_eq!(
            escape_for("a(1)<2>\\.png", Context::Markdown),
            "a\\(1\\)\\<2\\>\\\\.png"
        );
        // Quotes cannot end a bare destination.
        assert_eq!(
            escape_for("it's\"x\".png", Context::Markdown),
            "it's\"x\".png"
        );
        // Inside `<…>` parentheses are literal, the brackets are not.
        assert_eq!(
            escape_for("a(1)<2>\\.png", Context::MarkdownAngle),
            "a(1)\\<2\\>\\\\.png"
        );
    }

    #[test]
    fn escape_html_attributes() {
        for quote in [Some('"'), Some('\'')] {
            let c = Context::Html { quote };
            assert_eq!(
                escape_for("q&a/it's\"x\".png", c),
                "q&amp;a/it&#39;s&quot;x&quot;.png",
                "{quote:?}"
            );
            // In a quoted value `<`, `>` and `=` are harmless.
            assert_eq!(escape_for("a<b>=c.png", c), "a<b>=c.png", "{quote:?}");
            // A comma inside a srcset URL is part of it (only a trailing one is not), and an
            // image CDN's transformation (`w_1,h_2`) must reach it unchanged.
            assert_eq!(escape_for("w_1,h_2.png", c), "w_1,h_2.png", "{quote:?}");
        }
        let unquoted = Context::Html { quote: None };
        assert_eq!(
            escape_for("a<b>=c`d&e\"f'.png", unquoted),
            "a&#60;b&#62;&#61;c&#96;d&amp;e&quot;f&#39;.png"
        );
    }

    #[test]
    fn escape_shortcode_parameters() {
        for quote in [Some('"'), Some('`'), None] {
            let c = Context::Shortcode { quote };
            assert_eq!(
                escape_for("a\"b\\c`d'e.png", c),
                "a%22b%5Cc%60d'e.png",
                "{quote:?}"
            );
        }
    }

    #[test]
    fn escape_front_matter_strings() {
        let yaml = |quote| Context::Yaml { quote };
        assert_eq!(
            escape_for("a\"b\\c'd.png", yaml(Some('"'))),
            "a%22b%5Cc'd.png"
        );
        assert_eq!(
            escape_for("it's\"x\".png", yaml(Some('\''))),
            "it''s\"x\".png"
        );
        // `#` starts a comment only after a space, which a URL never has (see `escape_for`).
        assert_eq!(escape_for("a#b.png", yaml(None)), "a#b.png");
        let toml = |quote| Context::Toml { quote };
        assert_eq!(escape_for("a\"b\\c'd.png", toml('"')), "a%22b%5Cc'd.png");
        assert_eq!(escape_for("a\"b\\c'd.png", toml('\'')), "a\"b\\c%27d.png");
    }

    #[test]
    fn escaped_urls_read_back_in_markdown() {
        let url = "https://img.example.com/a(b))c<d>.png";
        for text in [
            "![a](x.png)\n",
            "![a](x.png \"title\")\n",
            "![a][l]\n\n[l]: x.png\n",
            "![a](<my pic.png>)\n",
            "> ![a](\n> x.png)\n",
        ] {
            let (new, dests) = lift(text, &edits_for_all(text, url));
            assert_eq!(dests, [url], "{new}");
        }
    }

    #[test]
    fn escaped_urls_read_back_in_html() {
        let url = "https://img.example.com/q&a/it's\"x\"<y>=`z`.png";
        for text in [
            "<img src=\"x.png\" alt=\"a\">\n",
            "<img src='x.png' alt='a'>\n",
            "<img src=x.png alt=a>\n",
            "Text <img src=\"x.png\"> inline.\n",
        ] {
            let (new, dests) = lift(text, &edits_for_all(text, url));
            assert_eq!(dests, [url], "{new}");
        }
    }

    #[test]
    fn srcset_keeps_its_descriptors() {
        let text = "<picture>\n<source srcset=\"a.webp 1x, a@2x.webp 2x\">\n<img src=\"a.gif\">\n</picture>\n";
        let refs = extract::extract(text, &opts()).refs;
        let urls = [
            "https://i.example/1.webp",
            "https://i.example/2.webp",
            "https://i.example/3.gif",
        ];
        let edits: Vec<Edit> = refs
            .iter()
            .zip(urls)
            .map(|(r, url)| Edit {
                span: r.span.clone(),
                url: url.into(),
                context: r.context,
            })
            .collect();
        let (new, dests) = lift(text, &edits);
        assert_eq!(dests, urls);
        assert_eq!(
            new,
            "<picture>\n<source srcset=\"https://i.example/1.webp 1x, https://i.example/2.webp 2x\">\n<img src=\"https://i.example/3.gif\">\n</picture>\n"
        );
    }

    #[test]
    fn urls_read_back_in_shortcodes_front_matter_and_liquid() {
        let url = "https://img.example.com/it's-(1).png";
        for text in [
            "{{< figure src=\"x.png\" alt=\"a\" >}}\n",
            "{{% figure src=x.png %}}\n",
            "---\nimage: x.png\n---\nbody\n",
            "---\nimage: \"x.png\"\n---\nbody\n",
            "---\nimages: [x.png, \"y.png\"]\n---\n",
            "+++\nimage = \"x.png\"\n+++\n",
            "![a]({{ site.baseurl }}/x.png)\n",
            "![a]({{site.baseurl}}/x.png \"t\")\n",
        ] {
            let edits = edits_for_all(text, url);
            let n = edits.len();
            let (new, dests) = lift(text, &edits);
            assert_eq!(dests, vec![url; n], "{new}");
        }
        // Regression (found by the property test): a quote in a single-quoted YAML value is
        // written `''`, and must read back, or `verify` leaves the page as it is.
        let text = "---\ncover:\n  image: 'x.png'\n---\n";
        let (new, dests) = lift(text, &edits_for_all(text, url));
        assert_eq!(
            new,
            "---\ncover:\n  image: 'https://img.example.com/it''s-(1).png'\n---\n"
        );
        assert_eq!(dests, [url]);
        // A TOML literal string cannot hold its quote: `%27`, the same URL.
        let text = "+++\nimage = 'x.png'\n+++\n";
        let (new, dests) = lift(text, &edits_for_all(text, url));
        assert_eq!(
            new,
            "+++\nimage = 'https://img.example.com/it%27s-(1).png'\n+++\n"
        );
        assert_eq!(dests, ["https://img.example.com/it%27s-(1).png"]);
    }

    #[test]
    fn verify_accepts_a_correct_rewrite_of_some_references() {
        let text = "---\nimage: cover.png\n---\n![a](x.png) ![b](y.png)\n<img src=\"z.png\">\n";
        let edits = [
            edit(
                text,
                "cover.png",
                "https://i.example/c.png",
                Context::Yaml { quote: None },
            ),
            edit(
                text,
                "y.png",
                "https://i.example/y-longer-than-before.png",
                Context::Markdown,
            ),
        ];
        let (new, dests) = lift(text, &edits);
        assert_eq!(
            dests,
            [
                "https://i.example/c.png",
                "x.png",
                "https://i.example/y-longer-than-before.png",
                "z.png"
            ],
            "{new}"
        );
    }

    #[test]
    fn verify_rejects_text_that_was_not_rewritten() {
        let text = "![a](x.png)\n";
        let edits = [edit(text, "x.png", URL, Context::Markdown)];
        let err = verify(text, text, &edits, &opts()).unwrap_err();
        assert!(err.contains("changed"), "{err}");
    }

    #[test]
    fn verify_rejects_an_edit_that_is_not_a_reference() {
        let text = "![x.png](y.png) and z.png\n";
        let dest = text.find("y.png").unwrap();
        let after = text.find("z.png").unwrap();
        for span in [
            // Part of the destination only.
            dest + 1..dest + 5,
            // The destination and its closing parenthesis.
            dest..dest + 6,
            // Plain text after the last reference.
            after..after + 5,
        ] {
            let e = Edit {
                span: span.clone(),
                url: URL.into(),
                context: Context::Markdown,
            };
            let new = splice(text, std::slice::from_ref(&e));
            assert!(
                verify(text, &new, &[e], &opts()).is_err(),
                "{span:?}: {new}"
            );
        }
    }

    #[test]
    fn verify_rejects_an_edit_of_the_alt_text() {
        let text = "![x.png](y.png)\n";
        let alt = Edit {
            span: 2..7,
            url: URL.into(),
            context: Context::Markdown,
        };
        let new = splice(text, std::slice::from_ref(&alt));
        assert_eq!(new, format!("![{URL}](y.png)\n"));
        assert!(verify(text, &new, &[alt], &opts()).is_err(), "{new}");
    }

    #[test]
    fn verify_rejects_a_url_escaped_for_the_wrong_context() {
        // Bare destination, but escaped as if inside `<…>`: the `)` ends the image early.
        let text = "![a](x.png) ![b](y.png)\n";
        let url = "https://img.example.com/a).png";
        let e = edit(text, "x.png", url, Context::MarkdownAngle);
        let new = splice(text, std::slice::from_ref(&e));
        // The message names the first reference that reads back wrong, and where.
        assert_eq!(
            verify(text, &new, &[e], &opts()),
            Err(format!(
                "expected `{url}` at byte 5, found `https://img.example.com/a` at byte 5"
            )),
            "{new}"
        );
        // The right context is accepted.
        let e = edit(text, "x.png", url, Context::Markdown);
        lift(text, &[e]);
    }

    #[test]
    fn verify_rejects_other_references_that_changed() {
        let text = "![a](x.png) ![b](y.png)\n";
        let edits = [edit(text, "x.png", URL, Context::Markdown)];
        let good = splice(text, &edits);
        assert!(verify(text, &good, &edits, &opts()).is_ok());
        // Another destination changed.
        let other = good.replace("y.png", "z.png");
        let err = verify(text, &other, &edits, &opts()).unwrap_err();
        assert!(err.contains("outside the edits"), "{err}");
        // A byte added before the other reference moves it.
        let shifted = good.replace(" ![b]", "  ![b]");
        assert!(verify(text, &shifted, &edits, &opts()).is_err());
        // A reference dropped or added.
        let dropped = good.replace("![b](y.png)", "");
        assert!(verify(text, &dropped, &edits, &opts()).is_err());
        let added = format!("{good}![c](w.png)\n");
        assert!(verify(text, &added, &edits, &opts()).is_err());
    }

    #[test]
    fn verify_rejects_changed_bytes_outside_the_references() {
        let text = "![cat](x.png)\n";
        let edits = [edit(text, "x.png", URL, Context::Markdown)];
        let new = splice(text, &edits).replace("cat", "dog");
        assert!(verify(text, &new, &edits, &opts()).is_err(), "{new}");
    }

    #[test]
    fn fragment_survives_in_plain_yaml_front_matter() {
        let text = "---\nimage: icons.svg#home\n---\n";
        let url = "https://img.example.com/0123456789abcdef/icons.svg#home";
        let (new, dests) = lift(text, &edits_for_all(text, url));
        assert_eq!(dests, [url], "{new}");
    }

    #[test]
    fn comma_in_the_public_url_reads_back_in_html() {
        let text = "<img src=\"x.png\">\n";
        let url = "https://res.example.com/w_300,c_fill/0123456789abcdef/x.png";
        let (new, dests) = lift(text, &edits_for_all(text, url));
        assert_eq!(dests, [url], "{new}");
    }
}
