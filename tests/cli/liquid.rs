//! Jekyll's Liquid site paths in a reference definition: `[logo]: {{ site.baseurl }}/x.png`.
//! Jekyll expands Liquid before kramdown reads the page, so the definition is one there and
//! `![Logo][logo]` shows the image, although CommonMark reads a paragraph (the destination has
//! spaces). imglift lifts the definition a Jekyll image uses, and no other.

use crate::support::*;

#[test]
fn a_liquid_destination_in_a_reference_definition_is_lifted_when_an_image_uses_it() {
    let site = Site::empty("content: [.]\nstatic: [.]\nexclude: [\"store/**\"]\n");
    let png = fixture_bytes("hugo/static/img/diagram.png");
    site.write("assets/logo.png", &png);
    site.write("assets/b c.png", fixture_bytes("hugo/static/img/a.gif"));
    site.write(
        "assets/unused.png",
        fixture_bytes("hugo/static/img/photo.jpg"),
    );
    let page = "\
# Post

![Logo][logo] and ![Chart][] and [a link][unused]

[logo]: {{ site.baseurl }}/assets/logo.png
[Chart]: {{ \"/assets/b c.png\" | relative_url }} \"The chart\"
[unused]: {{ site.baseurl }}/assets/unused.png

    [logo]: {{ site.baseurl }}/assets/code.png

```
![x][logo]
```
";
    site.write("_posts/2024-01-01-post.md", page);
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stdout),
        [
            "_posts/2024-01-01-post.md:5:9",
            "_posts/2024-01-01-post.md:6:10"
        ],
        "{}",
        run.dump()
    );
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains(
            "imglift sync: 1 page, 2 references rewritten in 1 page; 2 images: 2 uploaded"
        ),
        "{}",
        run.dump()
    );
    let after = site.read_string("_posts/2024-01-01-post.md");
    let changed: Vec<(&str, &str)> = page
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 2, "{after}");
    let logo = lifted_keys(changed[0].1);
    let chart = lifted_keys(changed[1].1);
    assert!(
        changed[0].1.starts_with("[logo]: https://img.example.com/")
            && logo.len() == 1
            && logo[0].ends_with("/logo.png")
            && site.read(format!("store/{}", logo[0])) == png,
        "{after}"
    );
    assert!(
        changed[1]
            .1
            .starts_with("[Chart]: https://img.example.com/")
            && changed[1].1.ends_with(" \"The chart\"")
            && chart.len() == 1
            && chart[0].ends_with("/b c.png"),
        "{after}"
    );
    // The whole Liquid expression was replaced: nothing of it is left on those lines.
    assert!(!changed.iter().any(|(_, b)| b.contains("{{")), "{after}");
    let again = site.run(&["sync"]);
    again.expect_code(0);
    assert_eq!(site.read_string("_posts/2024-01-01-post.md"), after);
}
