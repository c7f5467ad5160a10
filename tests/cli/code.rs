//! Snippets inside the generators' code shortcodes and blocks are code: Hugo's
//! `{{< highlight >}}` / `{{< code >}}` and Jekyll's `{% highlight %}` / `{% raw %}`. Nothing in
//! them is reported, uploaded or rewritten; the image after them is.

use crate::support::*;

const PAGE: &str = "\
# Snippets

{{< highlight markdown >}}
![Shown as code](/img/missing.png)
<img src=\"/img/a.png\">
{{< /highlight >}}

{{% code lang=\"md\" %}}
![Also code](/img/a.png)
{{% /code %}}

{% highlight markdown %}
![Liquid code](/img/gone.png)
{% endhighlight %}

{% raw %}
![Raw]({{ site.baseurl }}/img/a.png)
{% endraw %}

![Real](/img/a.png)
";

#[test]
fn images_inside_highlight_code_and_raw_blocks_are_left_alone() {
    let site = Site::empty("");
    site.write(
        "static/img/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write("content/post.md", PAGE);
    let run = site.run(&["check"]);
    run.expect_code(1);
    // Only the real image is pending; no "not found" for the snippets.
    assert_eq!(
        Run::positions(&run.stdout),
        ["content/post.md:20:9"],
        "{}",
        run.dump()
    );
    assert!(Run::positions(&run.stderr).is_empty(), "{}", run.dump());

    site.run(&["sync"]).expect_code(0);
    let after = site.read_string("content/post.md");
    let changed: Vec<(&str, &str)> = PAGE
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].0 == "![Real](/img/a.png)" && changed[0].1.contains(PUBLIC_URL));
}
