//! Code that Markdown does not see as code: the body of Hugo's `{{< highlight >}}` and
//! `{{< code >}}` shortcodes (also with `{{% … %}}`), and Jekyll's `{% highlight %}` and
//! `{% raw %}` blocks. A snippet there is shown as text, so nothing in it is an image to lift.

use std::ops::Range;

/// Hugo shortcodes whose inner text is code.
const HUGO: [&str; 2] = ["highlight", "code"];
/// Liquid blocks whose inner text is code (or Liquid shown as it is).
const LIQUID: [&str; 2] = ["highlight", "raw"];

#[derive(Debug, PartialEq, Eq)]
enum Tag<'a> {
    /// `{{< name … >}}` or `{{< /name >}}` (or with `%`).
    Hugo { name: &'a str, closing: bool },
    /// `{% name … %}`.
    Liquid { name: &'a str },
}

/// The byte ranges of `text` from `from` on that are code blocks of the generators: each from
/// the opening tag to the end of its closing tag. A Liquid block without its end tag runs to
/// the end of the page (Jekyll refuses to build it anyway); a Hugo shortcode without one is not
/// a block.
pub fn regions(text: &str, from: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = from;
    while let Some((start, end, tag)) = next_tag(text, at) {
        at = end;
        let (close, unclosed_to_end) = match tag {
            Tag::Hugo {
                name,
                closing: false,
            } if HUGO.contains(&name) => (
                Tag::Hugo {
                    name,
                    closing: true,
                },
                false,
            ),
            // Closed by `endhighlight`, `endraw`: matched by name below.
            Tag::Liquid { name } if LIQUID.contains(&name) => (Tag::Liquid { name }, true),
            _ => continue,
        };
        let mut scan = end;
        let mut found = None;
        while let Some((_, e, t)) = next_tag(text, scan) {
            scan = e;
            let matches = match (&close, &t) {
                (Tag::Hugo { name, .. }, Tag::Hugo { name: n, closing }) => *closing && n == name,
                (Tag::Liquid { name }, Tag::Liquid { name: n }) => {
                    n.strip_prefix("end") == Some(*name)
                }
                _ => false,
            };
            if matches {
                found = Some(e);
                break;
            }
        }
        match (found, unclosed_to_end) {
            (Some(e), _) => {
                out.push(start..e);
                at = e;
            }
            (None, true) => {
                out.push(start..text.len());
                break;
            }
            (None, false) => {}
        }
    }
    out
}

/// The next shortcode or Liquid tag at or after `from`: (start, end, tag).
fn next_tag(text: &str, from: usize) -> Option<(usize, usize, Tag<'_>)> {
    let mut at = from;
    while let Some(i) = text.get(at..)?.find('{') {
        let start = at + i;
        at = start + 1;
        let rest = &text[start..];
        if let Some(inner) = rest
            .strip_prefix("{{<")
            .or_else(|| rest.strip_prefix("{{%"))
        {
            let delim = if rest.as_bytes()[2] == b'<' {
                ">}}"
            } else {
                "%}}"
            };
            let Some(len) = inner.find(delim) else {
                continue;
            };
            let body = inner[..len].trim_start();
            // `{{</* figure */>}}`: a shortcode shown as text, not a call.
            if body.starts_with("/*") {
                at = start + 3 + len + 3;
                continue;
            }
            let (closing, body) = match body.strip_prefix('/') {
                Some(b) => (true, b.trim_start()),
                None => (false, body),
            };
            let end = start + 3 + len + 3;
            return Some((
                start,
                end,
                Tag::Hugo {
                    name: ident(body),
                    closing,
                },
            ));
        }
        if let Some(inner) = rest.strip_prefix("{%") {
            let Some(len) = inner.find("%}") else {
                continue;
            };
            let body = inner[..len].trim_start_matches('-').trim_start();
            let end = start + 2 + len + 2;
            return Some((start, end, Tag::Liquid { name: ident(body) }));
        }
    }
    None
}

fn ident(s: &str) -> &str {
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    &s[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(text: &str) -> Vec<&str> {
        regions(text, 0).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn hugo_highlight_and_code_shortcodes_are_code() {
        let t = "a\n{{< highlight go \"linenos=table\" >}}\n![x](x.png)\n{{< / highlight >}}\nb\n\
                 {{% code lang=\"md\" %}}\n<img src=\"y.png\">\n{{% /code %}}\n";
        assert_eq!(
            inside(t),
            [
                "{{< highlight go \"linenos=table\" >}}\n![x](x.png)\n{{< / highlight >}}",
                "{{% code lang=\"md\" %}}\n<img src=\"y.png\">\n{{% /code %}}"
            ]
        );
    }

    #[test]
    fn other_shortcodes_and_an_unclosed_hugo_one_are_not_code() {
        let t = "{{< figure src=\"a.png\" >}}\n{{< code >}}\n![x](x.png)\n{{</* highlight */>}}";
        assert!(inside(t).is_empty());
    }

    #[test]
    fn jekyll_highlight_and_raw_are_code_and_an_unclosed_one_runs_to_the_end() {
        let t = "{% highlight markdown %}\n![a](a.png)\n{% endhighlight %}\nb\n\
                 {%- raw -%}\n![b]({{ site.baseurl }}/b.png)\n{% endraw %}\nc\n{% raw %}\nd";
        assert_eq!(
            inside(t),
            [
                "{% highlight markdown %}\n![a](a.png)\n{% endhighlight %}",
                "{%- raw -%}\n![b]({{ site.baseurl }}/b.png)\n{% endraw %}",
                "{% raw %}\nd"
            ]
        );
    }

    #[test]
    fn liquid_tags_that_are_not_blocks_are_not_code() {
        let t = "{% include x.html %}\n![a](a.png)\n{% assign y = 1 %}";
        assert!(inside(t).is_empty());
    }
}
